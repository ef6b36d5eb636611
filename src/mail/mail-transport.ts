import { Injectable, Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTransport, Transporter } from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport';
import { Clock } from '../common/clock';
import { AppConfig } from '../config/app-config';

/** One email as it leaves: the rendered parts and the headers that stay the same on every try. */
export interface OutgoingMail {
  to: string;
  subject: string;
  text: string;
  html: string;
  /** `<uuid@host>`: a retry after a crash carries the same one, so a duplicate can be recognised. */
  messageId: string;
  date: Date;
}

/**
 * The wire: SMTP when SMTP_URL is set, otherwise an `.eml` file per email in DATA_DIR/mail
 * (development). Only OutboxWorker calls it, never a request. Its timeouts are bounded so a
 * stalled server holds the worker's one email for at most ~40 s, never a person.
 */
@Injectable()
export class MailTransport {
  private readonly logger = new Logger('Mail');
  private readonly transport: Transporter;

  constructor(
    private readonly config: AppConfig,
    private readonly clock: Clock,
  ) {
    this.transport = config.smtpUrl
      ? createTransport({
          url: config.smtpUrl,
          connectionTimeout: 10_000,
          greetingTimeout: 10_000,
          socketTimeout: 20_000,
        } as SMTPTransport.Options)
      : createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  }

  /** Resolves once the server accepted the email (or the file is written); rejects with its answer otherwise. */
  async deliver(mail: OutgoingMail): Promise<void> {
    const info = await this.transport.sendMail({
      from: this.config.mailFrom,
      to: mail.to,
      subject: mail.subject,
      text: mail.text,
      html: mail.html,
      messageId: mail.messageId,
      date: mail.date,
    });
    if (!this.config.smtpUrl) await this.writeEml(info.message as Buffer);
  }

  close(): void {
    this.transport.close();
  }

  private async writeEml(raw: Buffer): Promise<void> {
    await mkdir(this.config.mailDir, { recursive: true });
    const name = `${this.clock.now().toISOString().replace(/[:.]/g, '-')}-${randomBytes(4).toString('hex')}.eml`;
    const path = join(this.config.mailDir, name);
    await writeFile(path, raw, { mode: 0o600 });
    this.logger.log(`Email written to ${path}`);
  }
}
