import request from 'supertest';
import { DataSource } from 'typeorm';
import { format } from 'node:util';
import { KEY_PURPOSES, KeyRing } from '../../src/common/crypto/key-ring';
import { PasswordResetService } from '../../src/password-reset/password-reset.service';
import { UsersService } from '../../src/users/users.service';
import { codeAt, csrfFrom, manualKeyFrom, Person, recoveryCodesFrom } from '../utils/agent';
import { adminOf, pressAndConfirm, wrongCode } from '../utils/admin';
import { LogCapture } from '../utils/log-capture';
import { lastMailTo, linkIn, outbox } from '../utils/mail';
import { createTestApp, createUser, DEFAULT_PASSWORD, TEST_SECRET, TestApp } from '../utils/test-app';

/**
 * SECURITY.md 28: no password, code, recovery code, token, secret, session id or cookie is
 * ever written to a log line or an audit detail. One long journey (sign-ins that fail and
 * succeed, a lockout, an invitation, 2FA setup, codes, a recovery code, Resend QR, a
 * password change, a forgotten password reset by its link) with every log level on
 * (LOG_LEVEL=trace, the route map too); every secret that passes by is kept, then the
 * app's log lines (pino's JSON, read from the test's own destination), anything else written
 * to stdout, stderr or the console, and the audit table are searched for each of them. The
 * request log is checked too: one line per request, with its id, method, route pattern,
 * status, time and the signed-in user.
 */

// Many argon2id hashes (OWASP parameters): give a loaded machine room.
jest.setTimeout(240_000);

const PUBLIC_URL = 'http://localhost:3000';
const ORG = 'Quiet Logs Org';
const USER_EMAIL = 'uma.user@quiet-logs.test';
const VICTIM_EMAIL = 'victim@quiet-logs.test';
const UNKNOWN_EMAIL = 'nobody.here@quiet-logs.test';
/** With a small per-client limit the last step provokes its warning: one log line about sign-ins. */
const CLIENT_MAX_FAILURES = 25;

type Kind =
  | 'password'
  | 'code'
  | 'recovery code'
  | 'link token'
  | 'totp secret'
  | 'session id'
  | 'cookie'
  | 'csrf token'
  | 'app secret'
  | 'derived key';

interface Secret {
  kind: Kind;
  value: string;
  /** Where it came from, for the failure message. */
  origin: string;
}

// ---------------------------------------------------------------------------------------
// The scan (checked on fake input below, so a scan that finds nothing is not a broken scan)
// ---------------------------------------------------------------------------------------

/** Terminal colour escapes, as Nest's console logger writes them. */
const ANSI_COLOURS = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');
const withoutColours = (text: string) => text.replace(ANSI_COLOURS, '');

/** A 6-digit code as a number of its own: not part of a longer digit run (epoch ms, ids). */
function codePattern(code: string): RegExp {
  return new RegExp(`(?<!\\d)${code}(?!\\d)`);
}

/**
 * Text where a 6-digit code could show up by chance, with those places masked: colour
 * escapes, Nest's `[Nest] <pid>` prefix, .eml file names (random hex) and UUIDs (ids).
 * Used only for codes; every longer secret is searched in the text as it is.
 */
function withoutNumericNoise(text: string): string {
  return withoutColours(text)
    .replace(/\[Nest\] \d+/g, '[Nest] PID')
    .replace(/"pid":\d+/g, '"pid":PID')
    .replace(/\S+\.eml\b/g, 'FILE.eml')
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, 'UUID');
}

/** The secrets found in `haystack`: codes as whole numbers, the rest as substrings, in any case. */
function leaksIn(haystack: string, secrets: Secret[]): Secret[] {
  const plain = withoutColours(haystack).toLowerCase();
  const numeric = withoutNumericNoise(haystack);
  return secrets.filter((secret) =>
    secret.kind === 'code' ? codePattern(secret.value).test(numeric) : plain.includes(secret.value.toLowerCase()),
  );
}

/** The lines of `text` that hold `secret` (for a readable failure). */
function linesWith(text: string, secret: Secret): string[] {
  return text.split('\n').filter((line) => leaksIn(line, [secret]).length > 0);
}

