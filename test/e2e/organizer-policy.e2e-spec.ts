import passport from 'passport';
import { AuditService } from '../../src/audit/audit.service';
import { AuditEvent } from '../../src/audit/audit-event.entity';
import { LocalStrategy } from '../../src/auth/local.strategy';
import { runCli } from '../../src/cli';
import { OrganizersService } from '../../src/organizers/organizers.service';
import { TwoFactorAdminService } from '../../src/two-factor/two-factor-admin.service';
import { User } from '../../src/users/user.entity';
import { UsersService } from '../../src/users/users.service';
import { DataSource } from 'typeorm';
import { csrfFrom, Person } from '../utils/agent';
import { adminOf, hasButton, hrefsIn, pressAndConfirm, signedIn } from '../utils/admin';
import { createTestApp, createUser, DEFAULT_PASSWORD, TestApp, testEnv } from '../utils/test-app';
import { hasFactor, owed } from '../utils/factors';

const DAY = 24 * 60 * 60 * 1000;
const PAGE = '/admin/organizer';

// Several argon2id hashes (OWASP parameters) per test: give a loaded machine room.
jest.setTimeout(60_000);

describe('organizer 2FA policy (/admin/organizer)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.close());

  const reload = (user: User) => t.get(UsersService).getById(user.id);
  const deadlineOf = async (user: User) => (await reload(user)).twoFactorDeadline?.getTime() ?? null;
  const organizerOf = async (name: string) => t.get(OrganizersService).getByName(name);

  /** Ticks (or not) the checkbox, types the grace period and clicks Save policy. */
  function savePolicy(person: Person, requireTwoFactor: boolean, graceDays: string) {
    return person.submit(PAGE, PAGE, { ...(requireTwoFactor ? { requireTwoFactor: 'on' } : {}), graceDays });
  }

  /** The flash message shown after a redirect (the page it was set for). */
  async function flashAt(person: Person, path: string): Promise<string> {
    const page = await person.get(path);
    return page.text.match(/<p class="flash flash-\w+"[^>]*>([\s\S]*?)<\/p>/)?.[1] ?? '';
  }

  async function policyEvents(organizerId: string): Promise<AuditEvent[]> {
    return t
      .get(DataSource)
      .getRepository(AuditEvent)
      .find({ where: { organizerId, type: 'organizer.policy_changed' }, order: { createdAt: 'ASC' } });
  }

  describe('GET /admin/organizer', () => {
    it('shows admins the checkbox and the grace period, found by their labels, with the current values', async () => {
      const { person } = await adminOf(t, 'Policy Page Org', 'Pia Admin');
      const page = await person.get(PAGE);
      expect(page.status).toBe(200);
      expect(page.text).toMatch(/<label for="requireTwoFactor">Require 2FA for everyone in this organizer<\/label>/);
      expect(page.text).toMatch(/<input id="requireTwoFactor" name="requireTwoFactor" type="checkbox"/);
      expect(page.text).toMatch(/<label for="graceDays">Grace period \(days\)<\/label>/);
      expect(page.text).toMatch(/<input id="graceDays" name="graceDays" type="number"[^>]*value="0"/);
      expect(page.text).not.toMatch(/id="requireTwoFactor"[^>]*checked/);
      expect(hasButton(page.text, PAGE, 'Save policy')).toBe(true);
      expect(page.text).toContain('Policy Page Org');
    });

    it('is linked from the users list', async () => {
      const { person } = await adminOf(t, 'Policy Link Org');
      expect(hrefsIn((await person.get('/admin/users')).text)).toContain(PAGE);
    });

    it('is 403 for a member, and a member’s POST changes nothing', async () => {
      const org = 'Policy Member Org';
      const { person: admin } = await adminOf(t, org);
      const member = await createUser(t, { organizer: org, twoFactor: false });
      const browser = await signedIn(t, member);
      expect((await browser.get(PAGE)).status).toBe(403);
      const token = csrfFrom((await browser.get('/')).text);
      const posted = await browser.agent
        .post(PAGE)
        .type('form')
        .send({ requireTwoFactor: 'on', graceDays: '3', _csrf: token })
        .redirects(0);
      expect(posted.status).toBe(403);
      expect((await organizerOf(org)).requireTwoFactor).toBe(false);
      expect(await deadlineOf(member)).toBeNull();
      expect((await admin.get(PAGE)).status).toBe(200);
    });
  });

  describe('POST /admin/organizer', () => {
    it('turning it on gives one deadline, now + grace, to each user without an active authenticator, in this organizer only', async () => {
      const org = 'Policy On Org';
      const { admin, person } = await adminOf(t, org, 'Olga Admin');
      const off = await createUser(t, { organizer: org, name: 'Otto Off', twoFactor: false });
      const pending = await createUser(t, { organizer: org, name: 'Pam Pending', twoFactor: true });
      const invited = await createUser(t, { organizer: org, name: 'Ida Invited', password: null, twoFactor: false });
      const active = await createUser(t, { organizer: org, name: 'Abe Active', twoFactor: true });
      const abe = new Person(t.server);
      await abe.login(active.email, DEFAULT_PASSWORD);
      await abe.setUpTwoFactor(t.clock);
      const stranger = await createUser(t, { organizer: 'Policy Elsewhere Org', twoFactor: false });

      t.clock.advance(60_000);
      const now = t.clock.nowMs();
      const saved = await savePolicy(person, true, '7');
      expect(saved.status).toBe(303);
      expect(saved.headers.location).toBe(PAGE);
      expect(await flashAt(person, PAGE)).toMatch(
        /now required for everyone.*4 users without an authenticator app must set one up within 7 days/,
      );

      const expected = now + 7 * DAY;
      expect(await deadlineOf(off)).toBe(expected);
      expect(await deadlineOf(pending)).toBe(expected);
      expect(await deadlineOf(invited)).toBe(expected);
      expect(await deadlineOf(admin)).toBe(expected);
      expect(await deadlineOf(active)).toBeNull();
      expect(await deadlineOf(stranger)).toBeNull();

      const organizer = await organizerOf(org);
      expect(organizer.requireTwoFactor).toBe(true);
      expect(organizer.twoFactorGraceDays).toBe(7);
      // The users' own setting is untouched: the deadline is what makes the factor owed.
      expect((await reload(off)).twoFactorRequired).toBe(false);
      expect(await owed(t, off.id, new Date(expected - 1))).toBe(false);
      expect(await owed(t, off.id, new Date(expected))).toBe(true);

      const [event] = await policyEvents(organizer.id);
      expect(event.actorId).toBe(admin.id);
      expect(JSON.parse(event.detail!)).toMatchObject({ requireTwoFactor: 'on', graceDays: 7, started: 4 });

      // The admins' words: a user the policy covers is `Pending setup`, not `Off`.
      const page = await person.get(`/admin/users/${off.id}`);
      expect(page.text).toMatch(/id="two-factor-state">Pending setup</);
      const form = await person.get(PAGE);
      expect(form.text).toMatch(/id="requireTwoFactor"[^>]*checked/);
      expect(form.text).toMatch(/id="graceDays"[^>]*value="7"/);
      expect(form.text).toContain('Last changed');
    });

    it('applies a shorter grace period at once, and never extends a deadline with a longer one', async () => {
      const org = 'Policy Grace Org';
      const { admin } = await adminOf(t, org);
      let person = await signedIn(t, admin);
      const user = await createUser(t, { organizer: org, twoFactor: false });

      const start = t.clock.nowMs();
      await savePolicy(person, true, '10');
      expect(await deadlineOf(user)).toBe(start + 10 * DAY);

      // Sessions end after 30 idle minutes: the admin signs in again each day.
      t.clock.advance(DAY);
      person = await signedIn(t, admin);
      const dayTwo = t.clock.nowMs();
      await savePolicy(person, true, '3');
      expect(await deadlineOf(user)).toBe(dayTwo + 3 * DAY);
      // Two: the user and the admin, who has no authenticator either.
      expect(await flashAt(person, PAGE)).toMatch(/shortened to 3 days: 2 deadlines brought forward/);

      await savePolicy(person, true, '30');
      expect(await deadlineOf(user)).toBe(dayTwo + 3 * DAY);
      expect(await flashAt(person, PAGE)).toMatch(/never extended/);

      // Shorter than before, but later than the deadline already given: the earlier one stays.
      t.clock.advance(DAY);
      person = await signedIn(t, admin);
      await savePolicy(person, true, '5');
      expect(await deadlineOf(user)).toBe(dayTwo + 3 * DAY);

      await savePolicy(person, true, '0');
      expect(await deadlineOf(user)).toBe(t.clock.nowMs());
      expect(await owed(t, user.id, t.clock.now())).toBe(true);
    });

    it('turning it off clears every deadline of the organizer, and no other organizer’s', async () => {
      const { person: adminA } = await adminOf(t, 'Policy Off Org A');
      const { person: adminB } = await adminOf(t, 'Policy Off Org B');
      const a = await createUser(t, { organizer: 'Policy Off Org A', twoFactor: false });
      const aRequired = await createUser(t, { organizer: 'Policy Off Org A', twoFactor: true });
      const b = await createUser(t, { organizer: 'Policy Off Org B', twoFactor: false });
      await savePolicy(adminA, true, '5');
      await savePolicy(adminB, true, '5');
      expect(await deadlineOf(a)).not.toBeNull();

      const saved = await savePolicy(adminA, false, '5');
      expect(saved.status).toBe(303);
      expect(await flashAt(adminA, PAGE)).toMatch(/no longer required for everyone\. 3 deadlines removed/);
      expect(await deadlineOf(a)).toBeNull();
      expect(await deadlineOf(aRequired)).toBeNull();
      expect((await reload(aRequired)).twoFactorRequired).toBe(true);
      expect(await owed(t, a.id, t.clock.now())).toBe(false);
      expect(await deadlineOf(b)).not.toBeNull();
      expect((await organizerOf('Policy Off Org A')).requireTwoFactor).toBe(false);
      expect((await organizerOf('Policy Off Org B')).requireTwoFactor).toBe(true);

      const events = await policyEvents((await organizerOf('Policy Off Org A')).id);
      expect(JSON.parse(events[events.length - 1].detail!)).toMatchObject({
        requireTwoFactor: 'off',
        graceDays: 5,
        cleared: 3,
      });
    });

    it('saving the policy unchanged writes nothing and says so', async () => {
      const org = 'Policy Same Org';
      const { person } = await adminOf(t, org);
      await savePolicy(person, false, '0');
      expect(await flashAt(person, PAGE)).toContain('Nothing changed');
      expect(await policyEvents((await organizerOf(org)).id)).toHaveLength(0);
    });

    it('gives users created while it is on a deadline (New user form, command line), and none once it is off', async () => {
      const org = 'Policy New Org';
      const { admin } = await adminOf(t, org);
      await savePolicy(await signedIn(t, admin), true, '14');

      t.clock.advance(DAY);
      const person = await signedIn(t, admin);
      const created = await person.submit('/admin/users/new', '/admin/users', {
        email: 'newbie@policy.test',
        name: 'Nina Newbie',
        role: 'member',
      });
      expect(created.status).toBe(303);
      const newbie = (await t.get(UsersService).findByEmail('newbie@policy.test'))!;
      expect(newbie.twoFactorRequired).toBe(false);
      expect(newbie.twoFactorDeadline?.getTime()).toBe(t.clock.nowMs() + 14 * DAY);

      const cli = await runCli(
        ['create-admin', '--organizer', org, '--email', 'cli-admin@policy.test', '--name', 'Cleo Cli', '--no-2fa'],
        {
          env: testEnv(t.dataDir),
          clock: t.clock,
          out: () => undefined,
          err: () => undefined,
        },
      );
      // The CLI's application context, made in this process, replaced the app's passport strategy.
      passport.use(t.get(LocalStrategy));
      expect(cli).toBe(0);
      expect((await t.get(UsersService).findByEmail('cli-admin@policy.test'))!.twoFactorDeadline?.getTime()).toBe(
        t.clock.nowMs() + 14 * DAY,
      );

      await savePolicy(person, false, '14');
      const later = await createUser(t, { organizer: org, twoFactor: false });
      expect(later.twoFactorDeadline).toBeNull();
      const elsewhere = await createUser(t, { organizer: 'Policy New Other Org', twoFactor: false });
      expect(elsewhere.twoFactorDeadline).toBeNull();
    });

    it.each([
      ['-1', /whole number of days from 0 to 30/],
      ['31', /whole number of days from 0 to 30/],
      ['abc', /whole number of days from 0 to 30/],
      ['1.5', /whole number of days from 0 to 30/],
      ['1e1', /whole number of days from 0 to 30/],
      ['', /Enter the grace period in days, from 0 to 30/],
    ])(
      'refuses the grace period %p with the form again, the message and the input kept, and changes nothing',
      async (graceDays, message) => {
        const org = `Policy Bad ${graceDays || 'empty'} Org`;
        const { person } = await adminOf(t, org);
        const user = await createUser(t, { organizer: org, twoFactor: false });
        const answer = await savePolicy(person, true, graceDays);
        expect(answer.status).toBe(400);
        expect(answer.text).toMatch(message);
        expect(answer.text).toContain('There is a problem');
        expect(answer.text).toMatch(/<label for="graceDays">Grace period \(days\)<\/label>/);
        expect(answer.text).toMatch(new RegExp(`id="graceDays"[^>]*value="${graceDays.replace('.', '\\.')}"`));
        expect(answer.text).toMatch(/id="requireTwoFactor"[^>]*checked/);
        expect(answer.text).toMatch(/name="_csrf"/);
        expect((await organizerOf(org)).requireTwoFactor).toBe(false);
        expect(await deadlineOf(user)).toBeNull();
      },
    );

    it('refuses repeated fields (arrays) with the form again, never a 500', async () => {
      const org = 'Policy Arrays Org';
      const { person } = await adminOf(t, org);
      const attempts: Record<string, string | string[]>[] = [
        { requireTwoFactor: 'on', graceDays: ['1', '2'] },
        { requireTwoFactor: ['on', 'on'], graceDays: '3' },
        { requireTwoFactor: 'on' },
      ];
      for (const fields of attempts) {
        const answer = await person.submit(PAGE, PAGE, fields);
        expect(answer.status).toBe(400);
        expect(answer.text).toContain('There is a problem');
        expect(answer.text).toMatch(/<form method="post" action="\/admin\/organizer"/);
      }
      expect((await organizerOf(org)).requireTwoFactor).toBe(false);
    });

    it('needs a valid CSRF token: without one it is 403 and changes nothing', async () => {
      const org = 'Policy Csrf Org';
      const { person } = await adminOf(t, org);
      const user = await createUser(t, { organizer: org, twoFactor: false });
      const missing = await person.agent
        .post(PAGE)
        .type('form')
        .send({ requireTwoFactor: 'on', graceDays: '3' })
        .redirects(0);
      expect(missing.status).toBe(403);
      const forged = await person.agent
        .post(PAGE)
        .type('form')
        .send({ requireTwoFactor: 'on', graceDays: '3', _csrf: 'forged-token' })
        .redirects(0);
      expect(forged.status).toBe(403);
      expect((await organizerOf(org)).requireTwoFactor).toBe(false);
      expect(await deadlineOf(user)).toBeNull();
    });

    it('changes only the admin’s own organizer, whatever organizerId the body carries', async () => {
      const { person } = await adminOf(t, 'Policy Own Org');
      const victim = await createUser(t, { organizer: 'Policy Victim Org', twoFactor: false });
      const victimOrg = await organizerOf('Policy Victim Org');
      const answer = await person.submit(PAGE, PAGE, {
        requireTwoFactor: 'on',
        graceDays: '0',
        organizerId: victimOrg.id,
      });
      expect(answer.status).toBe(303);
      expect((await organizerOf('Policy Victim Org')).requireTwoFactor).toBe(false);
      expect(await deadlineOf(victim)).toBeNull();
      expect((await organizerOf('Policy Own Org')).requireTwoFactor).toBe(true);
    });
  });

  describe('Disable 2FA while the policy is on', () => {
    it('is refused for the organizer’s users with a clear message, and allowed again once the policy is off', async () => {
      const org = 'Policy Disable Org';
      const { person } = await adminOf(t, org);
      const user = await createUser(t, { organizer: org, twoFactor: true });
      const member = new Person(t.server);
      await member.login(user.email, DEFAULT_PASSWORD);
      await member.setUpTwoFactor(t.clock);
      await savePolicy(person, true, '7');

      const userPage = `/admin/users/${user.id}`;
      const page = await person.get(userPage);
      expect(page.text).not.toMatch(/>\s*Disable 2FA\s*</);
      expect(page.text).toContain('requires 2FA for everyone, so Disable 2FA is not available');

      // A crafted POST, at the button step and at the confirmed step: both refused.
      const attempts: Record<string, string>[] = [{ twoFactor: 'disable' }, { twoFactor: 'disable', confirm: 'yes' }];
      for (const fields of attempts) {
        const answer = await person.post(`${userPage}/two-factor`, fields, userPage);
        expect(answer.status).toBe(303);
        expect(answer.headers.location).toBe(userPage);
        expect(await flashAt(person, userPage)).toMatch(
          /Your organizer requires two-factor authentication for everyone, so it cannot be turned off/,
        );
      }
      const after = await reload(user);
      expect(after.twoFactorRequired).toBe(true);
      expect(await hasFactor(t, user.id)).toBe(true);
      expect((await t.get(AuditService).recentForUser(user.id)).map((event) => event.type)).not.toContain(
        'two_factor.disabled',
      );
      expect((await member.get('/')).status).toBe(200);

      await savePolicy(person, false, '7');
      const { step, result } = await pressAndConfirm(person, userPage, `${userPage}/two-factor`, {
        twoFactor: 'disable',
      });
      expect(step.status).toBe(200);
      expect(result.status).toBe(303);
      expect((await reload(user)).twoFactorRequired).toBe(false);
      expect(await hasFactor(t, user.id)).toBe(false);
    });

    it('is refused by TwoFactorAdminService itself, whoever calls it', async () => {
      const org = 'Policy Service Org';
      const { person } = await adminOf(t, org);
      const user = await createUser(t, { organizer: org, twoFactor: true });
      await savePolicy(person, true, '3');
      // The refusal is a message key (issue 17), written in the reader's language where it is shown.
      await expect(t.get(TwoFactorAdminService).disable(user, null, null)).rejects.toThrow(
        'twoFactor.admin.disableRequired',
      );
      expect((await reload(user)).twoFactorRequired).toBe(true);
    });
  });
});
