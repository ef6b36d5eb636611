import { DataSource } from 'typeorm';
import { AuditEvent } from '../../src/audit/audit-event.entity';
import { AuthSessionService } from '../../src/auth/auth-session.service';
import { KeyRing } from '../../src/common/crypto/key-ring';
import { SessionRecord } from '../../src/auth/session.entity';
import { idHash } from '../../src/auth/session-store';
import { PreparedSql } from '../../src/database/prepared-sql';
import { formatDateTime } from '../../src/i18n/format';
import { User } from '../../src/users/user.entity';
import { UsersService } from '../../src/users/users.service';
import { adminOf, hasButton, press, pressAndConfirm } from '../utils/admin';
import { codeAt, Person } from '../utils/agent';
import { lastMailTo, linkIn, mailsTo } from '../utils/mail';
import { createTestApp, createUser, DEFAULT_PASSWORD, TestApp } from '../utils/test-app';

const MINUTE = 60_000;

const UA = {
  chrome:
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
  firefox: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0',
  safari:
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1',
  edge: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91',
};
const DEVICE = {
  chrome: 'Chrome 120 on macOS',
  firefox: 'Firefox 121 on Windows',
  safari: 'Safari 17 on iOS',
  edge: 'Edge 120 on Windows',
};

/** A session as "Your sessions" shows it. */
interface Listed {
  device: string;
  current: boolean;
  pending: boolean;
  address: string;
  started: string;
  lastActive: string;
  /** The handle its Sign out form posts, if it has one. */
  handle?: string;
}

function sessionsIn(html: string): Listed[] {
  return html
    .split('<section class="card session"')
    .slice(1)
    .map((part) => part.slice(0, part.indexOf('</section>')))
    .map((part) => ({
      device: part.match(/<h2 id="session-\d+">([^<]*)<\/h2>/)?.[1] ?? '',
      current: part.includes('>This device<'),
      pending: part.includes('>Signing in<'),
      address: part.match(/<dt>Address<\/dt><dd>(.*?)<\/dd>/)?.[1] ?? '',
      started: part.match(/<dt>Started<\/dt><dd>(.*?)<\/dd>/)?.[1] ?? '',
      lastActive: part.match(/<dt>Last active<\/dt><dd>(.*?)<\/dd>/)?.[1] ?? '',
      handle: part.match(/action="\/account\/sessions\/([^"/]+)\/sign-out"/)?.[1],
    }));
}

/** An instant as the pages show it (the `datetime` view helper). */
/** How the page writes an instant: in the page's language (English here) and the organizer's time zone (UTC). */
const shown = (ms: number) => formatDateTime(ms, 'en', 'UTC');

