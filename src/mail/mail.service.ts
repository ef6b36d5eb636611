import { Injectable, Logger } from '@nestjs/common';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import Handlebars from 'handlebars';
import { createTransport, Transporter } from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport';
import { AppConfig } from '../config/app-config';
import { Clock } from '../common/clock';

/** The emails the app sends; each has views/mail/<name>.text.hbs and <name>.html.hbs. */
export type MailTemplate =
  | 'invitation'
  | 'totp-reset'
  | 'two-factor-setup'
  | 'two-factor-enabled'
  | 'two-factor-disabled'
  | 'recovery-code-used'
  | 'account-locked'
  | 'account-unlocked'
  | 'password-changed'
  | 'password-reset'
  | 'signed-out-everywhere'
  | 'passkey-added'
  | 'passkey-removed'
  | 'not-me-admin-alert';

export interface MailMessage {
  to: string;
  subject: string;
  template: MailTemplate;
  /** Values for the template; `appName` and `publicUrl` are added. Never a secret. */
  context: Record<string, unknown>;
}

export interface MailResult {
  sent: boolean;
  /** The .eml file in outbox mode. */
  path?: string;
  error?: string;
}

const handlebars = Handlebars.create();
const VIEWS_DIR = join(__dirname, '..', '..', 'views', 'mail');

/**
 * The one mailer: SMTP when SMTP_URL is set, otherwise an outbox of .eml files in
 * DATA_DIR/mail. It never throws: a failed send is returned so the caller can keep
 * the action, tell the admin and audit it.
 */
@Injectable()
export class MailService {
  private readonly logger = new Logger('Mail');
  private readonly transport: Transporter;
  private readonly templates = new Map<string, HandlebarsTemplateDelegate>();

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

  /** An absolute link into the app, built from PUBLIC_URL. */
  link(path: string): string {
    return this.config.publicUrl + path;
  }

  async send(message: MailMessage): Promise<MailResult> {
    try {
      const context = { appName: this.config.appName, publicUrl: this.config.publicUrl, ...message.context };
      const [text, html] = await Promise.all([
        this.render(`${message.template}.text.hbs`, context),
        this.render(`${message.template}.html.hbs`, context),
      ]);
      const info = await this.transport.sendMail({
        from: this.config.mailFrom,
        to: message.to,
        subject: message.subject,
        text,
        html,
      });
      if (this.config.smtpUrl) return { sent: true };
      return { sent: true, path: await this.writeOutbox(info.message as Buffer) };
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      this.logger.warn(`Could not send "${message.subject}" to ${message.to}: ${reason}`);
      return { sent: false, error: reason };
    }
  }

  private async writeOutbox(raw: Buffer): Promise<string> {
    await mkdir(this.config.mailDir, { recursive: true });
    const name = `${this.clock.now().toISOString().replace(/[:.]/g, '-')}-${randomBytes(4).toString('hex')}.eml`;
    const path = join(this.config.mailDir, name);
    await writeFile(path, raw, { mode: 0o600 });
    this.logger.log(`Email written to ${path}`);
    return path;
  }

  private async render(file: string, context: Record<string, unknown>): Promise<string> {
    let template = this.templates.get(file);
    if (!template) {
      template = handlebars.compile(await readFile(join(VIEWS_DIR, file), 'utf8'));
      this.templates.set(file, template);
    }
    return template(context);
  }
}
