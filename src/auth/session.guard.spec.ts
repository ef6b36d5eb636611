import { ExecutionContext, ForbiddenException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { Access, ACCESS_KEY } from '../common/decorators';
import { ROLES_KEY } from './auth.decorators';
import { RedirectException } from '../common/exceptions';
import { Role, User } from '../users/user.entity';
import { UsersService } from '../users/users.service';
import { AuthSessionService, SessionProblem } from './auth-session.service';
import { AuthState } from './session-state';
import { SecondFactorGate } from './second-factor-gate';
import { SessionGuard } from './session.guard';

/** The guard with a route's metadata, a session, a user and the session service's verdicts. */
function setUp(options: {
  access?: Access;
  roles?: Role[];
  auth?: Partial<AuthState>;
  user?: Partial<User> | null;
  /** Whether the user has a confirmed second factor (SecondFactorGate's answer). */
  hasFactor?: boolean;
  problem?: SessionProblem;
  setupOverdue?: boolean;
  cookie?: boolean;
  method?: string;
  url?: string;
}) {
  const metadata: Record<string, unknown> = { [ACCESS_KEY]: options.access, [ROLES_KEY]: options.roles };
  const reflector = { getAllAndOverride: (key: string) => metadata[key] } as unknown as Reflector;
  const user = options.user === null ? null : Object.assign(new User(), { id: 'u1', role: 'member' }, options.user);
  const users = { findById: jest.fn().mockResolvedValue(user) } as unknown as UsersService;
  const end = jest.fn().mockResolvedValue(undefined);
  const gate = { hasConfirmed: jest.fn().mockResolvedValue(options.hasFactor ?? false) } as unknown as SecondFactorGate;
  const sessions = {
    problem: () => options.problem ?? 'none',
    setupOverdue: async () => options.setupOverdue ?? false,
    passkeyOverdue: async () => false,
    hasSessionCookie: () => options.cookie ?? false,
    end,
  } as unknown as AuthSessionService;
  const req = {
    method: options.method ?? 'GET',
    originalUrl: options.url ?? '/admin/users',
    session: options.auth ? { auth: { userId: 'u1', stage: 'full', stamp: 's', startedAt: 0, ...options.auth } } : {},
  } as unknown as Request;
  const context = {
    getType: () => 'http',
    getHandler: () => null,
    getClass: () => null,
    switchToHttp: () => ({ getRequest: () => req }),
  } as unknown as ExecutionContext;
  return { guard: new SessionGuard(reflector, users, sessions, gate), context, req, end };
}

async function redirectOf(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  if (!(error instanceof RedirectException)) throw new Error(`expected a redirect, got ${String(error)}`);
  return error.location;
}

describe('SessionGuard', () => {
  describe('canActivate', () => {
    it('lets anyone reach a @Public() route', async () => {
      const { guard, context } = setUp({ access: 'public' });
      await expect(guard.canActivate(context)).resolves.toBe(true);
    });

    it('sends a visitor without a session to the login page, with the page asked for', async () => {
      const { guard, context } = setUp({});
      expect(await redirectOf(guard.canActivate(context))).toBe('/login?next=%2Fadmin%2Fusers');
    });

    it('tells a browser whose session cookie leads nowhere that its session ended', async () => {
      const { guard, context } = setUp({ cookie: true, method: 'POST' });
      expect(await redirectOf(guard.canActivate(context))).toBe('/login?reason=ended');
    });

    it('ends a session that may not go on (stamp changed, expired) and says why', async () => {
      const { guard, context, end } = setUp({ auth: { stage: 'pending' }, problem: 'pending-expired' });
      expect(await redirectOf(guard.canActivate(context))).toBe('/login?next=%2Fadmin%2Fusers&reason=timeout');
      expect(end).toHaveBeenCalled();
    });

    it('lets a fully signed-in user through and loads them on the request', async () => {
      const { guard, context, req } = setUp({ auth: {} });
      await expect(guard.canActivate(context)).resolves.toBe(true);
      expect((req.user as User).id).toBe('u1');
    });

    it('sends a pending session from any other page to its second factor (SECURITY.md 18)', async () => {
      const withAuthenticator = setUp({ auth: { stage: 'pending' }, hasFactor: true });
      expect(await redirectOf(withAuthenticator.guard.canActivate(withAuthenticator.context))).toBe('/2fa/verify');
      const without = setUp({ auth: { stage: 'pending' } });
      expect(await redirectOf(without.guard.canActivate(without.context))).toBe('/2fa/setup');
    });

    it('lets a pending session reach @AllowPending() and @PendingOnly() routes', async () => {
      for (const access of ['pending', 'pending-only'] as const) {
        const { guard, context } = setUp({ access, auth: { stage: 'pending' } });
        await expect(guard.canActivate(context)).resolves.toBe(true);
      }
    });

    it('sends a fully signed-in session away from a @PendingOnly() route', async () => {
      const { guard, context } = setUp({ access: 'pending-only', auth: {} });
      expect(await redirectOf(guard.canActivate(context))).toBe('/');
    });

    it('sends a signed-in user whose setup is overdue to the setup page, and nowhere else', async () => {
      const { guard, context } = setUp({ auth: {}, setupOverdue: true });
      expect(await redirectOf(guard.canActivate(context))).toBe('/2fa/setup');
      const setupPage = setUp({ access: 'pending', auth: {}, setupOverdue: true });
      await expect(setupPage.guard.canActivate(setupPage.context)).resolves.toBe(true);
    });

    it('refuses a member on an admin route with 403', async () => {
      const { guard, context } = setUp({ roles: ['admin'], auth: {} });
      await expect(guard.canActivate(context)).rejects.toBeInstanceOf(ForbiddenException);
    });
  });
});
