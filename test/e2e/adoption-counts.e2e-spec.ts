import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { AttemptLimiter } from '../../src/attempts/attempt-limiter.service';
import { AdoptionCounts, SecondFactors } from '../../src/two-factor/factors/second-factors.service';
import { OrganizersService } from '../../src/organizers/organizers.service';
import { PasskeyFactor } from '../../src/two-factor/passkeys/passkey.factor';
import { User } from '../../src/users/user.entity';
import { adminOf, pressAndConfirm, wrongCode } from '../utils/admin';
import { csrfFrom, Person } from '../utils/agent';
import { lastMailTo, linkIn } from '../utils/mail';
import { planProblems, plansOf } from '../utils/query-plan';
import { SoftAuthenticator } from '../utils/soft-authenticator';
import { createTestApp, createUser, DEFAULT_PASSWORD, TestApp } from '../utils/test-app';

const ORIGIN = 'http://localhost:3000';
const MINUTE = 60_000;
const FACTOR_TABLES = [
  'users',
  'totp_devices',
  'passkeys',
  'recovery_codes',
  'attempt_counters',
  'organizer_user_counts',
];

/**
 * Issue 16: the adoption counts come from a row that database triggers keep and from the few
 * users locked now, not from a scan of the organizer. After every kind of change (pages, the
 * policy, locks by the clock, raw SQL) they equal the counts of a full scan that puts every
 * user through the one rule, and users.has_second_factor equals "has a confirmed factor".
 */
