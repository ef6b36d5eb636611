import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { AuthSessionService } from '../auth/auth-session.service';
import { Clock } from '../common/clock';
import { MessageConflictException } from '../common/exceptions';
import type { Message } from '../common/message';
import { MailQueued, MailService } from '../mail/mail.service';
import { HOUR_MS, OneTimeTokensService } from '../users/one-time-tokens.service';
import { OrganizersService } from '../organizers/organizers.service';
import { SecurityNoticesService } from '../users/security-notices.service';
import { User } from '../users/user.entity';
import { UsersService } from '../users/users.service';
import { SecondFactors } from './factors/second-factors.service';

/** A Resend QR link works for 24 hours (PRODUCT.md journey 4). */
export const RESET_LINK_VALID_MS = 24 * HOUR_MS;

/** Who changed a user's factors: an admin (their user id) or, with null, the command line. */
export type FactorActor = { id: string } | null;

export interface ResendQrResult {
  /** The emailed link. Only the command line prints it; the admin's pages never show it. */
  link: string;
  /** The email with the link, in the outbox (committed with the reset). */
  mail: MailQueued;
}

export interface ToggleResult {
  /** False when 2FA already was in the asked state: nothing changed, nothing was queued. */
  changed: boolean;
  mail?: MailQueued;
}

/**
 * The changes an admin (or the command line) makes to someone else's second factor:
 * Resend QR, Enable 2FA, Disable 2FA. They belong to two-factor; the admin pages and
 * the CLI only call them. Each change is one transaction that also ends every session
 * of the user, writes the audit event and queues the email in the outbox (issue 15): the
 * change and its email commit together, and no request waits for the mail server (a final
 * failure to deliver is audited as mail.failed by the outbox worker).
 */
@Injectable()
export class TwoFactorAdminService {
  constructor(
    private readonly users: UsersService,
    private readonly factors: SecondFactors,
    private readonly tokens: OneTimeTokensService,
    private readonly sessions: AuthSessionService,
    private readonly audit: AuditService,
    private readonly mail: MailService,
    private readonly notices: SecurityNoticesService,
    private readonly organizers: OrganizersService,
    private readonly clock: Clock,
  ) {}

  /**
   * Off by the user's own setting (the admin's checkbox) and nothing set up: Resend QR has
   * nothing to replace and Disable nothing to turn off. A user whom only the organizer's
   * policy requires to set up 2FA is such a user too.
   */
  private async offOfItsOwn(user: User): Promise<boolean> {
    return !user.twoFactorRequired && !(await this.factors.hasConfirmed(user));
  }

  /** Why Resend QR does not apply to this user, or null when it does. */
  async resendQrProblem(user: User): Promise<Message | null> {
    if (await this.offOfItsOwn(user)) return { key: 'twoFactor.admin.resendQrOff', values: { email: user.email } };
    if (!user.passwordHash) return { key: 'twoFactor.admin.resendQrNotAccepted', values: { email: user.email } };
    return null;
  }

  /** Why Disable 2FA is refused for this user, or null: while the organizer requires 2FA of everyone, nobody's can be turned off. */
  async disableProblem(user: User, manager?: EntityManager): Promise<Message | null> {
    if (!(await this.organizers.requiresTwoFactor(user.organizerId, manager))) return null;
    return { key: 'twoFactor.admin.disableRequired', values: { email: user.email } };
  }

  /**
   * Resend QR (journey 4, SECURITY.md 12). In one transaction: the confirmed and the
   * pending secret and every recovery code are revoked, the lock and failure count are
   * cleared, every session of the user ends (security stamp), and a single-use 24 h
   * link is issued and its email queued. 2FA stays required, so a reset never downgrades an
   * account to a password alone. The email carries the link: never a secret, QR or otpauth URI.
   */
  async resendQr(user: User, actor: FactorActor, ip: string | null): Promise<ResendQrResult> {
    const problem = await this.resendQrProblem(user);
    if (problem) throw new MessageConflictException(problem);
    const now = this.clock.now();
    const actorId = actor?.id ?? null;
    return this.users.transaction(async (manager) => {
      // Every factor of every kind, and the lock of the codes (PRODUCT.md, Words: Locked).
      await this.factors.removeAll(user.id, manager);
      await this.users.startSecondFactorReset(user, now, manager);
      await this.sessions.endAllForUser(user.id, manager);
      const { token, record } = await this.tokens.issue(user.id, 'totp-reset', RESET_LINK_VALID_MS, actorId, manager);
      await this.audit.record(
        {
          type: 'two_factor.reset',
          organizerId: user.organizerId,
          userId: user.id,
          actorId,
          ip,
          detail: { linkId: record.id, ...via(actor) },
        },
        manager,
      );
      const link = this.mail.link(`/2fa/reset/${token}`);
      const mail = await this.notices.send(
        user,
        'two_factor.reset',
        { link, validHours: RESET_LINK_VALID_MS / HOUR_MS },
        null,
        manager,
      );
      return { link, mail };
    });
  }

  /**
   * Enable 2FA (journey 5): the user must pass a second factor from now on; without an
   * authenticator they are `Pending setup` and set one up at their next sign-in.
   * Every session ends: the open ones were made with the password alone, and would
   * otherwise go on without the factor the admin just required.
   */
  async enable(user: User, actor: FactorActor, ip: string | null): Promise<ToggleResult> {
    if (user.twoFactorRequired) return { changed: false };
    const actorId = actor?.id ?? null;
    const mail = await this.users.transaction(async (manager) => {
      await this.users.setTwoFactorRequired(user, true, manager);
      await this.sessions.endAllForUser(user.id, manager);
      await this.audit.record(
        { type: 'two_factor.enabled', organizerId: user.organizerId, userId: user.id, actorId, ip, detail: via(actor) },
        manager,
      );
      return this.notices.send(user, 'two_factor.enabled', {}, null, manager);
    });
    return { changed: true, mail };
  }

  /**
   * Disable 2FA (journey 5): the secret, the pending secret, the recovery codes, any
   * Resend QR link and the lock are all cleared, so nothing of the old factor can be
   * used or resumed later. Every session ends too, as for any change of factors
   * (PRODUCT.md: sessions end when 2FA is reset): a session proven with a factor that
   * no longer exists must not outlive it, and if the admin account doing this was
   * misused, the user is signed out and gets the email at once. Refused (409) while the
   * organizer requires 2FA of everyone (issue 7).
   */
  async disable(user: User, actor: FactorActor, ip: string | null): Promise<ToggleResult> {
    const refused = await this.disableProblem(user);
    if (refused) throw new MessageConflictException(refused);
    if (await this.offOfItsOwn(user)) return { changed: false };
    const actorId = actor?.id ?? null;
    const mail = await this.users.transaction(async (manager) => {
      // Checked again under the transaction: a policy turned on meanwhile still wins.
      const problem = await this.disableProblem(user, manager);
      if (problem) throw new MessageConflictException(problem);
      await this.factors.removeAll(user.id, manager);
      await this.users.setTwoFactorRequired(user, false, manager);
      await this.tokens.revokeAll(user.id, 'totp-reset', manager);
      await this.sessions.endAllForUser(user.id, manager);
      await this.audit.record(
        {
          type: 'two_factor.disabled',
          organizerId: user.organizerId,
          userId: user.id,
          actorId,
          ip,
          detail: via(actor),
        },
        manager,
      );
      return this.notices.send(user, 'two_factor.disabled', {}, null, manager);
    });
    return { changed: true, mail };
  }
}

function via(actor: FactorActor): { via?: 'command line' } {
  return actor ? {} : { via: 'command line' };
}
