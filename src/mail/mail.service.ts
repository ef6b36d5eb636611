import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import Handlebars from 'handlebars';
import { EntityManager, Repository } from 'typeorm';
import { Clock } from '../common/clock';
import { KeyRing } from '../common/crypto/key-ring';
import { AppConfig } from '../config/app-config';
import { timeOrderedId } from '../database/columns';
import { Catalogue, MessageValues } from '../i18n/catalogue';
import { DEFAULT_TIME_ZONE } from '../i18n/format';
import { registerI18nHelpers } from '../i18n/i18n-helpers';
import { isLanguage, Language } from '../i18n/languages';
import { currentLanguage } from '../i18n/request-locale';
import { Organizer } from '../organizers/organizer.entity';
import { OutboxMessage } from './outbox-message.entity';
import { OUTBOX_KEEP_MS } from './outbox-schedule';
import { OutboxWorker } from './outbox.worker';

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
  /** A message key (locales/*.json), written in the recipient's language; `appName` is among its values. */
  subject: string;
  subjectValues?: MessageValues;
  /**
   * The recipient's saved language (users.language). Without one, the email speaks the language
   * of the request that caused it (the admin who clicked), else English.
   */
  language?: string | null;
  template: MailTemplate;
  /** Values for the template; `appName` and `publicUrl` are added. Its links are the body's secrets. */
  context: Record<string, unknown>;
  /**
   * The recipient's account and organizer: the email shows on their admin page, a final failure
   * is audited on it; its dates are in the organizer's time zone.
   */
  userId?: string | null;
  organizerId?: string | null;
}

/** An email in the outbox: not sent yet, but it will be (or its failure audited and shown). */
export interface MailQueued {
  queued: true;
  id: string;
}

/** The body as stored (sealed) in the outbox. */
export interface SealedBody {
  text: string;
  html: string;
}

/** The associated data that binds a sealed body to its row. */
export const bodyAad = (id: string) => `outbox:${id}`;

const handlebars = Handlebars.create();
const VIEWS_DIR = join(__dirname, '..', '..', 'views', 'mail');

/**
 * The one way to email someone (issue 15): `queue` renders the email now, in the request (its
 * links keep the expiry their tokens got), and writes it to the outbox, in the caller's
 * transaction when given one: the email exists exactly when the action does. No request
 * talks to the mail server; OutboxWorker delivers, retries and, after 24 hours, gives up and
 * audits `mail.failed`. Right after the commit the worker is nudged, so an email normally
 * leaves within milliseconds.
 */
@Injectable()
export class MailService {
  private readonly templates = new Map<string, HandlebarsTemplateDelegate>();
  private readonly host: string;

  constructor(
    @InjectRepository(OutboxMessage) private readonly outbox: Repository<OutboxMessage>,
    private readonly config: AppConfig,
    private readonly clock: Clock,
    private readonly keys: KeyRing,
    private readonly worker: OutboxWorker,
    private readonly catalogue: Catalogue,
  ) {
    this.host = new URL(config.publicUrl).hostname;
    registerI18nHelpers(handlebars, catalogue);
  }

  /** An absolute link into the app, built from PUBLIC_URL. */
  link(path: string): string {
    return this.config.publicUrl + path;
  }

