import { simpleParser, ParsedMail } from 'mailparser';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Socket } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { OutboxWorker } from '../../src/mail/outbox.worker';
import { PasswordResetService } from '../../src/password-reset/password-reset.service';
import type { TestApp } from './test-app';

/** One email as a person would read it. */
export interface Mail {
  to: string[];
  from: string;
  subject: string;
  text: string;
  html: string;
  /** Attachments and inline parts (images included); the app's emails have none. */
  attachments: { contentType: string; filename?: string }[];
  /** The whole message as sent, headers and every part, for "must not contain" checks. */
  raw: string;
  /** The Message-ID header, the same on every try of one email. */
  messageId: string;
}

async function parse(raw: Buffer): Promise<Mail> {
  const parsed: ParsedMail = await simpleParser(raw);
  const to = [parsed.to ?? []]
    .flat()
    .flatMap((address) => address.value.map((entry) => (entry.address ?? '').toLowerCase()));
  return {
    to,
    from: parsed.from?.text ?? '',
    subject: parsed.subject ?? '',
    text: parsed.text ?? '',
    html: typeof parsed.html === 'string' ? parsed.html : '',
    attachments: parsed.attachments.map((a) => ({ contentType: a.contentType, filename: a.filename })),
    raw: raw.toString('utf8'),
    messageId: parsed.messageId ?? '',
  };
}

/**
 * Delivers every email due now (the outbox worker's drain, after the work a forgot-password
 * request does once its response has gone): what a person would have in their mailbox by now.
 * Never a sleep: to reach a retry, move the ManualClock first.
 */
export async function deliverMail(t: TestApp): Promise<void> {
  await t.get(PasswordResetService).settled();
  await t.get(OutboxWorker).drain();
}

/** Every email delivered as a .eml in DATA_DIR/mail (the mode without SMTP_URL), oldest first, due ones delivered first. */
export async function outbox(t: TestApp): Promise<Mail[]> {
  await deliverMail(t);
  const dir = join(t.dataDir, 'mail');
  if (!existsSync(dir)) return [];
  const files = readdirSync(dir)
    .filter((name) => name.endsWith('.eml'))
    .map((name) => join(dir, name))
    .sort((a, b) => Number(statSync(a, { bigint: true }).mtimeNs - statSync(b, { bigint: true }).mtimeNs));
  return Promise.all(files.map((file) => parse(readFileSync(file))));
}

/** The outbox emails to one address, oldest first. */
export async function mailsTo(t: TestApp, email: string): Promise<Mail[]> {
  return (await outbox(t)).filter((mail) => mail.to.includes(email.toLowerCase()));
}

/** The newest outbox email to an address whose subject matches; fails the test if there is none. */
export async function lastMailTo(t: TestApp, email: string, subject?: RegExp): Promise<Mail> {
  const mails = (await mailsTo(t, email)).filter((mail) => !subject || subject.test(mail.subject));
  if (!mails.length) throw new Error(`No email to ${email}${subject ? ` matching ${subject}` : ''}`);
  return mails[mails.length - 1];
}

/**
 * The path of the app link in an email's text part that starts with `prefix`
 * (e.g. '/invitations/'), checking that the HTML part carries the same link.
 */
export function linkIn(mail: Mail, prefix: string, publicUrl = 'http://localhost:3000'): string {
  const pattern = new RegExp(`${escapeRegExp(publicUrl + prefix)}[A-Za-z0-9_-]+`);
  const inText = mail.text.match(pattern)?.[0];
  if (!inText) throw new Error(`No ${prefix} link in email "${mail.subject}":\n${mail.text}`);
  if (!mail.html.includes(`href="${inText}"`))
    throw new Error(`The HTML part of "${mail.subject}" does not link to ${inText}`);
  return inText.slice(publicUrl.length);
}

/** Things a Resend QR or invitation email must never carry (SECURITY.md 12). */
export function secretsIn(mail: Mail, knownSecrets: string[] = []): string[] {
  const found: string[] = [];
  // The decoded parts (a transfer encoding would hide a match in the raw message) and the raw headers.
  const readable = [mail.subject, mail.text, mail.html, mail.raw].join('\n');
  if (/otpauth/i.test(readable)) found.push('otpauth URI');
  if (/data:image|<img/i.test(readable)) found.push('image');
  if (mail.attachments.length) found.push('attachment');
  // A 160-bit base32 secret is 32 characters of A-Z2-7, shown grouped by four on the setup page.
  if (/[A-Z2-7]{32}/.test([mail.text, mail.html].join('\n').replace(/ /g, ''))) found.push('base32 secret');
  for (const secret of knownSecrets)
    if (readable.replace(/ /g, '').includes(secret)) found.push(`the secret ${secret}`);
  return found;
}

