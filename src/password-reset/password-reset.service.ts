import { BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { AttemptLimiter } from '../attempts/attempt-limiter.service';
import { AuditService } from '../audit/audit.service';
import { AuthSessionService } from '../auth/auth-session.service';
import { FormException } from '../common/exceptions';
import { AppConfig } from '../config/app-config';
import { MailService } from '../mail/mail.service';
import { HOUR_MS, OneTimeTokensService } from '../users/one-time-tokens.service';
import { SecurityNoticesService } from '../users/security-notices.service';
import { User } from '../users/user.entity';
import { normaliseEmail, UsersService } from '../users/users.service';
import { ForgotPasswordDto } from './dto/forgot-password.dto';
import { EMAIL_MESSAGES } from '../users/email-address';
import { newPasswordErrors } from '../users/password-policy';

/** A password reset link works once, for 1 hour (issue 14). */
export const PASSWORD_RESET_VALID_MS = HOUR_MS;

export const FORGOT_VIEW = 'password/forgot';
export const FORGOT_TITLE = 'signIn.forgotPassword';

/** Why a reset link cannot be used. */
export type ResetLinkStatus = 'done' | 'expired' | 'revoked' | 'unknown';

/** The answer to a forgot-password request: the same for every address, known or not. */
export type ResetRequested = { ok: true; email: string } | { ok: false; email: string; retryAt: Date };

export type ResetOpened = { ok: true; email: string } | { ok: false; status: ResetLinkStatus };

export type ResetCompleted =
  | { ok: true; userId: string }
  | { ok: false; reason: 'unusable'; status: ResetLinkStatus }
  | { ok: false; reason: 'invalid'; email: string; errors: Record<string, string> };

/**
 * Forgot password (issue 14, SECURITY.md 30). A request answers the same, in the same time, for
 * every address: it is counted per address and per client, and the work for a real account
 * (the link, its audit event, queueing the email) runs after the response has gone. The emailed link
 * (256 bits, stored as a keyed hash, 1 hour, single use, only the newest works) sets a new
 * password and ends every session of the person; it never signs anyone in: the person then
 * signs in with the new password and passes their second factor as usual.
 */
@Injectable()
export class PasswordResetService implements BeforeApplicationShutdown {
  private readonly logger = new Logger('PasswordReset');
  /** The background work of requests not finished yet (see settled()). */
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly users: UsersService,
    private readonly tokens: OneTimeTokensService,
    private readonly sessions: AuthSessionService,
    private readonly limiter: AttemptLimiter,
    private readonly audit: AuditService,
    private readonly notices: SecurityNoticesService,
    private readonly mail: MailService,
    private readonly config: AppConfig,
  ) {}

  /**
   * `Email` → Send link. A malformed address is refused on the form (it cannot be anyone's).
   * Otherwise the request is counted for the address and the client whether or not an account
   * has the address, and nothing here reads the account: what a real account gets is done once
   * `responded` settles (the response has been sent), so the answer, its status, its cookies and
   * its timing are the same for every address (SECURITY.md 4, 30).
   */
  async request(body: unknown, ip: string | null, responded: Promise<unknown>): Promise<ResetRequested> {
    const dto = plainToInstance(ForgotPasswordDto, body ?? {});
    const problems = await validate(dto, { whitelist: true, stopAtFirstError: true });
    const typed = typeof dto.email === 'string' ? dto.email : '';
    if (problems.length) {
      const message = Object.values(problems[0].constraints ?? {})[0] ?? EMAIL_MESSAGES.invalid;
      throw new FormException(FORGOT_VIEW, { title: FORGOT_TITLE, input: { email: typed } }, { email: message });
    }
    const email = normaliseEmail(dto.email);
    const counted = await this.limiter.take([this.limiter.resetAddressKey(email), this.limiter.resetClientKey(ip)]);
    if (!counted.taken) return { ok: false, email: typed, retryAt: counted.retryAt };
    this.inBackground(responded.then(() => this.sendLink(email, ip)));
    return { ok: true, email: typed };
  }

  /**
   * Resolves once the background work of every request so far is done (tests await it instead
   * of sleeping; shutdown waits for it). That work stays after the response even with the
   * outbox (issue 15): the request must not read the account, so that every address costs the
   * same; the work now ends with the email queued, not sent.
   */
  async settled(): Promise<void> {
    while (this.pending.size) await Promise.all([...this.pending]);
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.settled();
  }

  /** The person of a link that can still be used (for the form), or why it cannot. Changes nothing. */
  async open(token: unknown): Promise<ResetOpened> {
    const found = await this.usable(token);
    return found.ok ? { ok: true, email: found.user.email } : found;
  }

  /**
   * Sets the new password (the policy, then the confirmation, checked before anything changes).
   * In one transaction: the link is spent with one conditional UPDATE (of two submissions at
   * once exactly one succeeds), the password set, every session of the person ended, their other
   * reset links revoked, their password locks lifted (the code lock stays: the second factor is
   * still owed and still counted), the event audited and the security email queued.
   */
  async complete(
    token: unknown,
    newPassword: unknown,
    confirmPassword: unknown,
    ip: string | null,
  ): Promise<ResetCompleted> {
    const found = await this.usable(token);
    if (!found.ok) return { ok: false, reason: 'unusable', status: found.status };
    const { user, tokenId } = found;
    const errors = newPasswordErrors(newPassword, confirmPassword, { email: user.email, appName: this.config.appName });
    if (errors) return { ok: false, reason: 'invalid', email: user.email, errors };

    const spent = await this.users
      .transaction(async (manager) => {
        if (!(await this.tokens.spend(tokenId, manager))) throw new LinkAlreadySpent();
        await this.users.setPassword(user, newPassword as string, manager);
        await this.sessions.endAllForUser(user.id, manager);
        await this.tokens.revokeAll(user.id, 'password-reset', manager);
        await this.limiter.clearPasswords(user.id, user.email, manager);
        await this.audit.record(
          {
            type: 'password.reset',
            organizerId: user.organizerId,
            userId: user.id,
            ip,
            detail: { linkId: tokenId },
          },
          manager,
        );
        await this.notices.send(user, 'password.reset', { viaResetLink: true }, null, manager);
        return true;
      })
      .catch((error: unknown) => {
        if (error instanceof LinkAlreadySpent) return false;
        throw error;
      });
    if (!spent) return { ok: false, reason: 'unusable', status: 'done' };
    return { ok: true, userId: user.id };
  }

  /**
   * After the response: only a real account that can sign in and has a password (an accepted
   * invitation) gets a link; every other address gets nothing. The link, its audit event and its
   * email (queued in the outbox) are one transaction. Errors are logged, never thrown.
   */
  private async sendLink(email: string, ip: string | null): Promise<void> {
    const user = await this.users.findByEmail(email);
    if (!mayReset(user)) return;
    await this.users.transaction(async (manager) => {
      // Only the newest link works: issuing it revokes the earlier ones.
      const { token } = await this.tokens.issue(user.id, 'password-reset', PASSWORD_RESET_VALID_MS, null, manager);
      await this.audit.record(
        { type: 'password.reset_requested', organizerId: user.organizerId, userId: user.id, ip },
        manager,
      );
      await this.notices.send(
        user,
        'password.reset_requested',
        { link: this.mail.link(`/password/reset/${token}`), validHours: PASSWORD_RESET_VALID_MS / HOUR_MS },
        null,
        manager,
      );
    });
  }

  private inBackground(work: Promise<void>): void {
    const tracked: Promise<void> = work
      .catch((error: unknown) => {
        this.logger.error(
          `A password reset request could not be completed: ${error instanceof Error ? error.message : String(error)}`,
        );
      })
      .finally(() => this.pending.delete(tracked));
    this.pending.add(tracked);
  }

  private async usable(
    token: unknown,
  ): Promise<{ ok: true; user: User; tokenId: string } | { ok: false; status: ResetLinkStatus }> {
    const record = await this.tokens.findUsable(token, 'password-reset');
    if (!record) {
      const status = await this.tokens.describe(token, 'password-reset');
      // describe() seeing a waiting link that findUsable() refused cannot happen; treat it as unknown.
      return { ok: false, status: status === 'waiting' ? 'unknown' : status };
    }
    const user = await this.users.findById(record.userId);
    // Deactivated or locked ("This wasn't me") since the link was sent: the link is void.
    if (!mayReset(user)) return { ok: false, status: 'revoked' };
    return { ok: true, user, tokenId: record.id };
  }
}

/** Who may reset a password by email: an account that can sign in and has chosen a password. */
function mayReset(user: User | null): user is User {
  return !!user && user.canSignIn && !!user.passwordHash;
}

class LinkAlreadySpent extends Error {}
