import { Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import { EmailedEvent, SECURITY_EVENTS } from '../audit/security-events';
import { MailResult, MailService } from '../mail/mail.service';
import { OneTimeTokensService } from './one-time-tokens.service';
import { User } from './user.entity';

/** How long a "This wasn't me" link works. */
export const NOT_ME_VALID_MS = 7 * 24 * 60 * 60 * 1000;

/**
 * Emails a user about a change to their factors or a lock (SECURITY.md 13), each with a
 * single-use "This wasn't me" link; a failed send is audited, never thrown.
 */
@Injectable()
export class SecurityNoticesService {
  constructor(
    private readonly tokens: OneTimeTokensService,
    private readonly mail: MailService,
    private readonly audit: AuditService,
  ) {}

  /** The email of a security event (its template and subject are the event's, SECURITY_EVENTS). */
  async send(
    user: User,
    event: EmailedEvent,
    context: Record<string, unknown> = {},
    actorId: string | null = null,
  ): Promise<MailResult> {
    const { template, subject } = SECURITY_EVENTS[event].email;
    const { token } = await this.tokens.issue(user.id, 'not-me', NOT_ME_VALID_MS, actorId, undefined, {
      keepEarlier: true,
    });
    const result = await this.mail.send({
      to: user.email,
      subject,
      template,
      context: { name: user.name, notMeUrl: this.mail.link(`/not-me/${token}`), ...context },
    });
    if (!result.sent) {
      await this.audit.record({
        type: 'mail.failed',
        organizerId: user.organizerId,
        userId: user.id,
        actorId,
        detail: { template, error: result.error },
      });
    }
    return result;
  }
}
