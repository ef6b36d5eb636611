import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { EmailedEvent, SECURITY_EVENTS } from '../audit/security-events';
import { MailQueued, MailService } from '../mail/mail.service';
import { OneTimeTokensService } from './one-time-tokens.service';
import { User } from './user.entity';

/** How long a "This wasn't me" link works. */
export const NOT_ME_VALID_MS = 7 * 24 * 60 * 60 * 1000;

/**
 * Emails a user about a change to their factors or a lock (SECURITY.md 13), each with a
 * single-use "This wasn't me" link. The email is queued in the outbox (issue 15): pass the
 * transaction of the change, so the change, its link and its email commit together. The
 * outbox worker delivers it, and audits `mail.failed` if it never can.
 */
@Injectable()
export class SecurityNoticesService {
  constructor(
    private readonly tokens: OneTimeTokensService,
    private readonly mail: MailService,
  ) {}

  /** Queues the email of a security event (its template and subject are the event's, SECURITY_EVENTS). */
  async send(
    user: User,
    event: EmailedEvent,
    context: Record<string, unknown> = {},
    actorId: string | null = null,
    manager?: EntityManager,
  ): Promise<MailQueued> {
    const { template, subject } = SECURITY_EVENTS[event].email;
    const { token } = await this.tokens.issue(user.id, 'not-me', NOT_ME_VALID_MS, actorId, manager, {
      keepEarlier: true,
    });
    return this.mail.queue(
      {
        to: user.email,
        subject,
        language: user.language,
        template,
        context: { name: user.name, notMeUrl: this.mail.link(`/not-me/${token}`), ...context },
        userId: user.id,
        organizerId: user.organizerId,
      },
      manager,
    );
  }
}
