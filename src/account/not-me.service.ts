import { Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import { AuthSessionService } from '../auth/auth-session.service';
import { Clock } from '../common/clock';
import { MailService } from '../mail/mail.service';
import { OneTimeTokensService } from '../users/one-time-tokens.service';
import { User } from '../users/user.entity';
import { UsersService } from '../users/users.service';

export type NotMeOutcome =
  { ok: true; user: User } | { ok: false; status: 'done' | 'expired' | 'revoked' | 'unknown' | 'waiting' };

/**
 * "This wasn't me": the link in every security email. One click shows a confirmation;
 * confirming ends every session of the user, locks the account until an admin unlocks
 * it, and tells the organizer's admins.
 */
@Injectable()
export class NotMeService {
  constructor(
    private readonly tokens: OneTimeTokensService,
    private readonly users: UsersService,
    private readonly sessions: AuthSessionService,
    private readonly audit: AuditService,
    private readonly mail: MailService,
    private readonly clock: Clock,
  ) {}

  /** The user a usable link is about, for the confirmation page (the link is not spent). */
  async preview(token: unknown): Promise<NotMeOutcome> {
    const record = await this.tokens.findUsable(token, 'not-me');
    if (!record) return { ok: false, status: await this.tokens.describe(token, 'not-me') };
    return { ok: true, user: await this.users.getById(record.userId) };
  }

  /**
   * Spends the link (once, atomically) and, in the same transaction, locks the account, ends its
   * sessions and queues the alert to each admin of the organizer.
   */
  async confirm(token: unknown, ip: string | null): Promise<NotMeOutcome> {
    const record = await this.tokens.findUsable(token, 'not-me');
    if (!record) return { ok: false, status: await this.tokens.describe(token, 'not-me') };
    // The admins are read first: their alerts are queued in the transaction that locks the account.
    const reported = await this.users.getById(record.userId);
    const admins = (await this.users.adminsOf(reported.organizerId)).filter((admin) => admin.id !== reported.id);
    const user = await this.users.transaction(async (manager) => {
      if (!(await this.tokens.spend(record.id, manager))) return null;
      await this.users.lockAccount(record.userId, this.clock.now(), manager);
      await this.sessions.endAllForUser(record.userId, manager);
      const locked = await this.users.getById(record.userId, manager);
      await this.audit.record(
        { type: 'account.not_me', organizerId: locked.organizerId, userId: locked.id, ip },
        manager,
      );
      for (const admin of admins) {
        await this.mail.queue(
          {
            to: admin.email,
            subject: 'mail.notMeAlert.subject',
            subjectValues: { email: locked.email },
            language: admin.language,
            template: 'not-me-admin-alert',
            context: {
              adminName: admin.name,
              userName: locked.name,
              userEmail: locked.email,
              userPage: this.mail.link(`/admin/users/${locked.id}`),
            },
            userId: admin.id,
            organizerId: admin.organizerId,
          },
          manager,
        );
      }
      return locked;
    });
    if (!user) return { ok: false, status: 'done' };
    return { ok: true, user };
  }
}