// ---------------------------------------------------------------------------------------
// Collecting the secrets that pass by
// ---------------------------------------------------------------------------------------

class SecretBag {
  private readonly byValue = new Map<string, Secret>();

  add(kind: Kind, value: string | undefined | null, origin: string): void {
    if (!value) return;
    if (kind === 'code') {
      if (!/^\d{6}$/.test(value)) throw new Error(`A code that is not 6 digits: ${value} (${origin})`);
    } else if (value.length < 6) {
      throw new Error(`A secret shorter than 6 characters: ${kind} ${value} (${origin})`);
    }
    // The same value may be two things (the CSRF cookie holds the form's token): kept as each.
    const key = `${kind}\n${value}`;
    if (!this.byValue.has(key)) this.byValue.set(key, { kind, value, origin });
  }

  /** A password, also in the encodings a logged request body or URL would show it in. */
  password(value: string, origin: string): void {
    this.add('password', value, origin);
    this.add('password', encodeURIComponent(value), `${origin} (URL-encoded)`);
    this.add('password', encodeURIComponent(value).replace(/%20/g, '+'), `${origin} (form-encoded)`);
  }

  /** A recovery code as shown (xxxx-xxxx-xxxx) and as normalised before hashing. */
  recoveryCode(value: string, origin: string): void {
    this.add('recovery code', value, origin);
    this.add('recovery code', value.replace(/-/g, ''), `${origin} (normalised)`);
  }

  /** A TOTP secret in base32 (as shown), grouped by four, and as raw bytes in hex and base64. */
  totpSecret(base32: string, origin: string): void {
    this.add('totp secret', base32, origin);
    this.add('totp secret', base32.match(/.{1,4}/g)!.join(' '), `${origin} (grouped)`);
    const bytes = base32Decode(base32);
    this.add('totp secret', bytes.toString('hex'), `${origin} (hex)`);
    this.add('totp secret', bytes.toString('base64').replace(/=+$/, ''), `${origin} (base64)`);
  }

  /** A cookie value, decoded, and its random parts. */
  cookie(name: string, raw: string, origin: string): void {
    const decoded = safeDecode(raw);
    this.add('cookie', raw, `${origin}: ${name}`);
    this.add('cookie', decoded, `${origin}: ${name} (decoded)`);
    if (/\.sid$/.test(name)) {
      // express-session: `s:<id>.<signature>`.
      const match = decoded.match(/^s:([^.]+)\.(.+)$/);
      if (match) {
        this.add('session id', match[1], `${origin}: ${name} id`);
        this.add('cookie', match[2], `${origin}: ${name} signature`);
      }
      return;
    }
    if (/\.device$/.test(name)) {
      // Entries `userId.issuedAt.deviceId.mac` joined by `~`: the user id and time are no secret.
      for (const entry of decoded.split('~')) {
        const [, , deviceId, mac] = entry.split('.');
        this.add('cookie', entry, `${origin}: ${name} entry`);
        this.add('cookie', deviceId, `${origin}: ${name} device id`);
        this.add('cookie', mac, `${origin}: ${name} MAC`);
      }
      return;
    }
    for (const part of randomParts(decoded)) this.add('cookie', part, `${origin}: ${name} part`);
  }

  /** A CSRF token (`hmac.random`) and both halves. */
  csrf(token: string, origin: string): void {
    this.add('csrf token', token, origin);
    for (const part of randomParts(token)) this.add('csrf token', part, `${origin} (part)`);
  }

  all(): Secret[] {
    return [...this.byValue.values()];
  }

  ofKind(kind: Kind): Secret[] {
    return this.all().filter((secret) => secret.kind === kind);
  }
}

/** The long random pieces of a structured value (not ids, not timestamps). */
function randomParts(value: string): string[] {
  return value
    .split(/[.~|:!]/)
    .filter((part) => part.length >= 16 && !/^\d+$/.test(part) && !/^[0-9a-f]{8}-[0-9a-f]{4}-/i.test(part));
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

function base32Decode(input: string): Buffer {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const char of input.replace(/=+$/, '')) bits += alphabet.indexOf(char).toString(2).padStart(5, '0');
  const bytes: number[] = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(bytes);
}

