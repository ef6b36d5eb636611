import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEMO } from '../../src/seed';
import { csrfFrom } from '../utils/agent';
import { resetPostgresSchema } from '../utils/postgres';
import { TEST_SECRET } from '../utils/test-app';

/**
 * Graceful shutdown (issue 15): the app as a real process (`node -r ts-node/register/transpile-only
 * src/main.ts`, as in production but from the sources) gets SIGTERM while a sign-in is in flight.
 * "In flight" without a sleep: the sign-in's POST asks `Expect: 100-continue`, so the server's
 * `100 Continue` says it has read the request's headers and is waiting for its body; the
 * signal is sent then, the app's log says it is draining, and only then does the body go.
 */

// Two starts of the app from the TypeScript sources (about 3–6 s each on this machine) and an argon2 hash.
jest.setTimeout(120_000);

const ROOT = join(__dirname, '..', '..');

interface RunningApp {
  child: ChildProcess;
  port: number;
  lines: Record<string, unknown>[];
  /** Resolves with the first log line matching `test` (already written or still to come). */
  waitForLine(test: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startApp(dataDir: string): Promise<RunningApp> {
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'src/main.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'development',
      DATA_DIR: dataDir,
      APP_SECRET: TEST_SECRET,
      PORT: '0',
      PUBLIC_URL: 'http://localhost:3000',
      LOG_FORMAT: 'json',
      SHUTDOWN_GRACE_MS: '30000',
      ...(process.env.TEST_DATABASE_URL ? { DATABASE_URL: process.env.TEST_DATABASE_URL } : {}),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Record<string, unknown>[] = [];
  const waiters: {
    test: (line: Record<string, unknown>) => boolean;
    resolve: (line: Record<string, unknown>) => void;
  }[] = [];
  let pending = '';
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  child.stdout!.on('data', (chunk: Buffer) => {
    pending += chunk.toString('utf8');
    const complete = pending.split('\n');
    pending = complete.pop()!;
    for (const text of complete.filter(Boolean)) {
      const line = JSON.parse(text) as Record<string, unknown>;
      lines.push(line);
      for (const waiter of [...waiters]) {
        if (waiter.test(line)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(line);
        }
      }
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const waitForLine = (test: (line: Record<string, unknown>) => boolean) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const found = lines.find(test);
      if (found) return resolve(found);
      waiters.push({ test, resolve });
      void exited.then(({ code }) => reject(new Error(`The app exited (${code}) first:\n${stderr}`)));
    });
  return waitForLine((line) => /listening on port \d+/.test(String(line.msg))).then((line) => ({
    child,
    port: Number(/listening on port (\d+)/.exec(String(line.msg))![1]),
    lines,
    waitForLine,
    exited,
  }));
}

/** A GET with node's http client, no keep-alive: status, headers, body. */
function get(port: number, path: string, cookie = '') {
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }>(
    (resolve, reject) => {
      const req = httpRequest({ port, path, host: '127.0.0.1', headers: cookie ? { Cookie: cookie } : {} }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      });
      req.on('error', reject);
      req.end();
    },
  );
}

/** The `name=value` pairs of a response's Set-Cookie headers, as a Cookie header. */
function cookiesOf(setCookie: string | string[] | undefined): string {
  return [setCookie ?? []]
    .flat()
    .map((header) => header.split(';')[0])
    .join('; ');
}

/** Resolves once `socket` has received text matching `pattern`; with everything received so far. */
function received(socket: Socket, pattern: RegExp, sofar: { text: string }): Promise<string> {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (pattern.test(sofar.text)) {
        socket.off('data', onData);
        resolve(sofar.text);
      }
    };
    const onData = (chunk: Buffer) => {
      sofar.text += chunk.toString('utf8');
      check();
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.once('close', () => reject(new Error(`The connection closed without ${pattern}:\n${sofar.text}`)));
    check();
  });
}