describe('your sessions (/account/sessions) and the admin’s Sign out everywhere (issue 14)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.close());

  const rows = () => t.get(DataSource).getRepository(SessionRecord);

  /** A browser sending `userAgent` on every request. */
  function browser(userAgent?: string): Person {
    const person = new Person(t.server);
    if (userAgent) person.agent.set('User-Agent', userAgent);
    return person;
  }

  /** A person with an authenticator; the browser that set it up (Chrome on macOS) is fully signed in. */
  async function personWithAuthenticator(organizer: string, name: string) {
    const user = await createUser(t, { organizer, name, twoFactor: true });
    const a = browser(UA.chrome);
    const login = await a.login(user.email, DEFAULT_PASSWORD);
    expect(login.headers.location).toBe('/2fa/setup');
    const { secret } = await a.setUpTwoFactor(t.clock);
    expect((await a.get('/')).status).toBe(200);
    return { user, secret, a };
  }

  /** Password and code in a new browser: fully signed in (half a minute later, a code not used yet). */
  async function fullSignIn(user: User, secret: string, userAgent: string): Promise<Person> {
    t.clock.advance(30_000);
    const person = browser(userAgent);
    expect((await person.login(user.email, DEFAULT_PASSWORD)).headers.location).toBe('/2fa/verify');
    const verify = await person.submit('/2fa/verify', '/2fa/verify', { code: codeAt(secret, t.clock) });
    expect(verify.headers.location).toBe('/');
    return person;
  }

  /** Password only in a new browser: the session is pending at /2fa/verify. */
  async function pendingSignIn(user: User, userAgent: string): Promise<Person> {
    const person = browser(userAgent);
    expect((await person.login(user.email, DEFAULT_PASSWORD)).headers.location).toBe('/2fa/verify');
    return person;
  }

  /** A person of `organizer` without 2FA, signed in from `userAgent`. */
  async function plainSignIn(user: User, userAgent?: string): Promise<Person> {
    const person = browser(userAgent);
    expect((await person.login(user.email, DEFAULT_PASSWORD)).headers.location).toBe('/');
    return person;
  }

  async function listOf(person: Person): Promise<Listed[]> {
    const page = await person.get('/account/sessions');
    expect(page.status).toBe(200);
    return sessionsIn(page.text);
  }

  const signOut = (person: Person, handle: string) =>
    person.post(`/account/sessions/${handle}/sign-out`, {}, '/account/sessions');
  const signOutOthers = (person: Person) => person.post('/account/sessions/sign-out-others', {}, '/account/sessions');

  /** Whether a browser's session still works: a full one opens the dashboard, a pending one its code page. */
  async function stillSignedIn(person: Person, pending = false): Promise<boolean> {
    const answer = await person.get(pending ? '/2fa/verify' : '/');
    if (answer.status === 200) return true;
    expect(answer.headers.location).toMatch(/^\/login\?(.+&)?reason=ended$/);
    return false;
  }

  const eventsOf = (user: User, type: AuditEvent['type']) =>
    t.get(DataSource).getRepository(AuditEvent).findBy({ userId: user.id, type });

  /** The session id in a browser's signed cookie (`s:<id>.<signature>`). */
  function sidOf(person: Person): string {
    const value = decodeURIComponent(person.sessionCookie()!);
    return value.slice(2, value.lastIndexOf('.'));
  }

  describe('GET /account/sessions', () => {
    it('lists every active session of the person, this device first, pending ones as signing in, and no one else’s', async () => {
      const { user, secret, a } = await personWithAuthenticator('Sessions Org', 'Sam Sessions');
      const aStarted = t.clock.nowMs();
      t.clock.advance(MINUTE);
      const b = await fullSignIn(user, secret, UA.firefox);
      const bStarted = t.clock.nowMs();
      t.clock.advance(MINUTE);
      const c = await pendingSignIn(user, UA.safari);
      const cStarted = t.clock.nowMs();
      const olga = await createUser(t, { organizer: 'Sessions Org', name: 'Olga Other', twoFactor: false });
      await plainSignIn(olga, UA.edge);
      t.clock.advance(MINUTE);

      const listed = await listOf(a);
      expect(listed.map((s) => s.device)).toEqual([DEVICE.chrome, DEVICE.safari, DEVICE.firefox]);
      const [mine, pending, other] = listed;
      expect(mine).toMatchObject({ current: true, pending: false, address: '127.0.0.1', handle: undefined });
      expect(mine.started).toBe(shown(aStarted));
      expect(pending).toMatchObject({ current: false, pending: true, started: shown(cStarted) });
      expect(pending.lastActive).toBe(shown(cStarted));
      expect(other).toMatchObject({ current: false, pending: false, address: '127.0.0.1', started: shown(bStarted) });
      expect(other.lastActive).toBe(shown(bStarted));
      expect(pending.handle).toMatch(/^[0-9a-f]{64}$/);
      expect(other.handle).toMatch(/^[0-9a-f]{64}$/);
      // The handle is not the row key.
      const keys = (await rows().findBy({ userId: user.id })).map((row) => row.idHash);
      expect(keys).toHaveLength(3);
      expect(keys).not.toContain(other.handle);
      expect(keys).not.toContain(pending.handle);

      const page = await a.get('/account/sessions');
      expect(hasButton(page.text, '/account/sessions/sign-out-others', 'Sign out everywhere else')).toBe(true);
      expect(hasButton(page.text, `/account/sessions/${other.handle}/sign-out`, 'Sign out')).toBe(true);
      expect(page.text).not.toContain(DEVICE.edge);

      // Only a fully signed-in person reaches the page; /account links to it.
      expect((await c.get('/account/sessions')).headers.location).toBe('/2fa/verify');
      expect((await a.get('/account')).text).toContain('href="/account/sessions"');
      expect(await stillSignedIn(b)).toBe(true);
    });

    it('shows "Unknown browser" for a User-Agent that names none, and offers nothing to sign out when alone', async () => {
      const user = await createUser(t, { organizer: 'Sessions Org', twoFactor: false });
      const only = await plainSignIn(user, 'curl/8.4.0');
      const page = await only.get('/account/sessions');
      expect(sessionsIn(page.text)).toEqual([expect.objectContaining({ device: 'Unknown browser', current: true })]);
      expect(page.text).toContain('You are signed in on this device only.');
      expect(page.text).not.toContain('/account/sessions/sign-out-others');
    });

    it('moves the last activity only with the store’s once-a-minute touch: no session write is added to any request', async () => {
      const user = await createUser(t, { organizer: 'Sessions Org', twoFactor: false });
      const a = await plainSignIn(user, UA.chrome);
      t.clock.set(Math.ceil(t.clock.nowMs() / MINUTE) * MINUTE + MINUTE);
      const b = await plainSignIn(user, UA.firefox);
      const signedInAt = t.clock.nowMs();
      const lastActiveOfB = async () => (await listOf(a)).find((s) => s.device === DEVICE.firefox)!.lastActive;
      expect(await lastActiveOfB()).toBe(shown(signedInAt));

      const run = jest.spyOn(t.get(PreparedSql), 'run');
      const sessionWrites = () => run.mock.calls.filter(([sql]) => sql.includes('"sessions"')).map(([sql]) => sql);
      try {
        // 30 s later: B's request writes nothing (the expiry moved less than a minute), so its last activity stays.
        t.clock.advance(30_000);
        expect((await b.get('/')).status).toBe(200);
        expect(sessionWrites()).toEqual([]);
        run.mockClear();
        expect(await lastActiveOfB()).toBe(shown(signedInAt));
        // The list itself is a read: A's request wrote at most its own touch.
        expect(sessionWrites().every((sql) => sql.startsWith('UPDATE "sessions" SET "expires_at"'))).toBe(true);

        // 75 s after the sign-in: B's request is the one touch, and the list shows it.
        t.clock.advance(45_000);
        run.mockClear();
        expect((await b.get('/')).status).toBe(200);
        expect(sessionWrites()).toEqual(['UPDATE "sessions" SET "expires_at" = ? WHERE "id_hash" = ?']);
        expect(await lastActiveOfB()).toBe(shown(signedInAt + 75_000));
      } finally {
        run.mockRestore();
      }
    });

    it('does not list a session that ended by the rules: idle 30 minutes, pending over 5 minutes, past 12 hours', async () => {
      const { user, secret, a: old } = await personWithAuthenticator('Sessions Org', 'Ida Idle');
      // The setup browser stays active (a request every 25 minutes) until just under 12 hours.
      for (let i = 0; i < 28; i++) {
        t.clock.advance(25 * MINUTE);
        expect((await old.get('/')).status).toBe(200);
      }
      const a = await fullSignIn(user, secret, UA.firefox);
      const idle = await fullSignIn(user, secret, UA.edge);
      t.clock.advance(10_000);
      const pending = await pendingSignIn(user, UA.safari);
      expect((await listOf(a)).map((s) => s.device)).toEqual([
        DEVICE.firefox,
        DEVICE.safari,
        DEVICE.edge,
        DEVICE.chrome,
      ]);

      // 6 minutes: the pending sign-in is over, its row is not.
      t.clock.advance(6 * MINUTE);
      expect((await listOf(a)).map((s) => s.device)).toEqual([DEVICE.firefox, DEVICE.edge, DEVICE.chrome]);
      // Past 12 hours since the setup browser's sign-in, its row still alive (its last request 26 minutes ago).
      t.clock.advance(19 * MINUTE);
      expect((await listOf(a)).map((s) => s.device)).toEqual([DEVICE.firefox, DEVICE.edge]);
      // 31 minutes since the idle browser's last request.
      t.clock.advance(6 * MINUTE);
      expect((await listOf(a)).map((s) => s.device)).toEqual([DEVICE.firefox]);
      expect(await rows().countBy({ userId: user.id })).toBeGreaterThan(1);
      expect(await stillSignedIn(idle)).toBe(false);
      expect(await stillSignedIn(pending, true)).toBe(false);
    });
  });

  describe('POST /account/sessions/:handle/sign-out', () => {
    it('ends that session only: it goes to the login page, this one and the pending one go on; audited with the browser', async () => {
      const { user, secret, a } = await personWithAuthenticator('Sessions Org', 'Sue Signout');
      const b = await fullSignIn(user, secret, UA.firefox);
      const c = await pendingSignIn(user, UA.safari);
      const target = (await listOf(a)).find((s) => s.device === DEVICE.firefox)!;

      const answer = await signOut(a, target.handle!);
      expect(answer.status).toBe(303);
      expect(answer.headers.location).toBe('/account/sessions');
      const after = await a.get('/account/sessions');
      expect(after.text).toContain(`Signed out: ${DEVICE.firefox}. That browser must sign in again.`);
      expect(sessionsIn(after.text).map((s) => s.device)).toEqual([DEVICE.chrome, DEVICE.safari]);

      expect(await stillSignedIn(b)).toBe(false);
      expect(await stillSignedIn(a)).toBe(true);
      expect(await stillSignedIn(c, true)).toBe(true);
      const events = await eventsOf(user, 'session.ended');
      expect(events).toHaveLength(1);
      expect(JSON.parse(events[0].detail!)).toEqual({ device: DEVICE.firefox });
      expect(events[0].actorId).toBeNull();

      // The same handle again: nothing left to end.
      await signOut(a, target.handle!);
      expect((await a.get('/account/sessions')).text).toContain('That session has already ended.');
      expect(await eventsOf(user, 'session.ended')).toHaveLength(1);
    });

    it('ends only the person’s own sessions: another user’s handle or row key, this device’s handle or a made-up one do nothing', async () => {
      const { user, a } = await personWithAuthenticator('Sessions Org', 'Sid Self');
      const olga = await createUser(t, { organizer: 'Sessions Org', name: 'Olga Owner', twoFactor: false });
      const o1 = await plainSignIn(olga, UA.edge);
      const o2 = await plainSignIn(olga, UA.firefox);
      const olgaOther = (await listOf(o1)).find((s) => !s.current)!;
      const olgaRowKey = idHash(sidOf(o2));
      expect(await rows().countBy({ userId: user.id })).toBe(1);

      for (const handle of [olgaOther.handle!, olgaRowKey, 'f'.repeat(64), 'nonsense']) {
        const answer = await signOut(a, handle);
        expect(answer.headers.location).toBe('/account/sessions');
        expect((await a.get('/account/sessions')).text).toContain('That session has already ended.');
      }
      expect(await stillSignedIn(o1)).toBe(true);
      expect(await stillSignedIn(o2)).toBe(true);
      expect(await rows().countBy({ userId: olga.id })).toBe(2);

      // The current session's own handle, posted by hand: it stays (Log out ends it).
      await signOut(a, t.get(KeyRing).hash('session-handle', idHash(sidOf(a))));
      expect((await a.get('/account/sessions')).text).toContain('That is this device: to sign out here, use Log out.');
      expect(await stillSignedIn(a)).toBe(true);
      expect(await eventsOf(user, 'session.ended')).toHaveLength(0);
      expect(await eventsOf(olga, 'session.ended')).toHaveLength(0);
    });

    it('a request of the signed-out session still in flight cannot bring it back', async () => {
      const user = await createUser(t, { organizer: 'Sessions Org', twoFactor: false });
      const a = await plainSignIn(user, UA.chrome);
      const b = await plainSignIn(user, UA.firefox);
      const store = t.get(AuthSessionService).store;
      const sid = sidOf(b);
      // B's request has read its session …
      const loaded = await new Promise<object>((resolve, reject) =>
        store.get(sid, (error, session) =>
          error || !session ? reject(error ?? new Error('no session')) : resolve(session),
        ),
      );
      // … A signs B out …
      await signOut(a, (await listOf(a)).find((s) => !s.current)!.handle!);
      // … and B's request ends by saving its changed session.
      await new Promise<void>((resolve, reject) =>
        store.set(sid, { ...loaded, flash: [{ type: 'info', text: 'late' }] } as never, (error) =>
          error ? reject(error) : resolve(),
        ),
      );
      expect(await rows().countBy({ idHash: idHash(sid) })).toBe(0);
      expect(await stillSignedIn(b)).toBe(false);
      expect(await stillSignedIn(a)).toBe(true);
    });

    it('needs a CSRF token (403, nothing ends)', async () => {
      const user = await createUser(t, { organizer: 'Sessions Org', twoFactor: false });
      const a = await plainSignIn(user, UA.chrome);
      const b = await plainSignIn(user, UA.firefox);
      const handle = (await listOf(a)).find((s) => !s.current)!.handle!;
      const forged = await a.agent.post(`/account/sessions/${handle}/sign-out`).type('form').send({}).redirects(0);
      expect(forged.status).toBe(403);
      const forgedAll = await a.agent.post('/account/sessions/sign-out-others').type('form').send({}).redirects(0);
      expect(forgedAll.status).toBe(403);
      expect(await stillSignedIn(b)).toBe(true);
      expect(await rows().countBy({ userId: user.id })).toBe(2);
    });
  });

  describe('POST /account/sessions/sign-out-others', () => {
    it('ends every other session, pending ones too, and keeps this one; audited with the count', async () => {
      const { user, secret, a } = await personWithAuthenticator('Sessions Org', 'Eve Elsewhere');
      const b = await fullSignIn(user, secret, UA.firefox);
      const c = await pendingSignIn(user, UA.safari);
      const aCookie = a.sessionCookie();

      const answer = await signOutOthers(a);
      expect(answer.headers.location).toBe('/account/sessions');
      const after = await a.get('/account/sessions');
      expect(after.text).toContain('Signed out everywhere else: 2 sessions ended. This device stays signed in.');
      expect(sessionsIn(after.text)).toEqual([expect.objectContaining({ device: DEVICE.chrome, current: true })]);
      expect(a.sessionCookie()).toBe(aCookie);

      expect(await stillSignedIn(b)).toBe(false);
      expect(await stillSignedIn(c, true)).toBe(false);
      expect(await stillSignedIn(a)).toBe(true);
      expect(await rows().countBy({ userId: user.id })).toBe(1);
      const events = await eventsOf(user, 'session.ended_others');
      expect(events.map((e) => JSON.parse(e.detail!))).toEqual([{ count: 2 }]);

      // Nothing left: said so.
      await signOutOthers(a);
      expect((await a.get('/account/sessions')).text).toContain('There was no other session to sign out.');
    });
  });

  describe('the admin’s user page: Active sessions and Sign out everywhere', () => {
    it('counts the active sessions (pending ones too, ended ones not), and offers no button on the admin’s own page', async () => {
      const org = 'Count Org';
      const { admin, person: adminBrowser } = await adminOf(t, org, 'Cora Count');
      const { user, secret } = await personWithAuthenticator(org, 'Cal Counted');
      await fullSignIn(user, secret, UA.firefox);
      await pendingSignIn(user, UA.safari);
      const other = await createUser(t, { organizer: org, twoFactor: false });
      await plainSignIn(other, UA.edge);

      const page = await adminBrowser.get(`/admin/users/${user.id}`);
      expect(page.text).toMatch(/<dt>Active sessions<\/dt><dd id="active-sessions">3<\/dd>/);
      expect(hasButton(page.text, `/admin/users/${user.id}/sign-out-everywhere`, 'Sign out everywhere')).toBe(true);
      t.clock.advance(6 * MINUTE);
      expect((await adminBrowser.get(`/admin/users/${user.id}`)).text).toContain('id="active-sessions">2<');

      const own = await adminBrowser.get(`/admin/users/${admin.id}`);
      expect(own.text).toContain('id="active-sessions">1<');
      expect(own.text).not.toContain('/sign-out-everywhere');
      // Posting for themselves by hand: refused on their page, and they stay signed in.
      const self = await adminBrowser.post(`/admin/users/${admin.id}/sign-out-everywhere`, { confirm: 'yes' });
      expect(self.headers.location).toBe(`/admin/users/${admin.id}`);
      expect((await adminBrowser.get(`/admin/users/${admin.id}`)).text).toContain(
        'You cannot sign yourself out everywhere here',
      );
      expect(await eventsOf(admin, 'session.ended_all')).toHaveLength(0);
    });

    it('asks to confirm, then ends every session of the person on every device, audits with the admin and emails them', async () => {
      const org = 'Everywhere Org';
      const { admin, person: adminBrowser } = await adminOf(t, org, 'Ada Admin');
      const { user, secret, a } = await personWithAuthenticator(org, 'Pat Person');
      const b = await fullSignIn(user, secret, UA.firefox);
      const c = await pendingSignIn(user, UA.safari);
      const stampBefore = (await t.get(UsersService).getById(user.id)).securityStamp;
      const userPage = `/admin/users/${user.id}`;
      const action = `${userPage}/sign-out-everywhere`;

      const { step, result } = await pressAndConfirm(adminBrowser, userPage, action);
      expect(step.status).toBe(200);
      expect(step.text).toContain(`Sign out Pat Person (${user.email}) everywhere?`);
      expect(step.text).toContain('3 active now');
      expect(hasButton(step.text, action, 'Sign out everywhere')).toBe(true);
      expect(result.status).toBe(303);
      expect(result.headers.location).toBe(userPage);

      const after = await adminBrowser.get(userPage);
      expect(after.text).toContain(
        'Pat Person is signed out everywhere (3 active sessions ended). An email telling them is queued for ',
      );
      expect(after.text).toContain('id="active-sessions">0<');
      for (const [browserOf, pending] of [
        [a, false],
        [b, false],
        [c, true],
      ] as const)
        expect(await stillSignedIn(browserOf, pending)).toBe(false);
      expect(await rows().countBy({ userId: user.id })).toBe(0);
      expect((await t.get(UsersService).getById(user.id)).securityStamp).not.toBe(stampBefore);
      expect(await stillSignedIn(adminBrowser)).toBe(true);

      const events = await eventsOf(user, 'session.ended_all');
      expect(events).toHaveLength(1);
      expect(events[0].actorId).toBe(admin.id);
      expect(JSON.parse(events[0].detail!)).toEqual({ count: 3 });
      expect(after.text).toContain('Signed out everywhere');

      const mail = await lastMailTo(t, user.email, /signed out everywhere/);
      expect(mail.subject).toBe('You were signed out everywhere');
      expect(mail.text).toContain('Ada Admin, an admin of your organizer, signed you out of every session');
      expect(linkIn(mail, '/not-me/')).toMatch(/^\/not-me\//);

      // They sign in again as usual.
      expect(await stillSignedIn(await fullSignIn(user, secret, UA.chrome))).toBe(true);
    });

    it('changes nothing at the confirmation step', async () => {
      const org = 'Step Org';
      const { person: adminBrowser } = await adminOf(t, org, 'Stu Step');
      const user = await createUser(t, { organizer: org, twoFactor: false });
      const b = await plainSignIn(user, UA.firefox);
      const step = await press(adminBrowser, `/admin/users/${user.id}`, `/admin/users/${user.id}/sign-out-everywhere`);
      expect(step.status).toBe(200);
      expect(await stillSignedIn(b)).toBe(true);
      expect(await eventsOf(user, 'session.ended_all')).toHaveLength(0);
      expect(await mailsTo(t, user.email)).toHaveLength(0);
    });

    it('is a 404 for an admin of another organizer: nothing ends, nothing is sent', async () => {
      const { person: outsider } = await adminOf(t, 'Outside Org', 'Oscar Outside');
      const user = await createUser(t, { organizer: 'Inside Org', twoFactor: false });
      const b = await plainSignIn(user, UA.firefox);
      expect((await outsider.get(`/admin/users/${user.id}`)).status).toBe(404);
      for (const fields of [{}, { confirm: 'yes' }] as Record<string, string>[]) {
        const answer = await outsider.post(`/admin/users/${user.id}/sign-out-everywhere`, fields);
        expect(answer.status).toBe(404);
      }
      expect(await stillSignedIn(b)).toBe(true);
      expect(await eventsOf(user, 'session.ended_all')).toHaveLength(0);
      expect(await mailsTo(t, user.email)).toHaveLength(0);
    });

    it('needs a CSRF token and an admin', async () => {
      const org = 'Guard Org';
      const { person: adminBrowser } = await adminOf(t, org, 'Gus Guard');
      const user = await createUser(t, { organizer: org, twoFactor: false });
      const b = await plainSignIn(user, UA.firefox);
      const forged = await adminBrowser.agent
        .post(`/admin/users/${user.id}/sign-out-everywhere`)
        .type('form')
        .send({ confirm: 'yes' })
        .redirects(0);
      expect(forged.status).toBe(403);
      const member = await createUser(t, { organizer: org, twoFactor: false });
      const memberBrowser = await plainSignIn(member);
      expect((await memberBrowser.post(`/admin/users/${user.id}/sign-out-everywhere`, { confirm: 'yes' })).status).toBe(
        403,
      );
      expect(await stillSignedIn(b)).toBe(true);
    });
  });
});
