import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Request } from 'express';
import { EntityManager, Repository } from 'typeorm';
import { Clock } from '../common/clock';
import { KeyRing } from '../common/crypto/key-ring';
import { AppConfig } from '../config/app-config';
import { PreparedSql } from '../database/prepared-sql';
import { User } from '../users/user.entity';
import { UsersService } from '../users/users.service';
import { SecondFactorGate } from './second-factor-gate';
import { sessionClient } from './session-client';
import { SessionRecord } from './session.entity';
import { AuthState, WebauthnPurpose } from './session-state';
import { DatabaseSessionStore, sessionCookie } from './session-store';

/** 12 hours after the password step a session ends, active or not (ASVS 3.3.1). */
export const SESSION_ABSOLUTE_MS = 12 * 60 * 60 * 1000;
/** A pending session has 5 minutes to pass the second factor. */
export const PENDING_MS = 5 * 60 * 1000;
/** Sensitive account changes need a second factor proved within the last 5 minutes ("sudo mode"). */
export const REVERIFY_MS = 5 * 60 * 1000;
/** After re-authentication, the setup page may replace the confirmed authenticator for 10 minutes. */
export const REPLACE_AUTHENTICATOR_MS = 10 * 60 * 1000;

/** Shown once right after setup or regeneration (PRODUCT.md routes). */
export const RECOVERY_CODES_PAGE = '/2fa/recovery-codes';

export type SessionProblem = 'none' | 'gone' | 'expired' | 'pending-expired';

/**
 * Owns the sign-in states of a session (pending, full) and every change between them.
 * Each change of state gets a new session id (ASVS 3.2.1).
 */
@Injectable()
export class AuthSessionService {
  readonly store: DatabaseSessionStore;

  constructor(
    @InjectRepository(SessionRecord) sessions: Repository<SessionRecord>,
    private readonly users: UsersService,
    private readonly secondFactors: SecondFactorGate,
    private readonly clock: Clock,
    private readonly config: AppConfig,
    private readonly keys: KeyRing,
    prepared: PreparedSql,
  ) {
    this.store = new DatabaseSessionStore(prepared, sessions, clock);
  }

  /** After the password: a new session id, and the session is pending (or full when no 2FA is owed). */
  async signInWithPassword(
    req: Request,
    user: User,
    secondFactorOwed: boolean,
    returnTo?: string,
    organizerName?: string,
  ): Promise<void> {
    const now = this.clock.nowMs();
    await regenerate(req);
    req.session.auth = {
      userId: user.id,
      stage: secondFactorOwed ? 'pending' : 'full',
      organizerName,
      stamp: user.securityStamp,
      startedAt: now,
      pendingSince: secondFactorOwed ? now : undefined,
      returnTo,
      client: sessionClient(req),
    };
    await save(req);
  }

  /**
   * After the second factor: a new session id again, and the session is fully signed in.
   * Returns where to go next: the recovery codes first when some wait to be shown (the
   * page first asked for comes after them), else that page.
   */
  async completeSecondFactor(req: Request, user: User): Promise<string> {
    const previous = req.session.auth!;
    await regenerate(req);
    const codesWaiting = previous.recoveryCodesSealed !== undefined;
    req.session.auth = {
      userId: user.id,
      stage: 'full',
      organizerName: previous.organizerName,
      stamp: user.securityStamp,
      startedAt: previous.startedAt,
      verifiedAt: this.clock.nowMs(),
      recoveryCodesSealed: previous.recoveryCodesSealed,
      returnTo: codesWaiting ? previous.returnTo : undefined,
      client: previous.client,
    };
    await save(req);
    return codesWaiting ? RECOVERY_CODES_PAGE : (previous.returnTo ?? '/');
  }

  /** A Resend QR link was opened by this session: it may set up a new authenticator. */
  beginReset(req: Request, resetTokenId: string): Promise<void> {
    return this.change(req, { resetTokenId });
  }

