import { CanActivate, ExecutionContext, ForbiddenException, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { Access, ACCESS_KEY, PASSKEY_SETUP_KEY } from '../common/decorators';
import { ROLES_KEY } from './auth.decorators';
import { RedirectException } from '../common/exceptions';
import { Role, User } from '../users/user.entity';
import { UsersService } from '../users/users.service';
import { AuthSessionService } from './auth-session.service';
import { SecondFactorGate } from './second-factor-gate';

/**
 * The one place that decides "fully signed in" (global guard, secure by default).
 * Routes opt out with @Public(), @AllowPending() or @PendingOnly() (the sign-in's 2FA steps);
 * a pending session reaches nothing else (SECURITY.md 18) and is sent on to its 2FA step.
 */
@Injectable()
export class SessionGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly users: UsersService,
    private readonly sessions: AuthSessionService,
    private readonly secondFactors: SecondFactorGate,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const req = context.switchToHttp().getRequest<Request>();
    const access = this.reflector.getAllAndOverride<Access | undefined>(ACCESS_KEY, [
      context.getHandler(),
      context.getClass(),
    ]);
    const roles = this.reflector.getAllAndOverride<Role[] | undefined>(ROLES_KEY, [
      context.getHandler(),
      context.getClass(),
    ]);

    const auth = req.session?.auth;
    let user: User | null = null;
    if (auth) {
      user = await this.users.findById(auth.userId);
      const problem = this.sessions.problem(auth, user);
      if (problem !== 'none') {
        await this.sessions.end(req);
        if (access === 'public') return true;
        // The reason travels in the URL: an anonymous visitor gets no session row.
        throw new RedirectException(loginPath(req, problem === 'pending-expired' ? 'timeout' : 'ended'));
      }
      req.user = user!;
    }

    if (access === 'public') return true;
    // A session cookie that leads to no session: it ended (idle, or every session of the
    // user was ended by a reset, a password change, a "not me" report). Say so.
    if (!auth || !user)
      throw new RedirectException(loginPath(req, this.sessions.hasSessionCookie(req) ? 'ended' : undefined));
    if (access === 'pending-only' && auth.stage === 'full') throw new RedirectException('/');
    if (auth.stage === 'pending' && access !== 'pending' && access !== 'pending-only') {
      throw new RedirectException((await this.secondFactors.hasConfirmed(user)) ? '/2fa/verify' : '/2fa/setup');
    }
    // The organizer's grace period ended while this session was open: set up 2FA before anything else.
    if (access !== 'pending' && (await this.sessions.setupOverdue(auth, user)))
      throw new RedirectException('/2fa/setup');
    // An admin past the deadline of "Require a passkey for admins": only where they add one.
    const passkeyPages = this.reflector.getAllAndOverride<boolean | undefined>(PASSKEY_SETUP_KEY, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (access !== 'pending' && !passkeyPages && (await this.sessions.passkeyOverdue(auth, user))) {
      throw new RedirectException('/account', { type: 'error', key: PASSKEY_OWED });
    }
    if (roles && !roles.includes(user.role)) throw new ForbiddenException('errors.adminsOnly');
    return true;
  }
}

/** What an admin who owes a passkey is told on their account page (a message key). */
export const PASSKEY_OWED = 'passkey.owed';

function loginPath(req: Request, reason?: 'timeout' | 'ended'): string {
  const query = new URLSearchParams();
  if (req.method === 'GET' && req.originalUrl !== '/') query.set('next', req.originalUrl);
  if (reason) query.set('reason', reason);
  const search = query.toString();
  return search ? `/login?${search}` : '/login';
}
