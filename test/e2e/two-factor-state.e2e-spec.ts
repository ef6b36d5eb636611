import { DataSource } from 'typeorm';
import { Catalogue } from '../../src/i18n/catalogue';
import { TWO_FACTOR_STATE_WORDS, TwoFactorState } from '../../src/two-factor/factors/two-factor-state';
import { User } from '../../src/users/user.entity';
import { adminOf, pressAndConfirm, wrongCode } from '../utils/admin';
import { codeAt, Person } from '../utils/agent';
import { createTestApp, createUser, DEFAULT_PASSWORD, TestApp } from '../utils/test-app';

const DAY = 24 * 60 * 60 * 1000;

/**
 * Issue 12: the 2FA state is one definition. Users in every state read the same on their own
 * account page, the admin's user page, the users list, its "Not set up yet" filter, the
 * adoption counts and the CSV export (a user whom only the policy requires once read "Off" on
 * their own page and "Pending setup" on the admin's).
 */
describe('the 2FA state reads the same everywhere', () => {
  let t: TestApp;
  const ORG = 'State Org';

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.close());

  /** A member of ORG with 2FA set up, signed out; returns the secret. */
  async function withAuthenticator(email: string): Promise<{ user: User; secret: string }> {
    const user = await createUser(t, { organizer: ORG, email, twoFactor: true });
    const person = new Person(t.server);
    await person.login(email, DEFAULT_PASSWORD);
    const { secret } = await person.setUpTwoFactor(t.clock);
    return { user, secret };
  }

  it('for off, pending, pending by policy, active, locked and reset users', async () => {
    const { person: admin } = await adminOf(t, ORG, 'Sam State');
    const expected = new Map<
      string,
      { state: TwoFactorState; ownPage: boolean; confirmed: boolean; secret?: string }
    >();

    await createUser(t, { organizer: ORG, email: 'off@state.test', twoFactor: false });
    expected.set('off@state.test', { state: 'off', ownPage: true, confirmed: false });

    await createUser(t, { organizer: ORG, email: 'pending@state.test', twoFactor: true });
    expected.set('pending@state.test', { state: 'pending', ownPage: false, confirmed: false });

    const byPolicy = await createUser(t, { organizer: ORG, email: 'policy@state.test', twoFactor: false });
    await t
      .get(DataSource)
      .getRepository(User)
      .update(byPolicy.id, { twoFactorDeadline: new Date(t.clock.nowMs() + 3 * DAY) });
    expected.set('policy@state.test', { state: 'pending', ownPage: true, confirmed: false });

    const active = await withAuthenticator('active@state.test');
    expected.set('active@state.test', { state: 'active', ownPage: true, confirmed: true, secret: active.secret });

    const locked = await withAuthenticator('locked@state.test');
    t.clock.advance(60_000);
    const guesser = new Person(t.server);
    await guesser.login('locked@state.test', DEFAULT_PASSWORD);
    for (let i = 0; i < 5; i++)
      await guesser.submit('/2fa/verify', '/2fa/verify', { code: wrongCode(locked.secret, t.clock) });
    expected.set('locked@state.test', { state: 'locked', ownPage: false, confirmed: true });

    const reset = await withAuthenticator('reset@state.test');
    await pressAndConfirm(admin, `/admin/users/${reset.user.id}`, `/admin/users/${reset.user.id}/resend-qr`);
    expected.set('reset@state.test', { state: 'pending', ownPage: false, confirmed: false });

    const users = await t
      .get(DataSource)
      .getRepository(User)
      .findBy({
        organizerId: (await t.get(DataSource).getRepository(User).findOneByOrFail({ email: 'off@state.test' }))
          .organizerId,
      });
    const byEmail = new Map(users.map((user) => [user.email, user]));
    const list = (await admin.get('/admin/users')).text;
    const notSetUp = (await admin.get('/admin/users?show=not-set-up')).text;
    const csv = (await admin.get('/admin/users/export.csv')).text;

    for (const [email, want] of expected) {
      // PRODUCT.md's word, in English (the states are message keys, issue 17).
      const word = t.get(Catalogue).format('en', TWO_FACTOR_STATE_WORDS[want.state]);
      const user = byEmail.get(email)!;
      const seen: Record<string, string | undefined> = {
        adminPage: (await admin.get(`/admin/users/${user.id}`)).text.match(/id="two-factor-state">([^<]+)</)?.[1],
        list: rowOf(list, email)?.match(/class="state state-[a-z-]+">([^<]+)</)?.[1],
        csv: csv
          .split('\r\n')
          .find((line) => line.includes(email))
          ?.split(',')[3]
          ?.replace(/^"|"$/g, ''),
      };
      if (want.ownPage) seen.ownPage = await ownPageState(email, want.secret);
      expect({ email, ...seen }).toEqual({
        email,
        adminPage: word,
        list: word,
        csv: word,
        ...(want.ownPage ? { ownPage: word } : {}),
      });
      expect({ email, inNotSetUp: rowOf(notSetUp, email) !== undefined }).toEqual({
        email,
        inNotSetUp: !want.confirmed,
      });
    }

    // The adoption counts over the organizer (the admin is off: 2FA off, no authenticator).
    const tally = (state: TwoFactorState) =>
      [...expected.values()].filter((want) => want.state === state).length + (state === 'off' ? 1 : 0);
    expect(list).toContain(`<strong>${tally('active')} of ${expected.size + 1} active</strong>`);
    expect(list).toContain(`· ${tally('pending')} pending setup`);
    expect(list).toContain(`· ${tally('locked')} locked`);
    expect(list).toContain(`· ${tally('off')} off`);
    const withoutFactor = [...expected.values()].filter((want) => !want.confirmed).length + 1;
    expect(list).toContain(`${withoutFactor} not set up yet</a>`);
  });

  /** The state on the person's own account page, after they sign in (with a code when they have one). */
  async function ownPageState(email: string, secret?: string): Promise<string | undefined> {
    const person = new Person(t.server);
    await person.login(email, DEFAULT_PASSWORD);
    if (secret) {
      t.clock.advance(30_000);
      await person.submit('/2fa/verify', '/2fa/verify', { code: codeAt(secret, t.clock) });
    }
    const page = await person.get('/account');
    return page.text.match(/<dt>Two-factor authentication<\/dt><dd>([^<·]+?)\s*(?:·|<)/)?.[1];
  }
});

/** The list row of a user (the table row that shows their email). */
function rowOf(html: string, email: string): string | undefined {
  const body = html.slice(html.indexOf('<tbody>'));
  return body.split('<tr').find((row) => row.includes(`<td>${email}</td>`));
}