  /**
   * The recovery codes to show once, right after setup or regeneration, sealed in the
   * session (never in a page's URL or a hidden field); `returnTo` is where Continue goes.
   */
  stashRecoveryCodes(req: Request, user: User, codes: string[], returnTo?: string): Promise<void> {
    const recoveryCodesSealed = this.keys.encrypt(JSON.stringify(codes), `recovery:${user.id}`);
    return this.change(req, { recoveryCodesSealed, returnTo: returnTo ?? req.session.auth!.returnTo });
  }

  /** The codes waiting to be shown, or null. */
  recoveryCodesToShow(req: Request, user: User): string[] | null {
    const sealed = req.session.auth?.recoveryCodesSealed;
    return sealed ? (JSON.parse(this.keys.decrypt(sealed, `recovery:${user.id}`)) as string[]) : null;
  }

  /** The person saved their codes: they are forgotten. Returns where to go next. */
  async recoveryCodesSaved(req: Request): Promise<string> {
    const returnTo = req.session.auth!.returnTo;
    await this.change(req, { recoveryCodesSealed: undefined, returnTo: undefined });
    return returnTo ?? '/';
  }

  /**
   * A signed-in person confirmed a new authenticator (a reset link or a replacement): the
   * reset and the replacement window end, and it counts as a fresh second factor.
   */
  authenticatorReplaced(req: Request): Promise<void> {
    return this.change(req, {
      resetTokenId: undefined,
      replacingAuthenticatorUntil: undefined,
      verifiedAt: this.clock.nowMs(),
    });
  }

  /** The reset of this session's setup is over (the authenticator was confirmed during sign-in). */
  endReset(req: Request): Promise<void> {
    return this.change(req, { resetTokenId: undefined });
  }

  /** The person just proved a second factor again (re-authentication). */
  markVerified(req: Request): Promise<void> {
    return this.change(req, { verifiedAt: this.clock.nowMs() });
  }

  /** Whether a second factor was proved recently enough for a sensitive change (REVERIFY_MS). */
  recentlyVerified(req: Request): boolean {
    const verifiedAt = req.session.auth?.verifiedAt;
    return verifiedAt !== undefined && this.clock.nowMs() - verifiedAt <= REVERIFY_MS;
  }

  /** After re-authentication: the setup page may replace the authenticator for REPLACE_AUTHENTICATOR_MS; then back to `returnTo`. */
  allowReplacingAuthenticator(req: Request, returnTo: string): Promise<void> {
    return this.change(req, { replacingAuthenticatorUntil: this.clock.nowMs() + REPLACE_AUTHENTICATOR_MS, returnTo });
  }

  /**
   * Whether this session may show a setup page although the user has a confirmed
   * authenticator: it opened a Resend QR link, or it is fully signed in and replacing it.
   */
  maySetUpAgain(req: Request): boolean {
    const auth = req.session.auth;
    if (!auth) return false;
    if (auth.resetTokenId) return true;
    return auth.stage === 'full' && (auth.replacingAuthenticatorUntil ?? 0) > this.clock.nowMs();
  }

  /** The Resend QR link this session opened, if any. */
  resetTokenId(req: Request): string | undefined {
    return req.session.auth?.resetTokenId;
  }

  /** Whether the session still owes its second factor. */
  isPending(req: Request): boolean {
    return req.session.auth?.stage === 'pending';
  }

  /**
   * A WebAuthn challenge for this browser's next ceremony, kept server-side (never trusted from
   * the page), expiring with the pending state's 5 minutes; also for a browser not signed in yet.
   */
  async stashWebauthnChallenge(req: Request, purpose: WebauthnPurpose, challenge: string): Promise<void> {
    req.session.webauthnChallenge = { purpose, challenge, expiresAt: this.clock.nowMs() + PENDING_MS };
    await save(req);
  }

  /** The challenge of a ceremony of `purpose`, once: it is forgotten as it is taken; null when none, another purpose, or expired. */
  async takeWebauthnChallenge(req: Request, purpose: WebauthnPurpose): Promise<string | null> {
    const stashed = req.session?.webauthnChallenge;
    if (!stashed) return null;
    delete req.session.webauthnChallenge;
    await save(req);
    return stashed.purpose === purpose && stashed.expiresAt > this.clock.nowMs() ? stashed.challenge : null;
  }

