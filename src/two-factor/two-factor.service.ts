import { Injectable } from '@nestjs/common';
import * as QRCode from 'qrcode';
import { AttemptLimiter } from '../attempts/attempt-limiter.service';
import { AuditService } from '../audit/audit.service';
import type { SecurityEventDetails } from '../audit/security-events';
import { AppConfig } from '../config/app-config';
import { Clock } from '../common/clock';
import { CodeFactor, MetricsService } from '../operations/metrics.service';
import { User } from '../users/user.entity';
import { OneTimeTokensService } from '../users/one-time-tokens.service';
import { SecurityNoticesService } from '../users/security-notices.service';
import { UsersService } from '../users/users.service';
import { SecondFactors } from './factors/second-factors.service';
import { RecoveryCodesService } from './recovery-codes.service';
import { TotpFactor } from './totp.factor';
import {
  CLOCK_HINT_WINDOW,
  findMatchingStep,
  groupsOfFour,
  normaliseCode,
  otpauthUri,
  TOTP_PERIOD_SECONDS,
  timeStep,
} from './totp';

export type CodeOutcome =
  | { ok: true }
  | { ok: false; reason: 'malformed' }
  | { ok: false; reason: 'invalid'; clockOffsetSeconds?: number }
  | { ok: false; reason: 'replayed' }
  | { ok: false; reason: 'locked'; retryAt: Date };

export type SetupPage =
  { kind: 'reset-required' } | { kind: 'show'; qrDataUrl: string; manualKey: string; issuer: string; account: string };

export type SetupOutcome =
  | { ok: true; recoveryCodes: string[] }
  | { ok: false; reason: 'malformed' | 'no-pending' | 'reset-required' | 'link-spent' }
  | { ok: false; reason: 'invalid'; clockOffsetSeconds?: number };

/**
 * TOTP enrolment and verification, after django-otp: a secret counts only once
 * confirmed by a valid code; only steps after the last accepted one are accepted,
 * with a conditional UPDATE so that two instances cannot both accept a step; every code
 * is reserved in the account's code pool before it is checked (5 wrong in a row lock,
 * counted in the database: attempts/attempt-limiter.service.ts).
 */
@Injectable()
export class TwoFactorService {
  constructor(
    private readonly users: UsersService,
    private readonly recoveryCodes: RecoveryCodesService,
    private readonly tokens: OneTimeTokensService,
    private readonly audit: AuditService,
    private readonly notices: SecurityNoticesService,
    private readonly config: AppConfig,
    private readonly clock: Clock,
    private readonly limiter: AttemptLimiter,
    private readonly totp: TotpFactor,
    private readonly factors: SecondFactors,
    private readonly metrics: MetricsService,
  ) {}

  /**
   * The setup page: the QR and manual key of the user's unconfirmed secret (made once,
   * so reloading shows the same one). After a Resend QR, only a session that opened the
   * emailed link gets one (PRODUCT.md journey 4).
   */
  async setupPage(user: User, resetTokenId: string | undefined): Promise<SetupPage> {
    if (!(await this.maySetUp(user, resetTokenId))) return { kind: 'reset-required' };
    const { secret } = await this.totp.pendingSecret(user.id);
    const uri = otpauthUri(this.config.appName, user.email, secret);
    const qrDataUrl = await QRCode.toDataURL(uri, { errorCorrectionLevel: 'M', margin: 4, width: 264 });
    return {
      kind: 'show',
      qrDataUrl,
      manualKey: groupsOfFour(secret),
      issuer: this.config.appName,
      account: user.email,
    };
  }

  /** Forgets an unconfirmed secret, so the setup page shows a new one (replacing an authenticator). */
  discardPendingSecret(user: User): Promise<void> {
    return this.totp.discardPending(user.id);
  }

