import { Injectable, Logger } from '@nestjs/common';
import type { Request } from 'express';
import { AttemptLimiter, PoolKey } from '../attempts/attempt-limiter.service';
import { AuditService } from '../audit/audit.service';
import type { SignInMethod } from '../audit/security-events';
import { Clock } from '../common/clock';
import { AppConfig } from '../config/app-config';
import { MetricsService } from '../operations/metrics.service';
import { OrganizersService } from '../organizers/organizers.service';
import { User } from '../users/user.entity';
import { SecurityNoticesService } from '../users/security-notices.service';
import { normaliseEmail, UsersService } from '../users/users.service';
import { AuthSessionService } from './auth-session.service';
import { DeviceCookies } from './device-cookies';
import { SecondFactorGate } from './second-factor-gate';

export type LoginResult =
  | { ok: true; user: User }
  | { ok: false; reason: 'invalid' }
  /** The account's pool (untrusted, or this browser's device cookie) is locked. */
  | { ok: false; reason: 'locked'; retryAt: Date }
  /** Too many wrong sign-ins from this client address, whatever the email. */
  | { ok: false; reason: 'client-locked'; retryAt: Date }
  | { ok: false; reason: 'account-locked' };

/**
 * The password step. An unknown email and a wrong password take the same path: the
 * same pools, the same hash work, the same answer (SECURITY.md 3, 4). Every attempt is
 * reserved in its pools before the hash is checked (SECURITY.md 24): a browser with a
 * device cookie for the account counts in its own pool; any other request counts for its
 * client address and in the account's untrusted pool (SECURITY.md 26).
 */
@Injectable()
export class LoginService {
  private readonly logger = new Logger('Login');

  constructor(
    private readonly users: UsersService,
    private readonly organizers: OrganizersService,
    private readonly sessions: AuthSessionService,
    private readonly audit: AuditService,
    private readonly notices: SecurityNoticesService,
    private readonly limiter: AttemptLimiter,
    private readonly devices: DeviceCookies,
    private readonly secondFactors: SecondFactorGate,
    private readonly config: AppConfig,
    private readonly clock: Clock,
    private readonly metrics: MetricsService,
  ) {}

  async attempt(emailInput: string, password: string, req: Request): Promise<LoginResult> {
    const result = await this.checkPassword(emailInput, password, req);
    this.metrics.signIn(result.ok ? 'succeeded' : result.reason === 'invalid' ? 'wrong-password' : result.reason);
    return result;
  }

  private async checkPassword(emailInput: string, password: string, req: Request): Promise<LoginResult> {
    const email = normaliseEmail(emailInput);
    const ip = req.ip ?? null;
    const user = await this.users.findByEmail(email);
    const deviceId = user ? this.devices.deviceFor(req, user.id) : null;
    const pools: PoolKey[] =
      user && deviceId
        ? [this.limiter.deviceKey(deviceId, user.id)]
        : [this.limiter.clientKey(ip), this.limiter.passwordKey(email, user?.id ?? null)];

    const result = await this.limiter.guard(pools, async () => ({
      ok: (await this.users.verifyPassword(user, password)) && user!.isActive,
      value: undefined,
    }));
    if (!result.checked) {
      return { ok: false, reason: result.refusedBy === 'client' ? 'client-locked' : 'locked', retryAt: result.retryAt };
    }
    if (result.ok) {
      // Told only to someone who knows the password: it reveals nothing to a guesser.
      if (user!.accountLockedAt) return { ok: false, reason: 'account-locked' };
      return { ok: true, user: user! };
    }

    const pool = deviceId ? 'device' : 'untrusted';
    if (user)
      await this.audit.record({
        type: 'login.failed',
        organizerId: user.organizerId,
        userId: user.id,
        ip,
        detail: { pool },
      });
    const accountLock = result.lockedNow.find((lock) => lock.pool !== 'client');
    const clientLock = result.lockedNow.find((lock) => lock.pool === 'client');
    if (accountLock) this.metrics.lock('password');
    if (clientLock) this.metrics.lock('client');
    if (accountLock && user) {
      const minutes = this.config.limits.password.lockMinutes;
      await this.audit.record({
        type: 'login.locked',
        organizerId: user.organizerId,
        userId: user.id,
        ip,
        detail: { minutes, pool },
      });
      await this.notices.send(user, 'login.locked', { minutes, passwords: true });
    }
    if (clientLock) {
      this.logger.warn(
        `Sign-ins from ${ip ?? 'an unknown client'} refused for ${this.config.limits.client.lockMinutes} minutes after ${this.config.limits.client.maxFailures} wrong passwords`,
      );
    }
    if (accountLock) return { ok: false, reason: 'locked', retryAt: accountLock.until };
    if (clientLock) return { ok: false, reason: 'client-locked', retryAt: clientLock.until };
    return { ok: false, reason: 'invalid' };
  }

  /**
   * The password was right: a new session, pending when a second factor is owed.
   * Returns where to go next.
   */
  async passwordAccepted(req: Request, user: User, returnTo?: string, resetTokenId?: string): Promise<string> {
    // A Resend QR link always leads to the setup page; otherwise one question decides the step.
    const step = resetTokenId !== undefined ? 'setup' : await this.secondFactors.secondStep(user, this.clock.now());
    const organizer = await this.organizers.getById(user.organizerId);
    await this.sessions.signInWithPassword(req, user, step !== null, returnTo, organizer.name);
    if (resetTokenId) await this.sessions.beginReset(req, resetTokenId);
    if (!step) {
      await this.signedIn(req, user, 'password');
      return returnTo ?? '/';
    }
    return step === 'verify' ? '/2fa/verify' : '/2fa/setup';
  }

  /** The second factor was right: a new session id, fully signed in. Returns where to go next. */
  async secondFactorAccepted(req: Request, user: User, method: Exclude<SignInMethod, 'password'>): Promise<string> {
    await this.signedIn(req, user, method);
    return this.sessions.completeSecondFactor(req, user);
  }

  /** Fully signed in: recorded, and this browser gets its device cookie for the account. */
  private async signedIn(req: Request, user: User, method: SignInMethod): Promise<void> {
    // Every audited method is a metric label (MetricsService.SIGN_IN_METHODS): the compiler checks it.
    this.metrics.signedInWith(method);
    await this.users.recordLogin(user.id);
    await this.audit.record({
      type: 'login.succeeded',
      organizerId: user.organizerId,
      userId: user.id,
      ip: req.ip ?? null,
      detail: { method },
    });
    if (req.res) this.devices.issue(req, req.res, user.id);
  }

  /** A passkey alone signed the person in (two-factor's PasskeysService verified it): a full session. Returns where to go. */
  async passkeyAccepted(req: Request, user: User, returnTo?: string): Promise<string> {
    const organizer = await this.organizers.getById(user.organizerId);
    await this.sessions.signInWithPasskey(req, user, organizer.name);
    await this.signedIn(req, user, 'passkey-only');
    return returnTo ?? '/';
  }

  /** Log out: recorded for the signed-in person, then the session ends on the server (ASVS 3.3.1). */
  async signOut(req: Request): Promise<void> {
    const user = req.user as User | undefined;
    if (user)
      await this.audit.record({
        type: 'session.logout',
        organizerId: user.organizerId,
        userId: user.id,
        ip: req.ip ?? null,
      });
    await this.sessions.end(req);
  }

  /** Checks the password of a known user (the Resend QR link), counting failures the same way. */
  async confirmPassword(user: User, password: string, req: Request): Promise<LoginResult> {
    return this.attempt(user.email, password, req);
  }
}