  /**
   * A passkey with user verification signed the person in on its own (two factors in one,
   * NIST 800-63B AAL2): a new session id, fully signed in, the second factor just proved.
   */
  async signInWithPasskey(req: Request, user: User, organizerName: string): Promise<void> {
    const now = this.clock.nowMs();
    await regenerate(req);
    req.session.auth = {
      userId: user.id,
      stage: 'full',
      organizerName,
      stamp: user.securityStamp,
      startedAt: now,
      verifiedAt: now,
      client: sessionClient(req),
    };
    await save(req);
  }

  /** The session of `userId` in this browser stops being signed in (its owner locked the account). */
  async forgetIfSignedInAs(req: Request, userId: string): Promise<void> {
    if (req.session?.auth?.userId !== userId) return;
    req.session.auth = undefined;
    await save(req);
  }

  /** Every change of state without a change of identity goes through here. */
  private async change(req: Request, changes: Partial<AuthState>): Promise<void> {
    req.session.auth = { ...req.session.auth!, ...changes };
    await save(req);
  }

  /** Whether the session may go on: stamp, account, absolute and pending limits. */
  problem(auth: AuthState, user: User | null): SessionProblem {
    const now = this.clock.nowMs();
    if (!user || !user.canSignIn || user.securityStamp !== auth.stamp) return 'gone';
    if (now - auth.startedAt > SESSION_ABSOLUTE_MS) return 'expired';
    if (auth.stage === 'pending' && now - (auth.pendingSince ?? 0) > PENDING_MS) return 'pending-expired';
    return 'none';
  }

  /**
   * A fully signed-in session of a user who now owes a second factor that was never set
   * up (the organizer's grace period is over): only the setup page is open to it.
   */
  /** A full session of an admin who owes a passkey (SecondFactorGate.passkeyOverdue). */
  passkeyOverdue(auth: AuthState, user: User): Promise<boolean> {
    if (auth.stage !== 'full') return Promise.resolve(false);
    return this.secondFactors.passkeyOverdue(user, this.clock.now());
  }

  async setupOverdue(auth: AuthState, user: User): Promise<boolean> {
    // A session that passed a second factor had one (removing it ends the session): only a
    // password-only session can owe one; most requests ask the database nothing here.
    if (auth.stage !== 'full' || auth.verifiedAt !== undefined) return false;
    return this.secondFactors.setupOverdue(user, this.clock.now());
  }

  /** Whether the request carries a session cookie at all (valid or not). */
  hasSessionCookie(req: Request): boolean {
    return typeof req.cookies?.[sessionCookie(this.config).name] === 'string';
  }

  /**
   * Logout, or a session that may not go on: the server side is destroyed (ASVS 3.3.1)
   * and the browser told to drop the cookie, so its next visit is a plain anonymous one.
   */
  end(req: Request): Promise<void> {
    const cookie = sessionCookie(this.config);
    req.res?.clearCookie(cookie.name, cookie.options);
    return new Promise((resolve, reject) => req.session.destroy((error) => (error ? reject(error) : resolve())));
  }

  /**
   * Ends every session of a user on every instance: the stamp changes (sessions that
   * carry the old one are refused) and their rows are deleted.
   */
  async endAllForUser(userId: string, manager?: EntityManager): Promise<string> {
    const stamp = await this.users.rotateSecurityStamp(userId, manager);
    const sessions = manager ? manager.getRepository(SessionRecord) : null;
    if (sessions) await sessions.delete({ userId });
    else await this.store.destroyAllForUser(userId);
    return stamp;
  }

  /** Keeps the current session alive after the user changed their own stamp (password change). */
  async adoptStamp(req: Request, stamp: string): Promise<void> {
    await regenerate(req, true);
    await this.change(req, { stamp });
  }
}

function regenerate(req: Request, keepData = false): Promise<void> {
  const data = keepData ? { auth: req.session.auth, flash: req.session.flash } : { flash: req.session.flash };
  return new Promise((resolve, reject) =>
    req.session.regenerate((error) => {
      if (error) return reject(error);
      Object.assign(req.session, data);
      resolve();
    }),
  );
}

function save(req: Request): Promise<void> {
  return new Promise((resolve, reject) => req.session.save((error) => (error ? reject(error) : resolve())));
}