describe('2FA adoption counts kept by the database (issue 16)', () => {
  let t: TestApp;
  let dataSource: DataSource;
  let factors: SecondFactors;

  beforeAll(async () => {
    t = await createTestApp();
    dataSource = t.get(DataSource);
    factors = t.get(SecondFactors);
  });
  afterAll(async () => t.close());

  /** The reference: every user of the organizer read one by one and put through the one rule (SecondFactors.state). */
  async function scanned(organizerId: string): Promise<AdoptionCounts> {
    const counts: AdoptionCounts = {
      total: 0,
      active: 0,
      pending: 0,
      locked: 0,
      off: 0,
      notSetUp: 0,
      accountLocked: 0,
    };
    for (const user of await dataSource.getRepository(User).findBy({ organizerId })) {
      counts.total++;
      counts[await factors.state(user)]++;
      if (!(await factors.hasConfirmed(user))) counts.notSetUp++;
      if (user.accountLockedAt) counts.accountLocked++;
    }
    return counts;
  }

  /** Every user whose has_second_factor differs from SecondFactors.confirmedSql (none, when the triggers keep it). */
  async function staleColumns(): Promise<{ id: string; column: number; confirmed: number }[]> {
    const rows: { id: string; column: string | number; confirmed: string | number }[] = await dataSource.query(
      `SELECT u."id" AS "id", CASE WHEN u."has_second_factor" THEN 1 ELSE 0 END AS "column", ` +
        `CASE WHEN ${factors.confirmedSql('u."id"')} THEN 1 ELSE 0 END AS "confirmed" FROM "users" u`,
    );
    return rows
      .map((row) => ({ id: row.id, column: Number(row.column), confirmed: Number(row.confirmed) }))
      .filter((row) => row.column !== row.confirmed);
  }

  /** After `step`: adoption equals the scan for each organizer, and no has_second_factor is stale. */
  async function expectAgree(step: string, organizerIds: string[]): Promise<AdoptionCounts[]> {
    const all: AdoptionCounts[] = [];
    for (const organizerId of organizerIds) {
      const counts = await factors.adoption(organizerId);
      expect({ step, organizerId, counts }).toEqual({ step, organizerId, counts: await scanned(organizerId) });
      all.push(counts);
    }
    expect({ step, stale: await staleColumns() }).toEqual({ step, stale: [] });
    return all;
  }

  const organizerIdOf = async (name: string) => (await t.get(OrganizersService).findByName(name))!.id;
  const reload = (user: User) => dataSource.getRepository(User).findOneByOrFail({ id: user.id });

  async function withAuthenticator(organizer: string, email?: string) {
    const user = await createUser(t, { organizer, email, twoFactor: true });
    const person = new Person(t.server);
    await person.login(user.email, DEFAULT_PASSWORD);
    const { secret } = await person.setUpTwoFactor(t.clock);
    return { user, person, secret };
  }

  async function addPasskey(person: Person, name: string) {
    const token = csrfFrom((await person.get('/account')).text);
    const answer = await person.agent
      .post('/account/passkeys/options')
      .type('form')
      .send({ _csrf: token })
      .redirects(0);
    if (!answer.body.options)
      throw new Error(
        `passkey options answered ${answer.status} ${JSON.stringify(answer.body)} ${answer.text?.slice(0, 300)}`,
      );
    const response = new SoftAuthenticator().register(answer.body.options, ORIGIN);
    const added = await person.post(
      '/account/passkeys',
      { response: JSON.stringify(response), passkeyName: name },
      '/account',
    );
    expect(added.status).toBe(303);
  }

  function savePolicy(person: Person, requireTwoFactor: boolean, graceDays: string) {
    return person.submit('/admin/organizer', '/admin/organizer', {
      ...(requireTwoFactor ? { requireTwoFactor: 'on' } : {}),
      graceDays,
    });
  }

  /** Five wrong codes at the second step: the code pool locks for 15 minutes. */
  async function lockCodes(email: string, secret: string) {
    const guesser = new Person(t.server);
    await guesser.login(email, DEFAULT_PASSWORD);
    for (let i = 0; i < 5; i++)
      await guesser.submit('/2fa/verify', '/2fa/verify', { code: wrongCode(secret, t.clock) });
  }

  /** Five failures in a user's code pool, through the limiter (for users who cannot reach the code page). */
  async function lockPool(user: User) {
    const limiter = t.get(AttemptLimiter);
    for (let i = 0; i < 5; i++) await limiter.guard([limiter.codeKey(user.id)], async () => ({ ok: false, value: 0 }));
  }

  it('equal a full scan after every kind of change, in every organizer', async () => {
    const ORG = 'Counts Org';
    const OTHER = 'Counts Other Org';
    const { person: admin } = await adminOf(t, ORG, 'Cora Counts');
    const orgs = [await organizerIdOf(ORG)];
    await expectAgree('an admin alone', orgs);

    const off = await createUser(t, { organizer: ORG, email: 'off@counts.test', twoFactor: false });
    const pending = await createUser(t, { organizer: ORG, email: 'pending@counts.test', twoFactor: true });
    await createUser(t, { organizer: ORG, email: 'invited@counts.test', twoFactor: false, password: null });
    await createUser(t, { organizer: OTHER, email: 'elsewhere@counts.test', twoFactor: true });
    orgs.push(await organizerIdOf(OTHER));
    await expectAgree('users created', orgs);

    const active = await withAuthenticator(ORG, 'active@counts.test');
    const guarded = await withAuthenticator(ORG, 'guarded@counts.test');
    await withAuthenticator(OTHER, 'other-active@counts.test');
    const counts = await expectAgree('authenticators set up', orgs);
    expect(counts[0]).toMatchObject({ total: 6, active: 2, pending: 1, off: 3, notSetUp: 4 });

    // A passkey alone (2FA off, then a passkey), a second one, the first removed.
    const solo = await createUser(t, { organizer: ORG, email: 'solo@counts.test', twoFactor: false });
    const soloBrowser = new Person(t.server);
    await soloBrowser.login(solo.email, DEFAULT_PASSWORD);
    await addPasskey(soloBrowser, 'First key');
    await expectAgree('a passkey alone', orgs);
    // (Past the first, adding or removing one asks "Confirm it is you": the service does it here.)
    const passkeys = t.get(PasskeyFactor);
    const [first] = await passkeys.of(solo.id);
    await passkeys.add({
      userId: solo.id,
      credentialId: `second-${solo.id}`,
      publicKey: 'key',
      counter: 0,
      transports: '[]',
      name: 'Second key',
      createdAt: t.clock.now(),
      lastUsedAt: null,
    });
    await expectAgree('a second passkey', orgs);
    expect(await passkeys.remove(solo.id, first.id)).not.toBeNull();
    expect((await expectAgree('one of two passkeys removed', orgs))[0]).toMatchObject({ active: 3 });

    // Resend QR: every factor removed, 2FA still required (pending).
    const qr = await pressAndConfirm(
      admin,
      `/admin/users/${active.user.id}`,
      `/admin/users/${active.user.id}/resend-qr`,
    );
    expect(qr.result.status).toBe(303);
    await expectAgree('Resend QR', orgs);

    // Disable 2FA of the pending user, Enable 2FA of the off one.
    const twoFactor = (user: User, choice: 'enable' | 'disable') =>
      pressAndConfirm(admin, `/admin/users/${user.id}`, `/admin/users/${user.id}/two-factor`, { twoFactor: choice });
    expect((await twoFactor(pending, 'disable')).result.status).toBe(303);
    await expectAgree('Disable 2FA', orgs);
    expect((await twoFactor(off, 'enable')).result.status).toBe(303);
    await expectAgree('Enable 2FA', orgs);

    // Wrong codes until locked: a confirmed user, a required one without a factor (`off`, enabled above), and
    // one whose 2FA is off (`pending`, disabled above), who never reads "locked".
    t.clock.advance(MINUTE);
    await lockCodes(guarded.user.email, guarded.secret);
    await lockPool(off);
    await lockPool(pending);
    const locked = await expectAgree('code locks', orgs);
    expect(locked[0]).toMatchObject({ locked: 2 });

    // The organizer policy on: everyone without a factor gets a deadline (pending, the off ones too).
    expect((await savePolicy(admin, true, '7')).status).toBe(303);
    expect((await expectAgree('policy on', orgs))[0]).toMatchObject({ off: 0, locked: 3 });
    expect((await savePolicy(admin, true, '2')).status).toBe(303);
    await expectAgree('policy shortened', orgs);
    expect((await savePolicy(admin, false, '2')).status).toBe(303);
    expect((await expectAgree('policy off', orgs))[0]).toMatchObject({ locked: 2 });

    // The locks end by the clock alone.
    t.clock.advance(16 * MINUTE);
    expect((await expectAgree('locks expired', orgs))[0]).toMatchObject({ locked: 0 });

    // "This wasn't me", then Unlock account.
    const notMe = linkIn(await lastMailTo(t, guarded.user.email, /set up/), '/not-me/');
    expect((await new Person(t.server).submit(notMe, notMe, {})).status).toBe(200);
    expect((await expectAgree('This wasn’t me', orgs))[0]).toMatchObject({ accountLocked: 1 });
    const unlock = await pressAndConfirm(
      admin,
      `/admin/users/${guarded.user.id}`,
      `/admin/users/${guarded.user.id}/unlock`,
    );
    expect(unlock.result.status).toBe(303);
    expect((await expectAgree('Unlock account', orgs))[0]).toMatchObject({ accountLocked: 0 });

    // Writes outside the app's services count too: a bulk UPDATE, a user moved, factors and users deleted.
    await dataSource.query(
      `UPDATE "users" SET "two_factor_required" = NOT "two_factor_required" WHERE "organizer_id" = '${orgs[0]}'`,
    );
    await expectAgree('bulk update in SQL', orgs);
    await dataSource.query(`UPDATE "users" SET "organizer_id" = '${orgs[1]}' WHERE "id" = '${guarded.user.id}'`);
    await expectAgree('user moved to another organizer', orgs);
    await dataSource.query(`DELETE FROM "totp_devices" WHERE "user_id" = '${guarded.user.id}'`);
    await expectAgree('authenticator deleted in SQL', orgs);
    await dataSource.getRepository(User).delete({ id: solo.id });
    await dataSource.getRepository(User).delete({ id: off.id });
    const end = await expectAgree('users deleted', orgs);
    expect(end[0].total).toBe(await dataSource.getRepository(User).countBy({ organizerId: orgs[0] }));
    expect((await reload(guarded.user)).hasSecondFactor).toBe(false);
  });

  it('stay exact under 40 requests at once changing users of one organizer, and a policy change among them', async () => {
    const ORG = 'Counts Busy Org';
    const { person: admin } = await adminOf(t, ORG, 'Bea Busy');
    const organizerId = await organizerIdOf(ORG);
    const togglers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => createUser(t, { organizer: ORG, twoFactor: i % 2 === 0 })),
    );
    const setters = await Promise.all(
      Array.from({ length: 10 }, () => createUser(t, { organizer: ORG, twoFactor: true })),
    );
    const signers = await Promise.all(
      Array.from({ length: 10 }, () => createUser(t, { organizer: ORG, twoFactor: false })),
    );
    await expectAgree('before', [organizerId]);

    // Each browser opens its page first, so that the posts themselves go out together.
    const token = csrfFrom((await admin.get(`/admin/users/${togglers[0].id}`)).text);
    const policyPage = csrfFrom((await admin.get('/admin/organizer')).text);
    const setupBrowsers = await Promise.all(
      setters.map(async (user) => {
        const person = new Person(t.server);
        await person.login(user.email, DEFAULT_PASSWORD);
        return person;
      }),
    );
    const answers = await Promise.all([
      ...togglers.map((user) =>
        admin.agent
          .post(`/admin/users/${user.id}/two-factor`)
          .type('form')
          .send({ twoFactor: user.twoFactorRequired ? 'disable' : 'enable', confirm: 'yes', _csrf: token })
          .redirects(0),
      ),
      admin.agent
        .post('/admin/organizer')
        .type('form')
        .send({ requireTwoFactor: 'on', graceDays: '3', _csrf: policyPage })
        .redirects(0),
      ...setupBrowsers.map((person) => person.setUpTwoFactor(t.clock).then(() => ({ status: 303 }))),
      ...signers.map((user) => new Person(t.server).login(user.email, DEFAULT_PASSWORD)),
    ]);
    // No deadlock (PostgreSQL 40P01) nor any other failure: every answer is a page or a redirect.
    expect(answers.map((answer) => answer.status).filter((status) => status >= 500)).toEqual([]);
    const counts = (await expectAgree('after the burst', [organizerId]))[0];
    expect(counts.total).toBe(41);
    expect(counts.active).toBe(10);

    // And the policy turned off while Enable 2FA goes on for the rest.
    const after = await Promise.all([
      admin.agent.post('/admin/organizer').type('form').send({ graceDays: '3', _csrf: policyPage }).redirects(0),
      ...togglers.map((user) =>
        admin.agent
          .post(`/admin/users/${user.id}/two-factor`)
          .type('form')
          .send({ twoFactor: 'enable', confirm: 'yes', _csrf: token })
          .redirects(0),
      ),
    ]);
    expect(after.map((answer) => answer.status).filter((status) => status >= 500)).toEqual([]);
    await expectAgree('after the second burst', [organizerId]);
  });

  describe('query plans over 2,000 users', () => {
    let organizerId: string;
    let ids: string[];

    beforeAll(async () => {
      const organizer = await t.get(OrganizersService).create('Counts Plan Org');
      organizerId = organizer.id;
      await seed(dataSource, organizerId, 2000, t.clock.nowMs());
      ids = (await dataSource.getRepository(User).findBy({ organizerId })).map((user) => user.id);
      await dataSource.query('ANALYZE');
    });

    it('adoption reads the counter row and the users locked now, without a scan', async () => {
      await expectAgree('seeded in bulk', [organizerId]);
      const plans = await plansOf(t, FACTOR_TABLES, () => factors.adoption(organizerId));
      expect(plans).toHaveLength(2);
      for (const query of plans)
        expect({ sql: query.sql, problems: planProblems(query, FACTOR_TABLES) }).toEqual({
          sql: query.sql,
          problems: [],
        });
      // The locked users are found from the lock index, each user then by its primary key.
      const locked = plans.find((query) => query.sql.includes('attempt_counters'))!;
      expect(locked.plan.join('\n')).toContain('IDX_attempt_counters_locked_until');
      expect(locked.plan.join('\n')).toMatch(
        /SEARCH u USING INDEX sqlite_autoindex_users_1 \(id=\?\)|using "PK_\w+" on users u/,
      );
      expect(locked.plan.join('\n')).not.toMatch(/(INDEX|using) "?IDX_[0-9a-f]{20,}/);
    });

    it('withConfirmed and kindsOf read each kind by its user_id index, one select per kind', async () => {
      const page = ids.slice(0, 50);
      for (const work of [() => factors.withConfirmed(page), () => factors.kindsOf(page)]) {
        const plans = await plansOf(t, FACTOR_TABLES, work);
        expect(plans.map((query) => /FROM "(\w+)"/.exec(query.sql)?.[1]).sort()).toEqual(['passkeys', 'totp_devices']);
        for (const query of plans)
          expect({ sql: query.sql, problems: planProblems(query, FACTOR_TABLES) }).toEqual({
            sql: query.sql,
            problems: [],
          });
      }
      const confirmed = await factors.withConfirmed(page);
      const kinds = await factors.kindsOf(page);
      for (const id of page) {
        const has = await factors.hasConfirmed({ id });
        expect({ id, withConfirmed: confirmed.has(id), kinds: kinds.get(id)!.length > 0 }).toEqual({
          id,
          withConfirmed: has,
          kinds: has,
        });
      }
    });
  });
});

