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

  /** Spends the link (once, atomically), then locks the account, ends its sessions and alerts the admins. */
  async confirm(token: unknown, ip: string | null): Promise<NotMeOutcome> {
    const record = await this.tokens.findUsable(token, 'not-me');
    if (!record) return { ok: false, status: await this.tokens.describe(token, 'not-me') };
    const user = await this.users.transaction(async (manager) => {
      if (!(await this.tokens.spend(record.id, manager))) return null;
      await this.users.lockAccount(record.userId, this.clock.now(), manager);
      await this.sessions.endAllForUser(record.userId, manager);
      const locked = await this.users.getById(record.userId, manager);
      await this.audit.record(
        { type: 'account.not_me', organizerId: locked.organizerId, userId: locked.id, ip },
        manager,
      );
      return locked;
    });
    if (!user) return { ok: false, status: 'done' };
    for (const admin of await this.users.adminsOf(user.organizerId)) {
      if (admin.id === user.id) continue;
      const result = await this.mail.send({
        to: admin.email,
        subject: `Security report: ${user.email} says a change was not theirs`,
        template: 'not-me-admin-alert',
        context: {
          adminName: admin.name,
          userName: user.name,
          userEmail: user.email,
          userPage: this.mail.link(`/admin/users/${user.id}`),
        },
      });
      if (!result.sent) {
        await this.audit.record({
          type: 'mail.failed',
          organizerId: user.organizerId,
          userId: user.id,
          detail: { template: 'not-me-admin-alert', to: admin.id, error: result.error },
        });
      }
    }
    return { ok: true, user };
  }
}