// ---------------------------------------------------------------------------------------
// Capturing everything written
// ---------------------------------------------------------------------------------------

interface Capture {
  text(): string;
  stop(): void;
}

/** Everything written to stdout, stderr and the console from now on, kept and not shown. */
function captureOutput(): Capture {
  const chunks: string[] = [];
  const spies: jest.SpyInstance[] = [];
  const toText = (chunk: unknown) =>
    typeof chunk === 'string'
      ? chunk
      : Buffer.isBuffer(chunk) || chunk instanceof Uint8Array
        ? Buffer.from(chunk).toString('utf8')
        : String(chunk);
  for (const stream of [process.stdout, process.stderr]) {
    spies.push(
      jest.spyOn(stream, 'write').mockImplementation(((chunk: unknown, ...rest: unknown[]) => {
        chunks.push(toText(chunk));
        const callback = rest.find((arg) => typeof arg === 'function') as (() => void) | undefined;
        callback?.();
        return true;
      }) as never),
    );
  }
  for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    spies.push(
      jest.spyOn(console, method).mockImplementation((...args: unknown[]) => void chunks.push(format(...args) + '\n')),
    );
  }
  let stopped = false;
  return {
    text: () => chunks.join(''),
    stop: () => {
      if (stopped) return;
      stopped = true;
      for (const spy of spies) spy.mockRestore();
    },
  };
}

/** Watches every response the test's browsers receive (redirects included): cookies set and CSRF tokens shown. */
function watchResponses(onResponse: (res: { headers: Record<string, unknown>; text?: string }) => void): () => void {
  type End = (fn?: (err: unknown, res: unknown) => void) => unknown;
  const proto = (
    request as unknown as {
      Test: { prototype: { end: End; on(event: string, listener: (res: unknown) => void): unknown } };
    }
  ).Test.prototype;
  const originalEnd = proto.end;
  proto.end = function (this: typeof proto, fn) {
    this.on('redirect', (res) => onResponse(res as never));
    return originalEnd.call(this, (err, res) => {
      if (res) onResponse(res as never);
      fn?.(err, res);
    });
  };
  return () => {
    proto.end = originalEnd;
  };
}

// ---------------------------------------------------------------------------------------