  /** Confirms the shown secret with a first code; only then is 2FA active (SECURITY.md 9). */
  async confirmSetup(
    user: User,
    codeInput: unknown,
    resetTokenId: string | undefined,
    ip: string | null,
  ): Promise<SetupOutcome> {
    const code = normaliseCode(codeInput);
    if (!code) return { ok: false, reason: 'malformed' };
    if (!(await this.maySetUp(user, resetTokenId))) return { ok: false, reason: 'reset-required' };
    const pending = await this.totp.pendingDevice(user.id);
    if (!pending) return { ok: false, reason: 'no-pending' };
    const now = this.clock.now();
    const step = findMatchingStep(pending.secret, code, now);
    if (step === null) {
      const clockOffsetSeconds = this.clockOffset(pending.secret, code, now);
      await this.audit.record({
        type: 'code.failed',
        organizerId: user.organizerId,
        userId: user.id,
        ip,
        detail: { during: 'setup', clockOffsetSeconds },
      });
      return { ok: false, reason: 'invalid', clockOffsetSeconds };
    }

    const outcome = await this.users
      .transaction(async (manager): Promise<SetupOutcome> => {
        if (!(await this.totp.confirm(pending.device, step, manager))) return { ok: false, reason: 'no-pending' };
        await this.users.endSecondFactorReset(user, manager);
        if (resetTokenId && !(await this.tokens.spend(resetTokenId, manager))) {
          throw new LinkSpent();
        }
        const recoveryCodes = await this.recoveryCodes.regenerate(user.id, manager);
        await this.audit.record(
          {
            type: 'two_factor.setup',
            organizerId: user.organizerId,
            userId: user.id,
            ip,
            detail: { viaResetLink: Boolean(resetTokenId) },
          },
          manager,
        );
        return { ok: true, recoveryCodes };
      })
      .catch((error) => {
        if (error instanceof LinkSpent) return { ok: false, reason: 'link-spent' } as const;
        throw error;
      });

    if (outcome.ok) await this.notices.send(user, 'two_factor.setup');
    return outcome;
  }

  /** Checks a code at sign-in: window ±1 step, each step once, refused while locked. */
  async verifyCode(user: User, codeInput: unknown, ip: string | null): Promise<CodeOutcome> {
    const code = normaliseCode(codeInput);
    if (!code) return { ok: false, reason: 'malformed' };
    return this.secondFactorAttempt(
      user,
      ip,
      async (): Promise<CodeOutcome> => {
        // A user without a confirmed authenticator can never pass (SECURITY.md 8).
        const device = await this.totp.active(user.id);
        if (!device) return { ok: false, reason: 'invalid' };
        const now = this.clock.now();
        const secret = this.totp.secretOf(device);
        const step = findMatchingStep(secret, code, now);
        if (step === null)
          return { ok: false, reason: 'invalid', clockOffsetSeconds: this.clockOffset(secret, code, now) };
        // Each step once, decided by the database (SECURITY.md 7).
        if (!(await this.totp.acceptStep(device, step))) {
          await this.audit.record({
            type: 'code.replayed',
            organizerId: user.organizerId,
            userId: user.id,
            ip,
            detail: { step },
          });
          return { ok: false, reason: 'replayed' };
        }
        return { ok: true };
      },
      codeFailure({}),
      'totp',
    );
  }

  /** A recovery code instead of a TOTP code: works once, counts toward the same lock. */
  async useRecoveryCode(user: User, codeInput: unknown, ip: string | null): Promise<CodeOutcome> {
    if (typeof codeInput !== 'string' || !codeInput.trim() || codeInput.length > 64)
      return { ok: false, reason: 'malformed' };
    const outcome = await this.secondFactorAttempt(
      user,
      ip,
      async (): Promise<CodeOutcome> =>
        (await this.factors.hasConfirmed(user)) && (await this.recoveryCodes.spend(user.id, codeInput))
          ? { ok: true }
          : { ok: false, reason: 'invalid' },
      codeFailure({ recoveryCode: true }),
      'recovery',
    );
    if (outcome.ok) {
      const remaining = await this.recoveryCodes.remaining(user.id);
      await this.audit.record({
        type: 'recovery_code.used',
        organizerId: user.organizerId,
        userId: user.id,
        ip,
        detail: { remaining },
      });
      await this.notices.send(user, 'recovery_code.used', { remaining });
    }
    return outcome;
  }

  /** Until when the account's second factor refuses codes, or null. */
  codeLockedUntil(user: User): Promise<Date | null> {
    return this.limiter.lockedUntil(this.limiter.codeKey(user.id));
  }