/**
 * `count` users in the organizer in bulk SQL: every third with an authenticator, every fifth
 * with a passkey, every seventh required without a factor; every tenth with a code pool that
 * locked once and has ended, and three locked now (confirmed, off, required).
 */
async function seed(dataSource: DataSource, organizerId: string, count: number, now: number): Promise<void> {
  const users: string[] = [];
  const devices: string[] = [];
  const passkeys: string[] = [];
  const pools: string[] = [];
  for (let i = 0; i < count; i++) {
    const id = randomUUID();
    const required = i % 7 === 0 ? 'true' : 'false';
    users.push(
      `('${id}', '${organizerId}', 'seed${i}-${id.slice(0, 8)}@plan.test', 'Seed ${i}', 'member', NULL, true, ${required}, 'stamp', ${now})`,
    );
    if (i % 3 === 0) devices.push(`('${randomUUID()}', '${id}', 'active', 'sealed', NULL, ${now}, ${now})`);
    if (i % 5 === 0) passkeys.push(`('${randomUUID()}', '${id}', 'cred-${id}', 'key', 0, '[]', 'Key', ${now}, NULL)`);
    const lockedNow = i < 2 || i === 7;
    if (i % 10 === 0 || lockedNow) {
      const until = lockedNow ? now + 10 * MINUTE : now - 10 * MINUTE;
      pools.push(`('code:${id}', '${id}', 0, 0, ${now}, ${until}, ${now})`);
    }
  }
  const insert = async (head: string, rows: string[]) => {
    for (let i = 0; i < rows.length; i += 500)
      await dataSource.query(`${head} VALUES ${rows.slice(i, i + 500).join(', ')}`);
  };
  await insert(
    'INSERT INTO "users" ("id", "organizer_id", "email", "name", "role", "password_hash", "is_active", "two_factor_required", "security_stamp", "created_at")',
    users,
  );
  await insert(
    'INSERT INTO "totp_devices" ("id", "user_id", "slot", "secret_enc", "last_step", "confirmed_at", "created_at")',
    devices,
  );
  await insert(
    'INSERT INTO "passkeys" ("id", "user_id", "credential_id", "public_key", "counter", "transports", "name", "created_at", "last_used_at")',
    passkeys,
  );
  await insert(
    'INSERT INTO "attempt_counters" ("key", "user_id", "reserved_count", "failed_count", "window_started_at", "locked_until", "updated_at")',
    pools,
  );
}
