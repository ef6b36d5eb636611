import { simpleParser, ParsedMail } from 'mailparser';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';

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
  };
}

/** Every .eml in DATA_DIR/mail (the outbox without SMTP_URL), oldest first. */
export async function outbox(dataDir: string): Promise<Mail[]> {
  const dir = join(dataDir, 'mail');
  if (!existsSync(dir)) return [];
  const files = readdirSync(dir)
    .filter((name) => name.endsWith('.eml'))
    .map((name) => join(dir, name))
    .sort((a, b) => Number(statSync(a, { bigint: true }).mtimeNs - statSync(b, { bigint: true }).mtimeNs));
  return Promise.all(files.map((file) => parse(readFileSync(file))));
}

/** The outbox emails to one address, oldest first. */
export async function mailsTo(dataDir: string, email: string): Promise<Mail[]> {
  return (await outbox(dataDir)).filter((mail) => mail.to.includes(email.toLowerCase()));
}

/** The newest outbox email to an address whose subject matches; fails the test if there is none. */
export async function lastMailTo(dataDir: string, email: string, subject?: RegExp): Promise<Mail> {
  const mails = (await mailsTo(dataDir, email)).filter((mail) => !subject || subject.test(mail.subject));
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

export interface TestSmtpServer {
  port: number;
  url: string;
  /** Messages accepted so far. */
  received: Mail[];
  /** From now on, refuse every recipient (550) or every message body (554), or accept again. */
  refuse(mode: 'rcpt' | 'data' | false): void;
  close(): Promise<void>;
}

/**
 * A real SMTP server (smtp-server) on 127.0.0.1 and a free port, in this process:
 * plain SMTP, no STARTTLS, no authentication required. Received messages are parsed
 * with mailparser.
 */
export async function startSmtpServer(): Promise<TestSmtpServer> {
  const received: Mail[] = [];
  let refusing: 'rcpt' | 'data' | false = false;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
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
          },
          (error: Error) => callback(error),
        );
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    url: `smtp://127.0.0.1:${port}`,
    received,
    refuse(mode) {
      refusing = mode;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