describe('no secret in logs or audit details (SECURITY.md 28)', () => {
  let t: TestApp;
  let capture: Capture;
  let unwatch: () => void;
  const secrets = new SecretBag();
  const logs = new LogCapture();
  /** Every response the browsers received: its status and request id (redirects included). */
  const answered: { status: number; reqId: string }[] = [];

  beforeAll(async () => {
    capture = captureOutput();
    unwatch = watchResponses((res) => {
      answered.push({
        status: (res as unknown as { status: number }).status,
        reqId: String(res.headers['x-request-id']),
      });
      const setCookie = res.headers['set-cookie'];
      for (const header of Array.isArray(setCookie) ? (setCookie as string[]) : []) {
        const [pair] = header.split(';');
        const at = pair.indexOf('=');
        const name = pair.slice(0, at);
        const value = pair.slice(at + 1);
        if (value) secrets.cookie(name, value, 'Set-Cookie');
      }
      for (const match of (res.text ?? '').matchAll(/name="_csrf" value="([^"]+)"/g)) secrets.csrf(match[1], 'a form');
    });
    t = await createTestApp({
      logDestination: logs,
      env: { LOG_LEVEL: 'trace', LOG_ROUTES: 'true', CLIENT_MAX_FAILURES: String(CLIENT_MAX_FAILURES) },
    });
  });

  afterAll(async () => {
    unwatch?.();
    capture?.stop();
    await t?.close();
  });

  it('signs in, fails, locks, invites, sets up 2FA, uses codes, resets and changes a password: none of the secrets is in the logs or the audit table', async () => {
    const db = t.get(DataSource);
    const sessionRows: string[] = [];
    const counterRows: string[] = [];
    const snapshot = async () => {
      for (const row of await db.query('SELECT * FROM sessions')) sessionRows.push(JSON.stringify(row));
      for (const row of await db.query('SELECT * FROM attempt_counters')) counterRows.push(JSON.stringify(row));
    };
    const code = (value: string, origin: string) => {
      secrets.add('code', value, origin);
      return value;
    };
    const keepBrowser = (person: Person, who: string) => {
      for (const name of ['tixngo.sid', 'tixngo.device', 'tixngo.csrf']) {
        const value = person.cookie(name);
        if (value) secrets.cookie(name, value, `${who}'s browser`);
      }
    };

    // The app's own secrets.
    secrets.add('app secret', TEST_SECRET, 'APP_SECRET');
    const keys = t.get(KeyRing);
    for (const purpose of KEY_PURPOSES) {
      secrets.add('derived key', keys.key(purpose).toString('hex'), `${purpose} key (hex)`);
      secrets.add('derived key', keys.key(purpose).toString('base64url'), `${purpose} key (base64url)`);
    }

    // 1. An admin (2FA off) signs in.
    const { admin, person: adminBrowser } = await adminOf(t, ORG, 'Ada Admin');
    secrets.password(DEFAULT_PASSWORD, 'the admin password');
    expect((await adminBrowser.get('/')).status).toBe(200);
    keepBrowser(adminBrowser, 'the admin');

    // 2. Wrong passwords, several distinct ones, for a real and for an unknown email.
    const guesser = new Person(t.server);
    for (let i = 1; i <= 3; i++) {
      const guess = `admin-guess-${i} Pa55word!`;
      secrets.password(guess, 'a wrong password for a real email');
      expect((await guesser.login(admin.email, guess)).status).toBe(401);
      const other = `nobody-guess-${i} Hunter2!!`;
      secrets.password(other, 'a wrong password for an unknown email');
      expect((await guesser.login(UNKNOWN_EMAIL, other)).status).toBe(401);
    }
    keepBrowser(guesser, 'the guesser');

    // 3. Ten wrong passwords lock an account; its right password is then refused too.
    const victimPassword = 'victim real passphrase 42';
    secrets.password(victimPassword, 'the locked account’s password');
    await createUser(t, {
      organizer: ORG,
      email: VICTIM_EMAIL,
      name: 'Vic Victim',
      twoFactor: false,
      password: victimPassword,
    });
    const locker = new Person(t.server);
    for (let i = 1; i <= 10; i++) {
      const guess = `locking guess number ${i}`;
      secrets.password(guess, 'a wrong password that locks');
      expect((await locker.login(VICTIM_EMAIL, guess)).status).not.toBe(303);
    }
    expect((await locker.login(VICTIM_EMAIL, victimPassword)).status).toBe(429);
    await snapshot();

    // 4. Users → New user → the invitation link → the new user chooses a password.
    const created = await adminBrowser.submit('/admin/users/new', '/admin/users', {
      email: USER_EMAIL,
      name: 'Uma User',
      role: 'member',
      twoFactor: 'on',
    });
    expect(created.status).toBe(303);
    const user = (await t.get(UsersService).findByEmail(USER_EMAIL))!;
    const userPage = `/admin/users/${user.id}`;
    const invitation = linkIn(await lastMailTo(t, USER_EMAIL, /invited/), '/invitations/');
    secrets.add('link token', invitation.split('/').pop(), 'the invitation link');

    let userPassword = 'uma chooses a long passphrase';
    secrets.password(userPassword, 'the invited user’s password');
    const mismatch = 'uma mistypes the passphrase';
    secrets.password(mismatch, 'a mistyped confirmation');
    const browser = new Person(t.server);
    expect((await browser.get(invitation)).status).toBe(200);
    expect(
      (await browser.submit(invitation, invitation, { newPassword: userPassword, confirmPassword: mismatch })).status,
    ).toBe(400);
    const chosen = await browser.submit(invitation, invitation, {
      newPassword: userPassword,
      confirmPassword: userPassword,
    });
    expect(chosen.headers.location).toBe('/2fa/setup');
    await snapshot();

    // 5. 2FA setup: the secret, a wrong code, the right code, the 10 recovery codes; sign out.
    const setup = await browser.get('/2fa/setup');
    const secret = manualKeyFrom(setup.text);
    secrets.totpSecret(secret, 'the first TOTP secret');
    const setupWrong = await browser.agent
      .post('/2fa/setup')
      .type('form')
      .send({ code: code(wrongCode(secret, t.clock), 'a wrong setup code'), _csrf: csrfFrom(setup.text) })
      .redirects(0);
    expect(setupWrong.status).toBe(400);
    const confirmed = await browser.agent
      .post('/2fa/setup')
      .type('form')
      .send({ code: code(codeAt(secret, t.clock), 'the setup code'), _csrf: csrfFrom(setup.text) })
      .redirects(0);
    expect(confirmed.headers.location).toBe('/2fa/recovery-codes');
    const codesPage = await browser.get('/2fa/recovery-codes');
    const recoveryCodes = recoveryCodesFrom(codesPage.text);
    expect(recoveryCodes).toHaveLength(10);
    for (const recoveryCode of recoveryCodes) secrets.recoveryCode(recoveryCode, 'the first recovery codes');
    expect(
      (
        await browser.agent
          .post('/2fa/recovery-codes')
          .type('form')
          .send({ saved: 'yes', _csrf: csrfFrom(codesPage.text) })
          .redirects(0)
      ).headers.location,
    ).toBe('/');
    keepBrowser(browser, 'the user');
    await snapshot();
    expect((await browser.post('/logout', {}, '/')).status).toBe(303);

    // 6. Later sign-ins: a wrong code then the right one; then a recovery code.
    t.clock.advance(30_000);
    const later = new Person(t.server);
    expect((await later.login(USER_EMAIL, userPassword)).headers.location).toBe('/2fa/verify');
    expect(
      (await later.submit('/2fa/verify', '/2fa/verify', { code: code(wrongCode(secret, t.clock), 'a wrong code') }))
        .status,
    ).toBe(401);
    expect(
      (await later.submit('/2fa/verify', '/2fa/verify', { code: code(codeAt(secret, t.clock), 'a sign-in code') }))
        .headers.location,
    ).toBe('/');
    keepBrowser(later, 'the user (later)');
    await snapshot();
    expect((await later.post('/logout', {}, '/')).status).toBe(303);

    t.clock.advance(30_000);
    const recovering = new Person(t.server);
    expect((await recovering.login(USER_EMAIL, userPassword)).headers.location).toBe('/2fa/verify');
    const madeUp = 'wxyz-2345-abcd';
    secrets.recoveryCode(madeUp, 'a wrong recovery code');
    expect((await recovering.submit('/2fa/recovery', '/2fa/recovery', { recoveryCode: madeUp })).status).not.toBe(303);
    expect(
      (await recovering.submit('/2fa/recovery', '/2fa/recovery', { recoveryCode: recoveryCodes[0] })).headers.location,
    ).toBe('/');
    keepBrowser(recovering, 'the user (recovery)');
    await snapshot();

    // 7. Resend QR → the emailed link → a wrong then the right password → a new secret → a code.
    const { result } = await pressAndConfirm(adminBrowser, userPage, `${userPage}/resend-qr`);
    expect(result.status).toBe(303);
    const resetLink = linkIn(await lastMailTo(t, USER_EMAIL, /authenticator/i), '/2fa/reset/');
    secrets.add('link token', resetLink.split('/').pop(), 'the Resend QR link');
    const phone = new Person(t.server);
    expect((await phone.get(resetLink)).status).toBe(200);
    const resetGuess = 'not my password on the reset link';
    secrets.password(resetGuess, 'a wrong password on the reset link');
    expect((await phone.submit(resetLink, resetLink, { password: resetGuess })).status).toBe(401);
    expect((await phone.submit(resetLink, resetLink, { password: userPassword })).headers.location).toBe('/2fa/setup');
    const resetSetup = await phone.get('/2fa/setup');
    const newSecret = manualKeyFrom(resetSetup.text);
    expect(newSecret).not.toBe(secret);
    secrets.totpSecret(newSecret, 'the TOTP secret after Resend QR');
    t.clock.advance(30_000);
    const reconfirmed = await phone.agent
      .post('/2fa/setup')
      .type('form')
      .send({
        code: code(codeAt(newSecret, t.clock), 'the setup code after Resend QR'),
        _csrf: csrfFrom(resetSetup.text),
      })
      .redirects(0);
    expect(reconfirmed.headers.location).toBe('/2fa/recovery-codes');
    const newCodesPage = await phone.get('/2fa/recovery-codes');
    const newRecoveryCodes = recoveryCodesFrom(newCodesPage.text);
    expect(newRecoveryCodes).toHaveLength(10);
    for (const recoveryCode of newRecoveryCodes)
      secrets.recoveryCode(recoveryCode, 'the recovery codes after Resend QR');
    expect(
      (
        await phone.agent
          .post('/2fa/recovery-codes')
          .type('form')
          .send({ saved: 'yes', _csrf: csrfFrom(newCodesPage.text) })
          .redirects(0)
      ).headers.location,
    ).toBe('/');
    keepBrowser(phone, 'the user (phone)');
    await snapshot();

    // 8. The user changes their password on /account (a wrong current password first).
    const wrongCurrent = 'this is not the current one';
    const newPassword = 'uma picks another passphrase';
    secrets.password(wrongCurrent, 'a wrong current password');
    secrets.password(newPassword, 'the changed password');
    expect(
      (
        await phone.submit('/account', '/account/password', {
          currentPassword: wrongCurrent,
          newPassword,
          confirmPassword: newPassword,
        })
      ).status,
    ).toBe(401);
    expect(
      (
        await phone.submit('/account', '/account/password', {
          currentPassword: userPassword,
          newPassword,
          confirmPassword: newPassword,
        })
      ).headers.location,
    ).toBe('/account');
    userPassword = newPassword;
    await snapshot();
    t.clock.advance(30_000);
    const afterChange = new Person(t.server);
    expect((await afterChange.login(USER_EMAIL, userPassword)).headers.location).toBe('/2fa/verify');
    expect(
      (
        await afterChange.submit('/2fa/verify', '/2fa/verify', {
          code: code(codeAt(newSecret, t.clock), 'a code after the password change'),
        })
      ).headers.location,
    ).toBe('/');
    keepBrowser(afterChange, 'the user (after the change)');

    // 8b. Forgot your password? → the emailed link → a mistyped then a new password → a sign-in with it.
    const forgetful = new Person(t.server);
    expect((await forgetful.submit('/password/forgot', '/password/forgot', { email: USER_EMAIL })).status).toBe(200);
    await t.get(PasswordResetService).settled();
    const passwordLink = linkIn(await lastMailTo(t, USER_EMAIL, /^Reset your password$/), '/password/reset/');
    secrets.add('link token', passwordLink.split('/').pop(), 'the password reset link');
    const resetPassword = 'uma resets to a fresh passphrase';
    const resetMismatch = 'uma mistypes the fresh passphrase';
    secrets.password(resetPassword, 'the password set by the reset link');
    secrets.password(resetMismatch, 'a mistyped confirmation on the reset link');
    expect((await forgetful.get(passwordLink)).status).toBe(200);
    expect(
      (
        await forgetful.submit(passwordLink, passwordLink, {
          newPassword: resetPassword,
          confirmPassword: resetMismatch,
        })
      ).status,
    ).toBe(400);
    expect(
      (
        await forgetful.submit(passwordLink, passwordLink, {
          newPassword: resetPassword,
          confirmPassword: resetPassword,
        })
      ).headers.location,
    ).toBe('/login');
    userPassword = resetPassword;
    t.clock.advance(30_000);
    const afterReset = new Person(t.server);
    expect((await afterReset.login(USER_EMAIL, userPassword)).headers.location).toBe('/2fa/verify');
    expect(
      (
        await afterReset.submit('/2fa/verify', '/2fa/verify', {
          code: code(codeAt(newSecret, t.clock), 'a code after the password reset'),
        })
      ).headers.location,
    ).toBe('/');
    keepBrowser(afterReset, 'the user (after the reset)');
    await snapshot();

    // 9. Every link token in every email sent ("This wasn't me" links included).
    const linkPattern = new RegExp(
      `${PUBLIC_URL.replace(/[.]/g, '\\.')}/(not-me|invitations|2fa/reset|password/reset)/([A-Za-z0-9_-]+)`,
      'g',
    );
    for (const mail of await outbox(t)) {
      for (const match of `${mail.text}\n${mail.html}`.matchAll(linkPattern))
        secrets.add('link token', match[2], `a /${match[1]}/ link in “${mail.subject}”`);
    }
    const notMeTokens = secrets.ofKind('link token').filter((secret) => secret.origin.includes('/not-me/'));

    // 10. Wrong sign-ins from this client until the per-client limit refuses it: that is logged.
    let warned = false;
    for (let i = 1; i <= CLIENT_MAX_FAILURES + 5 && !warned; i++) {
      const flood = `flooding password ${i} !`;
      secrets.password(flood, 'a wrong password from a flood');
      await new Person(t.server).login(`flood${i}@quiet-logs.test`, flood);
      warned = /Sign-ins from .* refused for/.test(logs.text());
    }
    await snapshot();

    // What the database holds, then stop capturing.
    const auditRows: Record<string, unknown>[] = await db.query('SELECT * FROM audit_events');
    const logText = `${logs.text()}\n${capture.text()}`;
    capture.stop();
    unwatch();

    // ---- Not vacuous: the capture works, the journey happened, the secrets were collected.
    const plainLog = withoutColours(logText);
    expect(warned).toBe(true);
    const lines = logs.lines();
    expect(lines.some((line) => /Nest application successfully started/.test(line.msg))).toBe(true);
    expect(lines.some((line) => line.context === 'RouterExplorer' && /Mapped \{\/login, POST\}/.test(line.msg))).toBe(
      true,
    );
    expect(plainLog).toContain('Email written to');
    expect(
      lines.some(
        (line) =>
          line.context === 'Login' && line.level === 'warn' && /Sign-ins from .* refused for 15 minutes/.test(line.msg),
      ),
    ).toBe(true);

    // ---- The request log: one line per answer the browsers got, with its id, method, route pattern, status, time.
    const requestLines = logs.requests();
    const byId = new Map(requestLines.map((line) => [line.reqId, line]));
    expect(byId.size).toBe(requestLines.length);
    expect(answered.length).toBeGreaterThan(100);
    expect(answered.filter(({ reqId, status }) => byId.get(reqId)?.status !== status)).toEqual([]);
    const fields = new Set([
      'level',
      'time',
      'pid',
      'reqId',
      'method',
      'route',
      'status',
      'responseTimeMs',
      'userId',
      'msg',
    ]);
    for (const line of requestLines) {
      expect([line, Object.keys(line).filter((key) => !fields.has(key))]).toEqual([line, []]);
      expect(line).toEqual(
        expect.objectContaining({
          reqId: expect.stringMatching(/^[0-9a-f-]{36}$/),
          method: expect.stringMatching(/^(GET|POST)$/),
          route: expect.stringMatching(/^(\/|\(unmatched\)$)/),
          status: expect.any(Number),
          responseTimeMs: expect.any(Number),
        }),
      );
    }
    const routes = new Set(requestLines.map((line) => line.route));
    for (const route of [
      '/login',
      '/2fa/verify',
      '/2fa/setup',
      '/invitations/:token',
      '/2fa/reset/:token',
      '/password/forgot',
      '/password/reset/:token',
      '/admin/users/:id',
    ]) {
      expect([route, routes.has(route)]).toEqual([route, true]);
    }
    const signedInAs = (userId: string) => requestLines.filter((line) => line.userId === userId);
    expect(signedInAs(admin.id).some((line) => line.route === '/admin/users/:id')).toBe(true);
    expect(
      signedInAs(user.id).some((line) => line.method === 'POST' && line.route === '/2fa/verify' && line.status === 303),
    ).toBe(true);
    expect(requestLines.filter((line) => String(line.route).startsWith('/assets')).every((line) => !line.userId)).toBe(
      true,
    );

    const types = new Set(auditRows.map((row) => row.type));
    for (const type of [
      'login.failed',
      'login.locked',
      'login.succeeded',
      'code.failed',
      'two_factor.setup',
      'two_factor.reset',
      'account.created',
      'account.invitation_accepted',
      'password.changed',
      'recovery_code.used',
    ]) {
      expect([type, types.has(type)]).toEqual([type, true]);
    }
    expect(auditRows.filter((row) => row.type === 'login.failed').length).toBeGreaterThanOrEqual(3 + 10);

    const count = (kind: Kind) => secrets.ofKind(kind).length;
    expect(count('password')).toBeGreaterThanOrEqual(3 * (1 + 6 + 1 + 10 + 2 + 1 + 2));
    expect(count('code')).toBeGreaterThanOrEqual(5);
    expect(count('recovery code')).toBeGreaterThanOrEqual(2 * 21);
    expect(count('totp secret')).toBe(2 * 4);
    expect(secrets.ofKind('link token').length).toBeGreaterThanOrEqual(3);
    expect(notMeTokens.length).toBeGreaterThanOrEqual(1);
    expect(count('session id')).toBeGreaterThanOrEqual(5);
    expect(secrets.all().filter((secret) => secret.origin.includes('tixngo.device')).length).toBeGreaterThanOrEqual(3);
    expect(count('csrf token')).toBeGreaterThanOrEqual(10);
    expect(count('app secret')).toBe(1);
    expect(sessionRows.length).toBeGreaterThan(0);
    expect(counterRows.length).toBeGreaterThan(0);

    // ---- The scan itself finds a secret when there is one.
    const all = secrets.all();
    for (const kind of [
      'password',
      'code',
      'recovery code',
      'link token',
      'totp secret',
      'session id',
      'cookie',
      'csrf token',
      'app secret',
      'derived key',
    ] as Kind[]) {
      const sample = secrets.ofKind(kind)[0];
      const fakeLine = `[Nest] 4242  - 01/15/2026, 9:00:00 AM     LOG [Fake] value=${sample.value}\n`;
      expect([kind, leaksIn(logText + fakeLine, all).map((found) => found.value)]).toEqual([
        kind,
        expect.arrayContaining([sample.value]),
      ]);
      const fakeRow = JSON.stringify({ ...auditRows[0], detail: JSON.stringify({ leaked: sample.value }) });
      expect([kind, leaksIn(fakeRow, [sample]).length]).toEqual([kind, 1]);
    }
    // A code inside a longer number (epoch milliseconds, a 13-digit id) is not a leak; on its own it is.
    const someCode = secrets.ofKind('code')[0];
    expect(leaksIn(`at 1768${someCode.value}123 ms`, [someCode])).toEqual([]);
    expect(leaksIn(`code ${someCode.value} refused`, [someCode])).toEqual([someCode]);
    expect(leaksIn(`{"code":"${someCode.value}"}`, [someCode])).toEqual([someCode]);

    // ---- The log output holds none of them.
    const inLogs = leaksIn(logText, all).map((secret) => ({
      ...secret,
      lines: linesWith(logText, secret).slice(0, 3),
    }));
    expect(inLogs).toEqual([]);

    // ---- No column of any audit row holds one; codes are searched in `detail` (and `ip`).
    const nonCodes = all.filter((secret) => secret.kind !== 'code');
    const codes = all.filter((secret) => secret.kind === 'code');
    const inAudit = auditRows.flatMap((row) => [
      ...leaksIn(JSON.stringify(row), nonCodes).map((secret) => ({ ...secret, row })),
      ...leaksIn(`${row.detail ?? ''} ${row.ip ?? ''}`, codes).map((secret) => ({ ...secret, row })),
    ]);
    expect(inAudit).toEqual([]);

    // ---- Sessions keep no password, recovery code, TOTP secret or link token in their data.
    const sessionSecrets = all.filter((secret) =>
      ['password', 'recovery code', 'totp secret', 'link token'].includes(secret.kind),
    );
    const inSessions = [...new Set(sessionRows)].flatMap((row) =>
      leaksIn(JSON.parse(row).data ?? '', sessionSecrets).map((secret) => ({ ...secret, row })),
    );
    expect(inSessions).toEqual([]);

    // ---- Attempt counters name emails only by a keyed hash, and hold no password.
    const emails = [admin.email, VICTIM_EMAIL, USER_EMAIL, UNKNOWN_EMAIL, 'flood1@quiet-logs.test'];
    const counterText = [...new Set(counterRows)].join('\n').toLowerCase();
    expect(emails.filter((email) => counterText.includes(email.toLowerCase()))).toEqual([]);
    expect(counterText).not.toContain('quiet-logs');
    expect(leaksIn(counterText, secrets.ofKind('password'))).toEqual([]);
  });
});
