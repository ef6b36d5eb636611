import request from 'supertest';
import type { Server } from 'node:http';
import { ManualClock } from './manual-clock';
import { timeStep, totpCode } from '../../src/two-factor/totp';

type Agent = ReturnType<typeof request.agent>;

/** The CSRF token of the first form in a page. */
export function csrfFrom(html: string): string {
  const match = html.match(/name="_csrf" value="([^"]+)"/);
  if (!match) throw new Error('No CSRF token in page:\n' + html.slice(0, 2000));
  return match[1];
}

/** The manual key shown on the setup page, without spaces. */
export function manualKeyFrom(html: string): string {
  const match = html.match(/id="manual-key">([A-Z2-7 ]+)</);
  if (!match) throw new Error('No manual key in page:\n' + html.slice(0, 3000));
  return match[1].replace(/ /g, '');
}

/** The recovery codes shown after setup. */
export function recoveryCodesFrom(html: string): string[] {
  return [...html.matchAll(/<li><code>([a-z0-9-]+)<\/code><\/li>/g)].map((m) => m[1]);
}

/** The code an authenticator app shows at the clock's time (or `steps` steps later). */
export function codeAt(secret: string, clock: ManualClock, steps = 0): string {
  return totpCode(secret, timeStep(clock.now()) + steps);
}

/**
 * A person with a browser: a supertest agent that keeps cookies and fills forms
 * the way the page gives them (CSRF token included).
 */
export class Person {
  readonly agent: Agent;

  constructor(readonly server: Server) {
    this.agent = request.agent(server);
  }

  get(path: string) {
    return this.agent.get(path).redirects(0);
  }

  /** Opens `page`, then posts `fields` to `action` with the page's CSRF token. */
  async submit(page: string, action: string, fields: Record<string, string | string[]>) {
    const form = await this.agent.get(page);
    return this.agent
      .post(action)
      .type('form')
      .send({ ...fields, _csrf: csrfFrom(form.text) })
      .redirects(0);
  }

  /** Posts with a CSRF token taken from `page`, without opening it again later. */
  async post(action: string, fields: Record<string, string | string[]>, tokenPage = '/') {
    const form = await this.agent.get(tokenPage);
    return this.agent
      .post(action)
      .type('form')
      .send({ ...fields, _csrf: csrfFrom(form.text) })
      .redirects(0);
  }

  login(email: string, password: string, next?: string) {
    return this.submit(next ? `/login?next=${encodeURIComponent(next)}` : '/login', '/login', {
      email,
      password,
      next: next ?? '',
    });
  }

  /** Password, then the setup page: scan (read the key), confirm a code. Returns the secret and recovery codes. */
  async setUpTwoFactor(clock: ManualClock): Promise<{ secret: string; recoveryCodes: string[] }> {
    const setup = await this.get('/2fa/setup');
    if (setup.status !== 200) throw new Error(`setup page answered ${setup.status} ${setup.headers.location ?? ''}`);
    const secret = manualKeyFrom(setup.text);
    const confirm = await this.agent
      .post('/2fa/setup')
      .type('form')
      .send({ code: codeAt(secret, clock), _csrf: csrfFrom(setup.text) })
      .redirects(0);
    if (confirm.headers.location !== '/2fa/recovery-codes')
      throw new Error(`setup confirm answered ${confirm.status}: ${confirm.text.slice(0, 500)}`);
    const codes = await this.get('/2fa/recovery-codes');
    const recoveryCodes = recoveryCodesFrom(codes.text);
    await this.agent
      .post('/2fa/recovery-codes')
      .type('form')
      .send({ saved: 'yes', _csrf: csrfFrom(codes.text) })
      .redirects(0);
    return { secret, recoveryCodes };
  }

  /** The session cookie's value (changes when the session id changes). */
  sessionCookie(): string | undefined {
    return this.cookie('tixngo.sid');
  }

  /** A cookie of this browser for the test server. */
  cookie(name: string): string | undefined {
    return this.jar().getCookie(name, { domain: '127.0.0.1', path: '/', secure: false, script: false })?.value;
  }

  /** Puts a cookie in this browser, as a `Set-Cookie` value. */
  setCookie(header: string): void {
    this.jar().setCookie(header, '127.0.0.1', '/');
  }

  private jar() {
    type Jar = {
      getCookie(name: string, access: unknown): { value: string } | undefined;
      setCookie(header: string, domain: string, path: string): void;
    };
    return (this.agent as unknown as { jar: Jar }).jar;
  }
}