function escapeRegExp(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export type SmtpRefusal =
  /** 550 to every recipient (permanent). */
  | 'rcpt'
  /** 554 to every message body. */
  | 'data'
  /** 421 "try again later" at the greeting: the server is up but not taking mail (temporary). */
  | 'connect';

export interface TestSmtpServer {
  port: number;
  url: string;
  /** Messages accepted so far. */
  received: Mail[];
  /** TCP connections made to the server so far. */
  connections(): number;
  /** Resolves once `count` connections in all have been made (an event awaited, never a sleep). */
  connected(count: number): Promise<void>;
  /** Resolves with the first accepted message that matches (already received or still to come). */
  delivered(test: (mail: Mail) => boolean): Promise<Mail>;
  /** From now on, refuse (see SmtpRefusal), or accept again with false. */
  refuse(mode: SmtpRefusal | false): void;
  /** From now on, accept connections and never answer (a stalled server); `false` answers new ones again. */
  stall(on: boolean): void;
  /** Cuts the connections held by stall(): the client sees the connection closed. */
  cutStalled(): void;
  close(): Promise<void>;
}

/**
 * A real SMTP server (smtp-server) on 127.0.0.1 and a free port, in this process:
 * plain SMTP, no STARTTLS, no authentication required. Received messages are parsed
 * with mailparser.
 */
export async function startSmtpServer(): Promise<TestSmtpServer> {
  const received: Mail[] = [];
  let refusing: SmtpRefusal | false = false;
  let stalling = false;
  let connections = 0;
  const stalled = new Set<Socket>();
  const waiting: { count: number; resolve: () => void }[] = [];
  const expecting: { test: (mail: Mail) => boolean; resolve: (mail: Mail) => void }[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onConnect(_session, callback) {
      if (refusing === 'connect')
        return callback(Object.assign(new Error('Service not available, try again later'), { responseCode: 421 }));
      callback();
    },
    onRcptTo(_address, _session, callback) {
      if (refusing === 'rcpt') return callback(Object.assign(new Error('Mailbox unavailable'), { responseCode: 550 }));
      callback();
    },
    onData(stream, _session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        if (refusing === 'data') return callback(Object.assign(new Error('Message refused'), { responseCode: 554 }));
        parse(Buffer.concat(chunks)).then(
          (mail) => {
            received.push(mail);
            callback();
            for (const waiter of expecting.filter((w) => w.test(mail))) {
              expecting.splice(expecting.indexOf(waiter), 1);
              waiter.resolve(mail);
            }
          },
          (error: Error) => callback(error),
        );
      });
    },
  });
  // Counted (and, while stalling, held without a word) before smtp-server sees the connection.
  const net = server.server;
  const [handler] = net.listeners('connection') as ((socket: Socket) => void)[];
  net.removeAllListeners('connection');
  net.on('connection', (socket: Socket) => {
    connections += 1;
    for (const waiter of waiting.filter((w) => connections >= w.count)) {
      waiting.splice(waiting.indexOf(waiter), 1);
      waiter.resolve();
    }
    if (!stalling) return handler(socket);
    stalled.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => stalled.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.server.address() as AddressInfo).port;
  const cutStalled = () => {
    for (const socket of stalled) socket.destroy();
    stalled.clear();
  };
  return {
    port,
    url: `smtp://127.0.0.1:${port}`,
    received,
    connections: () => connections,
    delivered: (test) => {
      const found = received.find(test);
      return found ? Promise.resolve(found) : new Promise((resolve) => expecting.push({ test, resolve }));
    },
    connected: (count) =>
      connections >= count ? Promise.resolve() : new Promise((resolve) => waiting.push({ count, resolve })),
    refuse(mode) {
      refusing = mode;
    },
    stall(on) {
      stalling = on;
    },
    cutStalled,
    close: () => {
      cutStalled();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
