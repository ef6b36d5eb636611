import { Injectable } from '@nestjs/common';
import { AttemptLimiter } from '../attempts/attempt-limiter.service';
import { AuditService } from '../audit/audit.service';
import { UserSessionsService } from '../auth/user-sessions.service';
import { BY_ADMIN, BY_COMMAND_LINE, describeEvent } from '../audit/security-events';
import { isLanguage, LANGUAGE_NAMES } from '../i18n/languages';
import { Clock } from '../common/clock';
import { MailService } from '../mail/mail.service';
import { OutboxMessage } from '../mail/outbox-message.entity';
import { OrganizersService } from '../organizers/organizers.service';
import { SecondFactors } from '../two-factor/factors/second-factors.service';
import { PasskeyFactor } from '../two-factor/passkeys/passkey.factor';
import { RecoveryCodesService } from '../two-factor/recovery-codes.service';
import { TotpFactor } from '../two-factor/totp.factor';
import { OneTimeToken } from '../users/one-time-token.entity';
import { OneTimeTokensService } from '../users/one-time-tokens.service';
import { User } from '../users/user.entity';
import { UsersService } from '../users/users.service';
import { ROLE_LABELS, stateView } from './admin-views';

type TokenStatus = ReturnType<OneTimeToken['status']>;

/** The latest QR reset's status: its badge's word and its sentence (message keys). */
const RESET_STATUS_WORDS: Record<TokenStatus, string> = {
  waiting: 'adminUsers.reset.badge.waiting',
  done: 'adminUsers.reset.badge.done',
  expired: 'adminUsers.reset.badge.expired',
  revoked: 'adminUsers.reset.badge.revoked',
};

const RESET_STATUS: Record<TokenStatus, string> = {
  waiting: 'adminUsers.reset.status.waiting',
  done: 'adminUsers.reset.status.done',
  expired: 'adminUsers.reset.status.expired',
  revoked: 'adminUsers.reset.status.revoked',
};

const RESET_BADGES: Record<TokenStatus, string> = {
  waiting: 'warn',
  done: 'ok',
  expired: 'danger',
  revoked: 'muted',
};

/**
 * One email in the user page's Emails table: queued (not tried yet), retrying (the next try and
 * why the last one failed), sent, or failed (when, and why).
 */
function emailView(message: OutboxMessage) {
  const base = { queuedAt: message.createdAt, subject: message.subject, reason: message.lastError };
  if (message.state === 'sent') return { ...base, state: 'sent', at: message.sentAt };
  if (message.state === 'failed') return { ...base, state: 'failed', at: message.failedAt };
  if (message.attempts > 0) return { ...base, state: 'retrying', at: message.nextAttemptAt, attempt: message.attempts };
  return { ...base, state: 'queued', at: null };
}

/** Users → one user's page: details, 2FA state, locks, the latest reset and invitation, the last 20 events, the last 10 emails, which buttons apply. */
@Injectable()
export class AdminUserPageService {
  constructor(
    private readonly users: UsersService,
    private readonly factors: SecondFactors,
    private readonly limiter: AttemptLimiter,
    private readonly tokens: OneTimeTokensService,
    private readonly audit: AuditService,
    private readonly organizers: OrganizersService,
    private readonly clock: Clock,
    private readonly totp: TotpFactor,
    private readonly passkeys: PasskeyFactor,
    private readonly recoveryCodes: RecoveryCodesService,
    private readonly userSessions: UserSessionsService,
    private readonly mail: MailService,
  ) {}

