import { Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { AuditService } from '../audit/audit.service';
import { constantTimeEqual, KeyRing } from '../common/crypto/key-ring';
import { I18n } from '../i18n/i18n.service';
import { User } from '../users/user.entity';
import { AuthSessionService } from './auth-session.service';
import { describeUserAgent, shownAddress } from './session-client';
import type { AuthState } from './session-state';
import { idHash, SESSION_IDLE_MS } from './session-store';

/** A session of a user that may go on (UserSessionsService.active). */
export interface ActiveSession {
  /** The row key (SHA-256 of the id): never shown, never accepted from a request. */
  rowKey: string;
  auth: AuthState;
  /** When the session ends if idle; the store's once-a-minute touch moves it. */
  expiresAt: number;
}

/** One line of "Your sessions". */
export interface SessionView {
  /** What the Sign out form posts: a keyed hash of the row key, meaningful only among the person's own sessions. */
  handle: string;
  device: string;
  address: string | null;
  startedAt: Date;
  lastActiveAt: Date;
  current: boolean;
  pending: boolean;
}

export type SignOutOutcome = { ended: true; device: string } | { ended: false; reason: 'gone' | 'current' };

/**
 * A person's sessions, on every instance: the one definition of "active session" (the
 * account's list and the admin's count), and signing out one or all but the current one.
 * Reads and deletes rows only when asked: no request's hot path is touched (the last
 * activity is the idle expiry the store already moves).
 */
@Injectable()
export class UserSessionsService {
  constructor(
    private readonly sessions: AuthSessionService,
    private readonly keys: KeyRing,
    private readonly audit: AuditService,
    private readonly i18n: I18n,
  ) {}

  /**
   * The active sessions of `user`: their unexpired rows whose sign-in may go on by the rules
   * the guard applies to every request (AuthSessionService.problem: the current security
   * stamp, the 12-hour limit, the pending 5 minutes). Pending sessions count.
   */
  async active(user: User): Promise<ActiveSession[]> {
    const rows = await this.sessions.store.listForUser(user.id);
    return rows.flatMap(({ idHash: rowKey, data, expiresAt }) => {
      const auth = data.auth;
      if (!auth || auth.userId !== user.id || this.sessions.problem(auth, user) !== 'none') return [];
      return [{ rowKey, auth, expiresAt }];
    });
  }

  /** How many active sessions `user` has (the admin's user page). */
  async count(user: User): Promise<number> {
    return (await this.active(user)).length;
  }

  /** "Your sessions": this device first, then the others, most recently active first. */
  async list(req: Request, user: User): Promise<SessionView[]> {
    const current = idHash(req.sessionID);
    return (await this.active(user))
      .map((session) => this.view(session, session.rowKey === current))
      .sort((a, b) => Number(b.current) - Number(a.current) || b.lastActiveAt.getTime() - a.lastActiveAt.getTime());
  }

  /**
   * Signs out one of the person's other sessions, named by its handle: only a session of
   * `user` can be found this way (another person's handle, or an ended session's, finds
   * nothing and changes nothing). The current session is ended with Log out instead.
   */
  async signOut(req: Request, user: User, handle: string): Promise<SignOutOutcome> {
    const session = (await this.active(user)).find((candidate) => constantTimeEqual(this.handle(candidate), handle));
    if (!session) return { ended: false, reason: 'gone' };
    if (session.rowKey === idHash(req.sessionID)) return { ended: false, reason: 'current' };
    if (!(await this.sessions.store.destroyForUser(user.id, session.rowKey))) return { ended: false, reason: 'gone' };
    const device = describeUserAgent(session.auth.client?.userAgent, (key, values) => this.i18n.t(key, values));
    await this.audit.record({
      type: 'session.ended',
      organizerId: user.organizerId,
      userId: user.id,
      ip: req.ip ?? null,
      // The security log's detail is data: in English, whoever reads it.
      detail: {
        device: describeUserAgent(session.auth.client?.userAgent, (key, values) => this.i18n.t(key, values, 'en')),
      },
    });
    return { ended: true, device };
  }

  /**
   * Sign out everywhere else: every other session of the person ends (their rows are
   * deleted, so their cookies lead nowhere); this one stays. Returns how many active ones ended.
   */
  async signOutOthers(req: Request, user: User): Promise<number> {
    const current = idHash(req.sessionID);
    const others = (await this.active(user)).filter((session) => session.rowKey !== current).length;
    await this.sessions.store.destroyOthersForUser(user.id, current);
    await this.audit.record({
      type: 'session.ended_others',
      organizerId: user.organizerId,
      userId: user.id,
      ip: req.ip ?? null,
      detail: { count: others },
    });
    return others;
  }

  private view(session: ActiveSession, current: boolean): SessionView {
    const { auth } = session;
    return {
      handle: this.handle(session),
      device: describeUserAgent(auth.client?.userAgent, (key, values) => this.i18n.t(key, values)),
      address: shownAddress(auth.client?.ip),
      startedAt: new Date(auth.startedAt),
      lastActiveAt: new Date(session.expiresAt - SESSION_IDLE_MS),
      current,
      pending: auth.stage === 'pending',
    };
  }

  private handle(session: ActiveSession): string {
    return this.keys.hash('session-handle', session.rowKey);
  }
}
