import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Server } from 'node:http';
import { Person } from '../utils/agent';
import { pressAndConfirm } from '../utils/admin';
import { linkIn, startSmtpServer, TestSmtpServer } from '../utils/mail';
import { createTestApp, createUser, TEST_SECRET } from '../utils/test-app';

/**
 * Issue 15: the app killed (SIGKILL) right after an action, with its email claimed by the worker
 * and not yet accepted by the mail server (stalled), is started again on the same DATA_DIR: the
 * email arrives. The app runs as a real process from the sources (as bench/ and the shutdown
 * spec do); the restarted instance takes the email once the dead one's lease has passed
 * (OUTBOX_LEASE_MS, 3 s here instead of 2 min). Nothing sleeps: every wait is for an event
 * (a log line, a connection, a message at the SMTP server).
 */

// Two starts of the app from the TypeScript sources (about 3–6 s each on this machine).
jest.setTimeout(120_000);

const ROOT = join(__dirname, '..', '..');

interface RunningApp {
  child: ChildProcess;
  url: string;
  exited: Promise<NodeJS.Signals | number | null>;
}

function startApp(dataDir: string, smtpUrl: string): Promise<RunningApp> {
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'src/main.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'development',
      SEED_DEMO_DATA: 'false',
      DATA_DIR: dataDir,
      APP_SECRET: TEST_SECRET,
      PORT: '0',
      PUBLIC_URL: 'http://localhost:3000',
      SMTP_URL: smtpUrl,
      OUTBOX_LEASE_MS: '3000',
      OUTBOX_POLL_MS: '200',
      ...(process.env.TEST_DATABASE_URL ? { DATABASE_URL: process.env.TEST_DATABASE_URL } : {}),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) =>
    child.once('exit', (code, signal) => resolve(signal ?? code)),
  );
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const port = /listening on port (\d+)/.exec(output)?.[1];
      if (port) {
        child.stdout!.off('data', onData);
        resolve({ child, url: `http://127.0.0.1:${port}`, exited });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    void exited.then((code) => reject(new Error(`The app exited (${code}) before listening:\n${output}`)));
  });
}

describe('the app killed right after an action (SIGKILL), then started again', () => {
  let smtp: TestSmtpServer;
  let dataDir: string;
  let running: RunningApp | undefined;

  beforeAll(async () => {
    smtp = await startSmtpServer();
    dataDir = mkdtempSync(join(tmpdir(), 'tixngo-kill-'));
  });
  afterAll(async () => {
    if (running?.child.exitCode === null && !running.child.signalCode) running.child.kill('SIGKILL');
    await running?.exited;
    await smtp.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('the Resend QR email claimed by the killed instance arrives, once, after the restart', async () => {
    // The accounts, made through the services on the same DATA_DIR (or database), before the app starts.
    const seed = await createTestApp({ dataDir });
    const admin = await createUser(seed, { organizer: 'Kill Org', role: 'admin', twoFactor: false, name: 'Kim Admin' });
    const member = await createUser(seed, { organizer: 'Kill Org', email: 'killed.mail@kill.test', name: 'Kai' });
    await seed.close();

    running = await startApp(dataDir, smtp.url);
    const person = new Person(running.url as unknown as Server);
    expect((await person.login(admin.email, 'correct horse battery staple')).headers.location).toBe('/');

    // The mail server stalls: the worker claims the email and waits for a greeting that never comes.
    smtp.stall(true);
    const before = smtp.connections();
    const userPage = `/admin/users/${member.id}`;
    const { result } = await pressAndConfirm(person, userPage, `${userPage}/resend-qr`);
    expect(result.status).toBe(303);
    await smtp.connected(before + 1);
    running.child.kill('SIGKILL');
    expect(await running.exited).toBe('SIGKILL');
    smtp.cutStalled();
    smtp.stall(false);
    expect(smtp.received.filter((mail) => mail.to.includes(member.email))).toEqual([]);

    // Started again on the same data: once the dead instance's lease has passed, the email goes.
    running = await startApp(dataDir, smtp.url);
    const mail = await smtp.delivered((received) => received.to.includes(member.email));
    expect(mail.subject).toBe('Set up your authenticator app again');
    const link = linkIn(mail, '/2fa/reset/');
    expect((await new Person(running.url as unknown as Server).get(link)).status).toBe(200);
    expect(smtp.received.filter((received) => received.to.includes(member.email))).toHaveLength(1);
  });
});