  /**
   * Every second-factor check, of any kind (a TOTP code, a recovery code, a passkey), goes
   * through the account's code pool: reserved before the check, so that however many arrive
   * at once no more than the limit are checked; a failure is audited (`failedDetail`, or not
   * when it returns null: a replayed code has its own event), and the failure that reaches
   * the limit locks, audits it and emails the user, once per lock. Each check is counted in
   * tixngo_codes_total under `factor`.
   */
  async secondFactorAttempt<T extends { ok: boolean }>(
    user: User,
    ip: string | null,
    check: () => Promise<T>,
    failedDetail: (outcome: T) => SecurityEventDetails['code.failed'] | null,
    factor: CodeFactor,
  ): Promise<T | { ok: false; reason: 'locked'; retryAt: Date }> {
    const result = await this.limiter.guard([this.limiter.codeKey(user.id)], async () => {
      const outcome = await check();
      return { ok: outcome.ok, value: outcome };
    });
    if (!result.checked) {
      this.metrics.code(factor, 'locked');
      return { ok: false, reason: 'locked', retryAt: result.retryAt };
    }
    const outcome = result.value;
    this.metrics.code(
      factor,
      outcome.ok ? 'ok' : (outcome as { reason?: unknown }).reason === 'replayed' ? 'replayed' : 'wrong',
    );
    if (outcome.ok) return outcome;
    const detail = failedDetail(outcome);
    if (detail)
      await this.audit.record({ type: 'code.failed', organizerId: user.organizerId, userId: user.id, ip, detail });
    const lock = result.lockedNow[0];
    if (!lock) return outcome;
    this.metrics.lock('code');
    const minutes = this.config.limits.code.lockMinutes;
    await this.audit.record({
      type: 'code.locked',
      organizerId: user.organizerId,
      userId: user.id,
      ip,
      detail: { minutes },
    });
    await this.notices.send(user, 'code.locked', { minutes });
    return { ok: false, reason: 'locked', retryAt: lock.until };
  }

  /** Whether this session may set up a new first factor of any kind (the Resend QR rule below). */
  maySetUpWith(user: User, resetTokenId: string | undefined): Promise<boolean> {
    return this.maySetUp(user, resetTokenId);
  }

  /**
   * A first factor of another kind (a passkey) was set up: the reset is over, its link is spent,
   * and it is audited as a setup.
   */
  async firstFactorSetUp(
    user: User,
    resetTokenId: string | undefined,
    kind: 'passkey',
    ip: string | null,
  ): Promise<void> {
    await this.users.transaction(async (manager) => {
      await this.users.endSecondFactorReset(user, manager);
      if (resetTokenId) await this.tokens.spend(resetTokenId, manager);
      await this.audit.record(
        {
          type: 'two_factor.setup',
          organizerId: user.organizerId,
          userId: user.id,
          ip,
          detail: { viaResetLink: Boolean(resetTokenId), kind },
        },
        manager,
      );
    });
  }

  /** A Resend QR (secondFactorResetAt set) allows a new secret only with the emailed link. */
  private async maySetUp(user: User, resetTokenId: string | undefined): Promise<boolean> {
    if (!user.secondFactorResetAt) return true;
    if (!resetTokenId) return false;
    const latest = await this.tokens.latest(user.id, 'totp-reset');
    return latest?.id === resetTokenId && latest.status(this.clock.now()) === 'waiting';
  }

  /**
   * How far the phone's clock seems off when a wrong code matches a step within ±10
   * steps; for the message only: such a code is refused like any other (issue 7).
   */
  private clockOffset(secret: string, code: string, now: Date): number | undefined {
    const step = findMatchingStep(secret, code, now, { window: CLOCK_HINT_WINDOW });
    return step === null ? undefined : (step - timeStep(now)) * TOTP_PERIOD_SECONDS;
  }
}

class LinkSpent extends Error {}

/** The audit detail of a refused code: its kind and the clock hint; none for a replay (audited as `code.replayed`). */
function codeFailure(kind: SecurityEventDetails['code.failed']) {
  return (outcome: CodeOutcome): SecurityEventDetails['code.failed'] | null => {
    if (outcome.ok || outcome.reason === 'replayed') return null;
    return outcome.reason === 'invalid' && outcome.clockOffsetSeconds
      ? { ...kind, clockOffsetSeconds: outcome.clockOffsetSeconds }
      : kind;
  };
}
