import { DataSource } from 'typeorm';
import { User } from '../../src/users/user.entity';
import { codeAt, csrfFrom, manualKeyFrom, Person } from '../utils/agent';
import { createTestApp, createUser, DEFAULT_PASSWORD, TestApp } from '../utils/test-app';

const DAY = 24 * 60 * 60 * 1000;

describe('organizer 2FA grace period, seen by the user', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.close());

  /** A user without 2FA whose organizer requires it within `days` days (as the policy sets it). */
  async function userWithDeadline(days: number) {
    const user = await createUser(t, { twoFactor: false });
    await t
      .get(DataSource)
      .getRepository(User)
      .update({ id: user.id }, { twoFactorDeadline: new Date(t.clock.nowMs() + Math.round(days * DAY)) });
    return user;
  }

  it('shows a banner that counts down with the clock, with a link to set up now', async () => {
    const user = await userWithDeadline(3);
    const person = new Person(t.server);
    expect((await person.login(user.email, DEFAULT_PASSWORD)).headers.location).toBe('/');
    const today = await person.get('/');
    expect(today.text).toContain('3 days left to set it up');
    expect(today.text).toContain('href="/2fa/setup"');

    // Sessions end after 30 idle minutes: sign in again each day.
    t.clock.advance(DAY + 60_000);
    const tomorrow = new Person(t.server);
    await tomorrow.login(user.email, DEFAULT_PASSWORD);
    expect((await tomorrow.get('/')).text).toContain('2 days left');
    t.clock.advance(DAY);
    const lastDay = new Person(t.server);
    await lastDay.login(user.email, DEFAULT_PASSWORD);
    expect((await lastDay.get('/')).text).toContain('Today is the last day');
  });

  it('after the deadline, sends an open session and every new sign-in to the setup page and nowhere else', async () => {
    const user = await userWithDeadline(10 / (24 * 60)); // ten minutes
    const open = new Person(t.server);
    await open.login(user.email, DEFAULT_PASSWORD);
    expect((await open.get('/')).status).toBe(200);

    t.clock.advance(11 * 60_000);
    expect((await open.get('/')).headers.location).toBe('/2fa/setup');
    expect((await open.get('/account')).headers.location).toBe('/2fa/setup');
    expect((await open.get('/2fa/setup')).status).toBe(200);

    const fresh = new Person(t.server);
    const login = await fresh.login(user.email, DEFAULT_PASSWORD);
    expect(login.headers.location).toBe('/2fa/setup');
    expect((await fresh.get('/')).headers.location).toBe('/2fa/setup');
    const setup = await fresh.get('/2fa/setup');
    const secret = manualKeyFrom(setup.text);
    const confirm = await fresh.agent
      .post('/2fa/setup')
      .type('form')
      .send({ code: codeAt(secret, t.clock), _csrf: csrfFrom(setup.text) })
      .redirects(0);
    expect(confirm.headers.location).toBe('/2fa/recovery-codes');
    expect((await fresh.get('/2fa/recovery-codes')).status).toBe(200);
  });

  it('setting up early removes the banner', async () => {
    const user = await userWithDeadline(5);
    const person = new Person(t.server);
    await person.login(user.email, DEFAULT_PASSWORD);
    await person.setUpTwoFactor(t.clock);
    expect((await person.get('/')).text).not.toContain('days left');
  });
});
