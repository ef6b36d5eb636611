import { codeAt, Person } from '../utils/agent';
import { lastMailTo, linkIn, mailsTo, secretsIn } from '../utils/mail';
import { createTestApp, createUser, DEFAULT_PASSWORD, TestApp } from '../utils/test-app';

describe('security emails (SECURITY.md 13)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.close());

  it('tell the user about setup, a recovery code used and a lock after wrong codes, each with its own "This wasn\'t me" link', async () => {
    const user = await createUser(t, { name: "Siobhán O'Brien", twoFactor: true });
    const person = new Person(t.server);
    await person.login(user.email, DEFAULT_PASSWORD);
    const { secret, recoveryCodes } = await person.setUpTwoFactor(t.clock);

    const setup = await lastMailTo(t, user.email, /set up/);
    expect(setup.text).toContain("Hello Siobhán O'Brien");
    expect(secretsIn(setup, [secret])).toEqual([]);
    const firstLink = linkIn(setup, '/not-me/');

    t.clock.advance(60_000);
    const second = new Person(t.server);
    await second.login(user.email, DEFAULT_PASSWORD);
    await second.submit('/2fa/recovery', '/2fa/recovery', { recoveryCode: recoveryCodes[3] });
    const recovery = await lastMailTo(t, user.email, /recovery code/);
    expect(recovery.text).toContain('9 unused recovery codes');
    expect(linkIn(recovery, '/not-me/')).not.toBe(firstLink);

    const third = new Person(t.server);
    await third.login(user.email, DEFAULT_PASSWORD);
    const wrong = codeAt(secret, t.clock, 4);
    for (let i = 0; i < 5; i++) await third.submit('/2fa/verify', '/2fa/verify', { code: wrong });
    const locked = await lastMailTo(t, user.email, /locked after wrong codes/);
    expect(locked.text).toContain('wrong verification codes');
    linkIn(locked, '/not-me/');
  });

  it('tell the user when wrong passwords lock the sign-in, and no one when the email is unknown', async () => {
    const user = await createUser(t, { twoFactor: false });
    const person = new Person(t.server);
    for (let i = 0; i < 10; i++) await person.login(user.email, 'not the password at all');
    const mail = await lastMailTo(t, user.email, /locked after wrong passwords/);
    expect(mail.text).toContain('wrong passwords');
    expect(mail.text).toContain('15 minutes');
    linkIn(mail, '/not-me/');

    for (let i = 0; i < 10; i++) await person.login('ghost@example.com', 'not the password at all');
    expect(await mailsTo(t, 'ghost@example.com')).toEqual([]);
  });
});
