import { DataSource } from 'typeorm';
import { KeyRing } from '../../src/common/crypto/key-ring';
import { RecoveryCode } from '../../src/two-factor/recovery-code.entity';
import { RecoveryCodesService } from '../../src/two-factor/recovery-codes.service';
import { generateTotpSecret } from '../../src/two-factor/totp';
import { User } from '../../src/users/user.entity';
import { codeAt, csrfFrom, manualKeyFrom, Person } from '../utils/agent';
import { stateOf, totpDevices } from '../utils/factors';
import { createTestApp, createUser, DEFAULT_PASSWORD, TestApp } from '../utils/test-app';

/**
 * Issue 12's data move (MoveTotpToDevices): a database made by the migrations before it,
 * with users in every state (TOTP columns on `users`), migrates; every factor still works
 * (the code of the old secret signs in, the shown secret is the same, a reset still needs
 * its link); nothing referencing `users` is lost while SQLite rebuilds the table; and down
 * brings the old columns back with their values. Runs on PostgreSQL too (npm run test:postgres).
 */
describe('MoveTotpToDevices with existing rows', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.close());

  const STEP = 30_000;

  it('moves every state, keeps every journey working, and reverts', async () => {
    const db = t.get(DataSource);
    const keys = t.get(KeyRing);
    // Raw SQL: the old columns are no entity's anymore ($n on PostgreSQL, ? on SQLite).
    const mark = (n: number) => (db.options.type === 'postgres' ? `$${n}` : '?');
    const old = (id: string, columns: Record<string, unknown>) => {
      const names = Object.keys(columns);
      const set = names.map((name, i) => `"${name}" = ${mark(i + 1)}`).join(', ');
      return db.query(`UPDATE "users" SET ${set} WHERE "id" = ${mark(names.length + 1)}`, [
        ...Object.values(columns),
        id,
      ]);
    };
    const seal = (id: string, secret: string) => keys.encrypt(secret, `totp:${id}`);
    const now = t.clock.nowMs();

    const off = await createUser(t, { email: 'off@move.test', twoFactor: false });
    const pending = await createUser(t, { email: 'pending@move.test', twoFactor: true });
    const shown = await createUser(t, { email: 'shown@move.test', twoFactor: true });
    const active = await createUser(t, { email: 'active@move.test', twoFactor: true });
    const replacing = await createUser(t, { email: 'replacing@move.test', twoFactor: true });
    const reset = await createUser(t, { email: 'reset@move.test', twoFactor: true });
    // Rows in other tables that point at users, as a real database has them.
    await db.transaction((manager) => t.get(RecoveryCodesService).regenerate(active.id, manager));

    // Back to the schema before the move (later migrations undone first), and the factors as it stored them.
    await undoThrough(db, 'MoveTotpToDevices1764600000000');
    const shownSecret = generateTotpSecret();
    await old(shown.id, { totp_pending_secret_enc: seal(shown.id, shownSecret) });
    const activeSecret = generateTotpSecret();
    await old(active.id, {
      totp_secret_enc: seal(active.id, activeSecret),
      totp_confirmed_at: now - 86_400_000,
      totp_last_step: Math.floor(now / STEP) - 10,
    });
    const [replacingOld, replacingNew] = [generateTotpSecret(), generateTotpSecret()];
    await old(replacing.id, {
      totp_secret_enc: seal(replacing.id, replacingOld),
      totp_pending_secret_enc: seal(replacing.id, replacingNew),
      totp_confirmed_at: now - 3_600_000,
      totp_last_step: null,
    });
    await old(reset.id, { totp_reset_at: now - 60_000 });

    await db.runMigrations();

    expect(await totpDevices(t, off.id)).toEqual({ active: null, pending: null });
    expect(await totpDevices(t, pending.id)).toEqual({ active: null, pending: null });
    expect((await totpDevices(t, shown.id)).pending).not.toBeNull();
    expect((await totpDevices(t, active.id)).active).toMatchObject({
      lastStep: Math.floor(now / STEP) - 10,
      confirmedAt: new Date(now - 86_400_000),
    });
    const replacingDevices = await totpDevices(t, replacing.id);
    expect([replacingDevices.active, replacingDevices.pending].every(Boolean)).toBe(true);
    expect((await db.getRepository(User).findOneByOrFail({ id: reset.id })).secondFactorResetAt).toEqual(
      new Date(now - 60_000),
    );
    expect(await db.getRepository(RecoveryCode).countBy({ userId: active.id })).toBe(10);
    const states = await Promise.all(
      [off, pending, shown, active, replacing, reset].map((user) => stateOf(t, user.id)),
    );
    expect(states).toEqual(['off', 'pending', 'pending', 'active', 'active', 'pending']);

    // Journeys on the moved rows: the old secret's code signs in; the shown secret is the one shown; a reset still needs its link.
    const activePerson = new Person(t.server);
    expect((await activePerson.login(active.email, DEFAULT_PASSWORD)).headers.location).toBe('/2fa/verify');
    expect(
      (await activePerson.submit('/2fa/verify', '/2fa/verify', { code: codeAt(activeSecret, t.clock) })).headers
        .location,
    ).toBe('/');
    const shownPerson = new Person(t.server);
    expect((await shownPerson.login(shown.email, DEFAULT_PASSWORD)).headers.location).toBe('/2fa/setup');
    const setup = await shownPerson.get('/2fa/setup');
    expect(manualKeyFrom(setup.text)).toBe(shownSecret);
    const confirm = await shownPerson.agent
      .post('/2fa/setup')
      .type('form')
      .send({ code: codeAt(shownSecret, t.clock), _csrf: csrfFrom(setup.text) })
      .redirects(0);
    expect(confirm.headers.location).toBe('/2fa/recovery-codes');
    const replacingPerson = new Person(t.server);
    await replacingPerson.login(replacing.email, DEFAULT_PASSWORD);
    expect(
      (await replacingPerson.submit('/2fa/verify', '/2fa/verify', { code: codeAt(replacingOld, t.clock) })).headers
        .location,
    ).toBe('/');
    const resetPerson = new Person(t.server);
    await resetPerson.login(reset.email, DEFAULT_PASSWORD);
    expect((await resetPerson.get('/2fa/setup')).text).toContain('Check your email');

    // Down brings the columns back with the factors in them.
    await undoThrough(db, 'MoveTotpToDevices1764600000000');
    const [row] = await db.query(
      `SELECT totp_secret_enc, totp_last_step, totp_pending_secret_enc FROM users WHERE email = 'replacing@move.test'`,
    );
    expect(keys.decrypt(row.totp_secret_enc, `totp:${replacing.id}`)).toBe(replacingOld);
    expect(keys.decrypt(row.totp_pending_secret_enc, `totp:${replacing.id}`)).toBe(replacingNew);
    await db.runMigrations();
    expect((await totpDevices(t, replacing.id)).active).not.toBeNull();
  });
});

/** Undoes the migrations down to and including `name`, newest first. */
async function undoThrough(db: DataSource, name: string): Promise<void> {
  for (;;) {
    const [last] = await db.query('SELECT "name" FROM "migrations" ORDER BY "id" DESC LIMIT 1');
    await db.undoLastMigration();
    if (last.name === name) return;
  }
}
