import { AuditService } from '../../src/audit/audit.service';
import { UsersService } from '../../src/users/users.service';
import { codeAt, Person } from '../utils/agent';
import { lastMailTo, linkIn } from '../utils/mail';
import { createTestApp, createUser, DEFAULT_PASSWORD, TestApp } from '../utils/test-app';

describe('"This wasn\'t me" links in security emails', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.close());

  it("locks the account, ends every session and tells the organizer's admins; admins unlock", async () => {
    const admin = await createUser(t, {
      role: 'admin',
      organizer: 'Not Me Org',
      twoFactor: false,
      email: 'boss@notme.example',
    });
    const user = await createUser(t, { organizer: 'Not Me Org', twoFactor: true });
    const person = new Person(t.server);
    await person.login(user.email, DEFAULT_PASSWORD);
    const { secret } = await person.setUpTwoFactor(t.clock);
    expect((await person.get('/')).status).toBe(200);

    const mail = await lastMailTo(t, user.email, /set up/);
    const link = linkIn(mail, '/not-me/');

    // One click shows a confirmation; it changes nothing yet (no state change on GET).
    const stranger = new Person(t.server);
    const confirmPage = await stranger.get(link);
    expect(confirmPage.status).toBe(200);
    expect(confirmPage.text).toContain('Lock my account');
    expect((await person.get('/')).status).toBe(200);

    const confirmed = await stranger.submit(link, link, {});
    expect(confirmed.status).toBe(200);
    expect(confirmed.text).toContain('Your account is locked');

    expect((await person.get('/')).headers.location).toBe('/login?reason=ended');
    t.clock.advance(60_000);
    const again = new Person(t.server);
    const login = await again.login(user.email, DEFAULT_PASSWORD);
    expect(login.status).toBe(403);
    expect(login.text).toContain('locked');

    const alert = await lastMailTo(t, admin.email, /Security report/);
    expect(alert.text).toContain(user.email);
    expect(alert.text).toContain(`/admin/users/${user.id}`);
    const events = (await t.get(AuditService).recentForUser(user.id)).map((e) => e.type);
    expect(events).toContain('account.not_me');

    // The link works once.
    const reused = await stranger.get(link);
    expect(reused.status).toBe(410);

    await t.get(UsersService).unlock(await t.get(UsersService).getById(user.id));
    const unlocked = await new Person(t.server).login(user.email, DEFAULT_PASSWORD);
    expect(unlocked.headers.location).toBe('/2fa/verify');
    expect(codeAt(secret, t.clock)).toMatch(/^\d{6}$/);
  });

  it('refuses a POST without a CSRF token and an unknown link', async () => {
    const person = new Person(t.server);
    const unknown = await person.get('/not-me/this-is-not-a-real-token-at-all-000000');
    expect(unknown.status).toBe(410);
  });
});