  async userPage(admin: User, id: string) {
    const user = await this.users.getInOrganizer(admin.organizerId, id);
    const now = this.clock.now();
    const [events, reset, invitation, policyOn, state, confirmed, locks] = await Promise.all([
      this.audit.recentForUser(user.id, 20),
      this.tokens.latest(user.id, 'totp-reset'),
      user.passwordHash ? Promise.resolve(null) : this.tokens.latest(user.id, 'invitation'),
      this.organizers.requiresTwoFactor(admin.organizerId),
      this.factors.state(user),
      this.factors.hasConfirmed(user),
      this.limiter.locksOf(user.id, user.email),
    ]);
    const [authenticator, passkeys, recoveryCodesLeft, activeSessions, passwordReset, emails] = await Promise.all([
      this.totp.active(user.id),
      this.passkeys.of(user.id),
      this.recoveryCodes.remaining(user.id),
      this.userSessions.count(user),
      // Forgot password: whether a link the person asked for is waiting.
      this.tokens.latest(user.id, 'password-reset'),
      // The outbox (issue 15): what became of the latest emails to them.
      this.mail.recentFor(user.id, 10),
    ]);
    const names = await this.users.namesIn(admin.organizerId, [
      ...events.map((event) => event.actorId),
      reset?.createdById,
    ]);
    const isSelf = user.id === admin.id;
    const invited = !user.passwordHash;
    const anyLock = !!user.accountLockedAt || !!locks.password || !!locks.code;
    // Resend QR and Disable follow the user's own setting: a policy-only user has nothing to replace or turn off.
    const ownOff = !user.twoFactorRequired && !confirmed;
    return {
      // A person's name is data, not a key.
      titleText: user.name,
      user: {
        id: user.id,
        name: user.name,
        email: user.email,
        role: ROLE_LABELS[user.role],
        createdAt: user.createdAt,
        lastLoginAt: user.lastLoginAt,
        active: user.isActive,
        language: isLanguage(user.language) ? user.language : null,
      },
      languageName: isLanguage(user.language) ? LANGUAGE_NAMES[user.language] : null,
      ...stateView(state),
      lockedUntil: state === 'locked' ? locks.code : null,
      factors: {
        authenticator: authenticator ? { since: authenticator.confirmedAt } : null,
        passkeys: passkeys.map((passkey) => ({
          name: passkey.name,
          createdAt: passkey.createdAt,
          lastUsedAt: passkey.lastUsedAt,
        })),
        recoveryCodesLeft: confirmed ? recoveryCodesLeft : null,
        none: !authenticator && !passkeys.length,
      },
      invited,
      accountLock: user.accountLockedAt ? { since: user.accountLockedAt } : null,
      attemptLocks: locks.password || locks.code ? locks : null,
      anyLock,
      canUnlock: anyLock && !isSelf,
      deadline:
        user.twoFactorDeadline && !confirmed
          ? { at: user.twoFactorDeadline, passed: user.twoFactorDeadline.getTime() <= now.getTime() }
          : null,
      policyOn,
      invitation: invitation
        ? {
            sentAt: invitation.createdAt,
            expiresAt: invitation.expiresAt,
            status: invitation.status(now),
            usable: invitation.status(now) === 'waiting',
          }
        : null,
      passwordReset:
        passwordReset?.status(now) === 'waiting'
          ? { sentAt: passwordReset.createdAt, expiresAt: passwordReset.expiresAt }
          : null,
      reset: reset
        ? {
            at: reset.createdAt,
            by: reset.createdById ? names.get(reset.createdById) : undefined,
            byKey: reset.createdById ? BY_ADMIN : BY_COMMAND_LINE,
            status: reset.status(now),
            statusWord: RESET_STATUS_WORDS[reset.status(now)],
            statusText: RESET_STATUS[reset.status(now)],
            badge: RESET_BADGES[reset.status(now)],
            expiresAt: reset.expiresAt,
            usedAt: reset.usedAt,
          }
        : null,
      isSelf,
      canResendQr: !isSelf && !ownOff && !invited,
      canEnable: !isSelf && !user.twoFactorRequired,
      canDisable: !isSelf && !ownOff && !policyOn,
      canResendInvitation: invited,
      activeSessions,
      canSignOutEverywhere: !isSelf,
      securityLogHref: `/admin/security-log?user=${encodeURIComponent(user.id)}`,
      // Recent events: the label's and note's messages, and who did it: an admin's name, or the key of
      // "An admin" / "The command line" (neither: the user).
      events: events.map((event) => describeEvent(event, (actorId) => names.get(actorId))),
      emails: emails.map(emailView),
    };
  }
}
