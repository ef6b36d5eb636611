import request from 'supertest';
import type { AddressInfo } from 'node:net';
import { ManualClock } from '../utils/manual-clock';
import { codeAt, csrfFrom, manualKeyFrom, recoveryCodesFrom } from '../utils/agent';
import { createTestApp, TEST_START, TestApp } from '../utils/test-app';

/** One running app instance, listening on its own port. */
export interface Instance {
  name: 'A' | 'B';
  t: TestApp;
  url: string;
}

export interface TwoInstances {
  A: Instance;
  B: Instance;
  /** Moves both instances' clocks: two machines whose clocks agree. */
  advance(ms: number): void;
  close(): Promise<void>;
}

/** The URL of the throw-away database, or a clear failure when the spec is run without the runner. */
export function testDatabaseUrl(): string {
  const url = process.env.TEST_DATABASE_URL;
  if (!url)
    throw new Error('These specs need PostgreSQL: run them with `npm run test:postgres` (it sets TEST_DATABASE_URL).');
  return url;
}

async function listen(name: 'A' | 'B', t: TestApp): Promise<Instance> {
  await t.app.listen(0, '127.0.0.1');
  const { port } = t.server.address() as AddressInfo;
  return { name, t, url: `http://127.0.0.1:${port}` };
}

/**
 * Two instances of the real app on one PostgreSQL database, as `PORT=3001` and
 * `PORT=3002` with the same DATABASE_URL and APP_SECRET would be: A resets the schema
 * and migrates, B starts on the database as it is. Each has its own clock, set alike.
 */
export async function startTwoInstances(env: Record<string, string> = {}): Promise<TwoInstances> {
  testDatabaseUrl();
  const a = await createTestApp({ env, clock: new ManualClock(TEST_START) });
  const b = await createTestApp({ env, clock: new ManualClock(TEST_START), keepDatabase: true });
  const A = await listen('A', a);
  const B = await listen('B', b);
  return {
    A,
    B,
    advance(ms: number) {
      a.clock.advance(ms);
      b.clock.advance(ms);
    },
    close: async () => {
      await b.close();
      await a.close();
    },
  };
}

type Response = request.Response;

/**
 * One browser behind a load balancer: one cookie jar (cookies are per host, not per
 * port, as in a browser), and each request goes to the instance the test names.
 */
export class Browser {
  private readonly cookies = new Map<string, string>();

  /** `headers` go with every request, e.g. those a reverse proxy adds (X-Forwarded-Proto). */
  constructor(private readonly headers: Record<string, string> = {}) {}

  private cookieHeader(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  private remember(res: Response): Response {
    const header = res.headers['set-cookie'] as unknown as string[] | undefined;
    for (const line of header ?? []) {
      const [pair, ...attributes] = line.split(';').map((part) => part.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const expired = attributes.some(
        (a) => /^max-age=0$/i.test(a) || (/^expires=/i.test(a) && Date.parse(a.slice(8)) <= Date.now()),
      );
      if (expired) this.cookies.delete(name);
      else this.cookies.set(name, pair.slice(eq + 1));
    }
    return res;
  }

  /** The session cookie's value (it changes when the session id changes). */
  sessionCookie(): string | undefined {
    return this.cookies.get('tixngo.sid') ?? this.cookies.get('__Host-tixngo.sid');
  }

  async get(on: Instance, path: string): Promise<Response> {
    return this.remember(
      await request(on.url).get(path).set(this.headers).set('Cookie', this.cookieHeader()).redirects(0),
    );
  }

  async post(on: Instance, path: string, fields: Record<string, string>): Promise<Response> {
    return this.remember(
      await request(on.url)
        .post(path)
        .set(this.headers)
        .set('Cookie', this.cookieHeader())
        .type('form')
        .send(fields)
        .redirects(0),
    );
  }

  /** Opens `page` on one instance, then posts the form (with its CSRF token) to `postOn`. */
  async submit(
    pageOn: Instance,
    page: string,
    action: string,
    fields: Record<string, string>,
    postOn: Instance = pageOn,
  ): Promise<Response> {
    const form = await this.get(pageOn, page);
    return this.post(postOn, action, { ...fields, _csrf: csrfFrom(form.text) });
  }

  /** The CSRF token of a page, for a post sent later (e.g. at the same moment as another browser's). */
  async tokenFrom(on: Instance, page: string): Promise<string> {
    const form = await this.get(on, page);
    if (form.status !== 200)
      throw new Error(`${page} on ${on.name} answered ${form.status} ${form.headers.location ?? ''}`);
    return csrfFrom(form.text);
  }

  login(on: Instance, email: string, password: string): Promise<Response> {
    return this.submit(on, '/login', '/login', { email, password, next: '' });
  }
}

/** A 6-digit code that is wrong now: none of the codes of the accepted window T-1…T+1. */
export function wrongCode(secret: string, clock: ManualClock, seed = 0): string {
  const valid = new Set([-1, 0, 1].map((steps) => codeAt(secret, clock, steps)));
  for (let n = 123457 + seed * 7919; ; n = (n + 104729) % 1_000_000) {
    const code = String(n).padStart(6, '0');
    if (!valid.has(code)) return code;
  }
}

/**
 * Journey 2 across instances: the password on A, the setup page on A, the first code
 * on B, the recovery codes on A, "saved" on B, then logout.
 */
export async function setUpTwoFactorAcross(
  two: TwoInstances,
  email: string,
  password: string,
): Promise<{ secret: string; recoveryCodes: string[] }> {
  const { A, B } = two;
  const browser = new Browser();
  const login = await browser.login(A, email, password);
  if (login.headers.location !== '/2fa/setup')
    throw new Error(`login answered ${login.status} ${login.headers.location}`);
  const setup = await browser.get(A, '/2fa/setup');
  const secret = manualKeyFrom(setup.text);
  const confirm = await browser.post(B, '/2fa/setup', { code: codeAt(secret, B.t.clock), _csrf: csrfFrom(setup.text) });
  if (confirm.headers.location !== '/2fa/recovery-codes')
    throw new Error(`setup on B answered ${confirm.status}: ${confirm.text.slice(0, 300)}`);
  const codes = await browser.get(A, '/2fa/recovery-codes');
  const recoveryCodes = recoveryCodesFrom(codes.text);
  const saved = await browser.post(B, '/2fa/recovery-codes', { saved: 'yes', _csrf: csrfFrom(codes.text) });
  if (saved.headers.location !== '/') throw new Error(`recovery codes on B answered ${saved.status}`);
  await browser.submit(A, '/', '/logout', {});
  return { secret, recoveryCodes };
}
