import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Request } from 'express';
import { Repository } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { Clock } from '../common/clock';
import { KeyRing } from '../common/crypto/key-ring';
import { EntityLookup, PreparedSql } from '../database/prepared-sql';
import { OrganizersService } from '../organizers/organizers.service';
import { User } from '../users/user.entity';
import { SecurityNoticesService } from '../users/security-notices.service';
import { normaliseEmail, UsersService } from '../users/users.service';
import { AuthSessionService } from './auth-session.service';
import { LoginThrottle } from './login-throttle.entity';

/** 10 wrong passwords in a row lock the login name for 15 minutes (PRODUCT.md journey 6). */
export const MAX_PASSWORD_FAILURES = 10;
export const PASSWORD_LOCK_MS = 15 * 60 * 1000;

export type LoginResult =
  | { ok: true; user: User }
  | { ok: false; reason: 'invalid' }
  | { ok: false; reason: 'locked'; retryAt: Date }
  | { ok: false; reason: 'account-locked' };

/**
 * The password step. An unknown email and a wrong password take the same path: the
 * same hash work, the same counter, the same answer (SECURITY.md 3, 4).
 */
@Injectable()
export class LoginService {
  private readonly throttleRows: EntityLookup<LoginThrottle>;

  constructor(
    @InjectRepository(LoginThrottle) private readonly throttles: Repository<LoginThrottle>,
    private readonly users: UsersService,
    private readonly organizers: OrganizersService,
    private readonly sessions: AuthSessionService,
    private readonly audit: AuditService,
    private readonly notices: SecurityNoticesService,
    private readonly keys: KeyRing,
    private readonly clock: Clock,
    prepared: PreparedSql,
  ) {
    this.throttleRows = prepared.lookup(LoginThrottle, 'keyHash');
  }

  async attempt(emailInput: string, password: string, ip: string | null): Promise<LoginResult> {
    const email = normaliseEmail(emailInput);
    const key = this.keys.hash('login-throttle', email);
    const now = this.clock.now();
    const user = await this.users.findByEmail(email);

    const throttle = await this.throttleRows.find(key);
    const lockedUntil = throttle?.lockedUntil && throttle.lockedUntil.getTime() > now.getTime() ? throttle.lockedUntil : null;
    if (lockedUntil) {
      // Still hash, so a locked name answers in the same time as any other.
      await this.users.verifyPassword(null, password);
      return { ok: false, reason: 'locked', retryAt: lockedUntil };
    }

    const valid = (await this.users.verifyPassword(user, password)) && user!.isActive;
    if (valid) {
      // A right password clears the count; most sign-ins have none to clear.
      if (throttle) await this.throttles.delete({ keyHash: key });
      // Told only to someone who knows the password: it reveals nothing to a guesser.
      if (user!.accountLockedAt) return { ok: false, reason: 'account-locked' };
      return { ok: true, user: user! };
    }

    const lockedNow = await this.recordFailure(key, now);
    if (user) {
      await this.audit.record({ type: 'login.failed', organizerId: user.organizerId, userId: user.id, ip });
      if (lockedNow) {
        await this.audit.record({ type: 'login.locked', organizerId: user.organizerId, userId: user.id, ip, detail: { minutes: 15 } });
        await this.notices.send(user, 'account-locked', 'Your sign-in was locked after wrong passwords', { minutes: PASSWORD_LOCK_MS / 60000, passwords: true });
      }
    }
    if (lockedNow) return { ok: false, reason: 'locked', retryAt: new Date(now.getTime() + PASSWORD_LOCK_MS) };
    return { ok: false, reason: 'invalid' };
  }

  /**
   * The password was right: a new session, pending when a second factor is owed.
   * Returns where to go next.
   */
  async passwordAccepted(req: Request, user: User, returnTo?: string, resetTokenId?: string): Promise<string> {
    const owed = user.secondFactorOwed(this.clock.now()) || resetTokenId !== undefined;
    const organizer = await this.organizers.getById(user.organizerId);
    await this.sessions.signInWithPassword(req, user, owed, returnTo, organizer.name);
    if (resetTokenId) await this.sessions.update(req, { resetTokenId });
    if (!owed) {
      await this.signedIn(user, req.ip ?? null, 'password');
      return returnTo ?? '/';
    }
    return user.hasConfirmedTotp && !resetTokenId ? '/2fa/verify' : '/2fa/setup';
  }

  /** The second factor was right: a new session id, fully signed in. Returns where to go next. */
  async secondFactorAccepted(req: Request, user: User, method: 'totp' | 'recovery-code' | 'setup'): Promise<string> {
    await this.signedIn(user, req.ip ?? null, method);
    return this.sessions.completeSecondFactor(req, user);
  }

  private async signedIn(user: User, ip: string | null, method: string): Promise<void> {
    await this.users.recordLogin(user.id);
    await this.audit.record({ type: 'login.succeeded', organizerId: user.organizerId, userId: user.id, ip, detail: { method } });
  }

  /** Checks the password of a known user (the Resend QR link), counting failures the same way. */
  async confirmPassword(user: User, password: string, ip: string | null): Promise<LoginResult> {
    return this.attempt(user.email, password, ip);
  }

  /**
   * Counts one failure with atomic statements only, so failures on several instances add
   * up; returns true for the one request that set the lock.
   */
  private async recordFailure(key: string, now: Date): Promise<boolean> {
    const at = now.getTime();
    await this.throttles
      .createQueryBuilder()
      .insert()
      .values({ keyHash: key, failedCount: 0, lockedUntil: null, updatedAt: now })
      .orIgnore()
      .execute();
    await this.throttles
      .createQueryBuilder()
      .update()
      .set({ failedCount: () => 'failed_count + 1', updatedAt: now })
      .where('key_hash = :key', { key })
      .execute();
    const locked = await this.throttles
      .createQueryBuilder()
      .update()
      .set({ failedCount: 0, lockedUntil: new Date(at + PASSWORD_LOCK_MS) })
      .where('key_hash = :key AND failed_count >= :max', { key, max: MAX_PASSWORD_FAILURES })
      .execute();
    return locked.affected === 1;
  }

  /** Forgets throttle rows that neither lock nor count anymore (called by the pruner). */
  async prune(): Promise<void> {
    const dayAgo = this.clock.nowMs() - 24 * 60 * 60 * 1000;
    await this.throttles
      .createQueryBuilder()
      .delete()
      .where('updated_at < :dayAgo AND (locked_until IS NULL OR locked_until < :now)', { dayAgo, now: this.clock.nowMs() })
      .execute();
  }
}
