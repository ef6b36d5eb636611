import { codeAt, csrfFrom, manualKeyFrom, Person } from '../utils/agent';
import { createTestApp, createUser, DEFAULT_PASSWORD, TestApp } from '../utils/test-app';

/** `next` values that normalise to a scheme-relative `//evil.test` (SECURITY.md 21, 25). */
const DOT_SEGMENT_TARGETS = [
  '/.//evil.test',
  '/..//evil.test',
  '/%2e//evil.test',
  '/%2E//evil.test',
  '/a/..//evil.test',
  '/%2E%2E//evil.test',
];

/** Where a browser goes with this Location from a page of the app. */
const hostOf = (location: string) => new URL(location, 'http://127.0.0.1/login').host;

// Argon2id (OWASP parameters) at each sign-in: room for a loaded machine.
jest.setTimeout(60_000);

describe('redirect targets after sign-in (next=…)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.close());

  it('after the password (2FA off): a dot-segment target goes to the dashboard, never to another host', async () => {
    const user = await createUser(t, { twoFactor: false });
    const seen: Record<string, unknown>[] = [];
    for (const next of DOT_SEGMENT_TARGETS) {
      const person = new Person(t.server);
      const page = await person.get(`/login?next=${encodeURIComponent(next)}`);
      const login = await person.login(user.email, DEFAULT_PASSWORD, next);
      seen.push({
        next,
        hidden: page.text.match(/name="next" value="([^"]*)"/)?.[1],
        status: login.status,
        location: login.headers.location,
      });
    }
    expect(seen).toEqual(DOT_SEGMENT_TARGETS.map((next) => ({ next, hidden: '', status: 303, location: '/' })));
  });

  it('after the password: a same-site target is kept (normalised)', async () => {
    const user = await createUser(t, { twoFactor: false });
    const login = await new Person(t.server).login(user.email, DEFAULT_PASSWORD, '/admin/./users?q=ann');
    expect(login.headers.location).toBe('/admin/users?q=ann');
    expect(hostOf(login.headers.location)).toBe('127.0.0.1');
  });

  it('after the setup and after the code: the same refusal', async () => {
    const user = await createUser(t, { twoFactor: true });
    const next = '/.//evil.test';

    // First sign-in: password, setup, recovery codes → Continue.
    const first = new Person(t.server);
    expect((await first.login(user.email, DEFAULT_PASSWORD, next)).headers.location).toBe('/2fa/setup');
    const setup = await first.get('/2fa/setup');
    const secret = manualKeyFrom(setup.text);
    const confirm = await first.agent
      .post('/2fa/setup')
      .type('form')
      .send({ code: codeAt(secret, t.clock), _csrf: csrfFrom(setup.text) })
      .redirects(0);
    expect(confirm.headers.location).toBe('/2fa/recovery-codes');
    const codes = await first.get('/2fa/recovery-codes');
    const saved = await first.agent
      .post('/2fa/recovery-codes')
      .type('form')
      .send({ saved: 'yes', _csrf: csrfFrom(codes.text) })
      .redirects(0);
    expect(saved.headers.location).toBe('/');

    // A later sign-in: password, then the code (a new time step: each step is accepted once).
    t.clock.advance(30_000);
    const later = new Person(t.server);
    expect((await later.login(user.email, DEFAULT_PASSWORD, '/%2E%2E//evil.test')).headers.location).toBe(
      '/2fa/verify',
    );
    const verified = await later.submit('/2fa/verify', '/2fa/verify', { code: codeAt(secret, t.clock) });
    expect(verified.headers.location).toBe('/');
  });
});