  /**
   * Renders the email and writes it to the outbox; with `manager`, inside that transaction (it
   * is delivered only if the transaction commits). Throws only when the database does, which
   * undoes the caller's transaction with it.
   */
  async queue(message: MailMessage, manager?: EntityManager): Promise<MailQueued> {
    // The recipient's language and time zone (issue 17), decided here for every email.
    const lang: Language = isLanguage(message.language) ? message.language : currentLanguage();
    const timeZone = await this.timeZoneOf(message.organizerId, manager);
    const context = {
      appName: this.config.appName,
      publicUrl: this.config.publicUrl,
      loginUrl: this.link('/login'),
      ...message.context,
      lang,
      timeZone,
    };
    const subject = this.catalogue.format(lang, message.subject, {
      appName: this.config.appName,
      ...message.subjectValues,
    });
    const [text, html] = await Promise.all([
      // Plain text: {{t}} gives the message as it is (the templates print it with triple braces).
      this.render(`${message.template}.text.hbs`, { ...context, plainText: true }),
      this.render(`${message.template}.html.hbs`, context),
    ]);
    const now = this.clock.now();
    const id = timeOrderedId(now.getTime());
    const body: SealedBody = { text, html: htmlDocument(html, lang) };
    const row: OutboxMessage = {
      id,
      userId: message.userId ?? null,
      organizerId: message.organizerId ?? null,
      toAddress: message.to,
      subject,
      template: message.template,
      messageId: `<${randomUUID()}@${this.host}>`,
      bodySealed: this.keys.encrypt(JSON.stringify(body), bodyAad(id)),
      state: 'queued',
      attempts: 0,
      nextAttemptAt: now,
      claimedUntil: null,
      claimedBy: null,
      lastError: null,
      createdAt: now,
      sentAt: null,
      failedAt: null,
    };
    if (manager) {
      await manager.getRepository(OutboxMessage).insert(row);
      this.worker.nudgeAfterCommit(manager);
    } else {
      await this.outbox.insert(row);
      this.worker.nudge();
    }
    return { queued: true, id };
  }

  /** The latest emails to one user, newest first, for their admin page (no body). */
  recentFor(userId: string, limit = 10): Promise<OutboxMessage[]> {
    return this.outbox.find({
      select: {
        id: true,
        subject: true,
        template: true,
        state: true,
        attempts: true,
        nextAttemptAt: true,
        lastError: true,
        createdAt: true,
        sentAt: true,
        failedAt: true,
      },
      where: { userId },
      order: { createdAt: 'DESC', id: 'DESC' },
      take: limit,
    });
  }

  /** One email's state (no body), e.g. for the command line to say what happened to it. */
  find(id: string): Promise<OutboxMessage | null> {
    return this.outbox.findOne({
      select: { id: true, state: true, attempts: true, nextAttemptAt: true, lastError: true, sentAt: true },
      where: { id },
    });
  }

  /** How many emails are in each state now (queued = the depth of the outbox), for the metrics. */
  async countsByState(): Promise<Record<string, number>> {
    const rows: { state: string; count: string | number }[] = await this.outbox
      .createQueryBuilder('m')
      .select('m.state', 'state')
      .addSelect('COUNT(*)', 'count')
      .groupBy('m.state')
      .getRawMany();
    const counts: Record<string, number> = { queued: 0, sent: 0, failed: 0 };
    for (const row of rows) counts[row.state] = Number(row.count);
    return counts;
  }

  /** Deletes sent and failed emails queued more than 30 days ago; resolves with how many. */
  async prune(): Promise<number> {
    const result = await this.outbox
      .createQueryBuilder()
      .delete()
      .where('state IN (:...done)', { done: ['sent', 'failed'] })
      .andWhere('created_at < :before', { before: this.clock.nowMs() - OUTBOX_KEEP_MS })
      .execute();
    return result.affected ?? 0;
  }

  /** The organizer's time zone (its setting, default UTC), read in the caller's transaction when there is one. */
  private async timeZoneOf(organizerId: string | null | undefined, manager?: EntityManager): Promise<string> {
    if (!organizerId) return DEFAULT_TIME_ZONE;
    const organizer = await (manager ?? this.outbox.manager)
      .getRepository(Organizer)
      .findOne({ select: { id: true, timeZone: true }, where: { id: organizerId } });
    return organizer?.timeZone || DEFAULT_TIME_ZONE;
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

/** The HTML part as a document that says its language (`<html lang>`), like every page. */
function htmlDocument(body: string, lang: Language): string {
  return `<!doctype html>\n<html lang="${lang}">\n<head><meta charset="utf-8"></head>\n<body>\n${body}</body>\n</html>\n`;
}