describe('graceful shutdown on SIGTERM', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tixngo-shutdown-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('finishes a sign-in in flight (its session works after a restart), refuses new connections, and exits 0', async () => {
    // An empty database, so the app seeds its demo admin (2FA on, not set up).
    if (process.env.TEST_DATABASE_URL) await resetPostgresSchema(process.env.TEST_DATABASE_URL);
    const started = Date.now();
    const app = await startApp(dataDir);
    const startupMs = Date.now() - started;
    try {
      // The login form: its CSRF cookie and token.
      const form = await get(app.port, '/login');
      expect(form.status).toBe(200);
      const cookie = cookiesOf(form.headers['set-cookie']);
      const body = new URLSearchParams({
        email: DEMO.email,
        password: DEMO.password,
        next: '',
        _csrf: csrfFrom(form.body),
      }).toString();

      // The sign-in's headers, asking to continue: the server answers 100 once it has read them.
      const socket = connect(app.port, '127.0.0.1');
      const answer = { text: '' };
      socket.write(
        [
          'POST /login HTTP/1.1',
          'Host: localhost:3000',
          'Content-Type: application/x-www-form-urlencoded',
          `Content-Length: ${Buffer.byteLength(body)}`,
          `Cookie: ${cookie}`,
          'Expect: 100-continue',
          '',
          '',
        ].join('\r\n'),
      );
      await received(socket, /^HTTP\/1\.1 100 Continue\r\n\r\n/, answer);

      // SIGTERM now, while the request waits for its body.
      app.child.kill('SIGTERM');
      await app.waitForLine((line) => line.context === 'Shutdown' && /SIGTERM received/.test(String(line.msg)));

      // No new connection is accepted any more.
      const refused = await new Promise<string>((resolve) => {
        const late = connect(app.port, '127.0.0.1');
        late.once('connect', () => {
          late.destroy();
          resolve('connected');
        });
        late.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
      });
      expect(refused).toBe('ECONNREFUSED');

      // The rest of the sign-in: it gets its full, normal answer, then the connection closes.
      socket.write(body);
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      await received(socket, /\r\n\r\n[\s\S]*HTTP\/1\.1 303 See Other\r\n[\s\S]*\r\n\r\n/, answer);
      await closed;
      const response = answer.text.split('\r\n\r\n').slice(1).join('\r\n\r\n');
      expect(response).toMatch(/^HTTP\/1\.1 303 See Other\r\n/);
      expect(response).toMatch(/\r\nLocation: \/2fa\/setup\r\n/i);
      expect(response).toMatch(/\r\nConnection: close\r\n/i);
      const session = /\r\nSet-Cookie: (tixngo\.sid=[^;]+);/i.exec(response)?.[1];
      expect(session).toBeDefined();

      // The process ends by itself, with 0, after closing the app.
      expect(await app.exited).toEqual({ code: 0, signal: null });
      const messages = app.lines.map((line) => `${line.context ?? ''}: ${line.msg}`);
      const signalAt = messages.findIndex((message) => /SIGTERM received/.test(message));
      const signInAt = app.lines.findIndex(
        (line) => line.method === 'POST' && line.route === '/login' && line.status === 303,
      );
      const stoppedAt = app.lines.findIndex((line) => line.context === 'Shutdown' && line.msg === 'Stopped');
      expect(signalAt).toBeGreaterThanOrEqual(0);
      expect(signInAt).toBeGreaterThan(signalAt);
      expect(stoppedAt).toBeGreaterThan(signInAt);
      expect(app.lines[stoppedAt]).toMatchObject({ code: 0 });
      expect(app.lines.filter((line) => line.level === 'error')).toEqual([]);

      // The session the sign-in made was saved: after a restart it opens the setup page.
      const again = await startApp(dataDir);
      try {
        const setup = await get(again.port, '/2fa/setup', session!);
        expect(setup.status).toBe(200);
        expect(setup.body).toContain('Set up two-factor authentication');
      } finally {
        again.child.kill('SIGTERM');
        expect(await again.exited).toEqual({ code: 0, signal: null });
      }
      // For the README: how long a start from the sources took here.
      expect(startupMs).toBeLessThan(60_000);
    } finally {
      if (app.child.exitCode === null) app.child.kill('SIGKILL');
    }
  });
});
