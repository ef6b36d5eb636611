import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import type { Request, Response } from 'express';
import { Reflector } from '@nestjs/core';
import { Observable } from 'rxjs';
import { AppConfig } from '../config/app-config';
import { Clock } from './clock';
import type { User } from '../users/user.entity';
import { CsrfService } from './csrf';
import { FORM_VIEW_KEY, type FormViewMetadata } from './decorators';

/** What every page's layout needs: app name, signed-in user, CSRF token, flash messages. */
@Injectable()
export class ViewLocalsInterceptor implements NestInterceptor {
  constructor(
    private readonly csrf: CsrfService,
    private readonly config: AppConfig,
    private readonly reflector: Reflector,
    private readonly clock: Clock,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() === 'http') {
      const req = context.switchToHttp().getRequest<Request>();
      const res = context.switchToHttp().getResponse<Response>();
      setViewLocals(req, res, this.csrf, this.config, this.clock);
      // Read by the exception filter when the DTO fails validation (pipes run after interceptors start).
      res.locals.formView = this.reflector.get<FormViewMetadata | undefined>(FORM_VIEW_KEY, context.getHandler());
    }
    return next.handle();
  }
}

/** Also used by the exception filter, whose pages are rendered outside interceptors. */
export function setViewLocals(req: Request, res: Response, csrf: CsrfService, config: AppConfig, clock: Clock): void {
  if ('csrfToken' in res.locals) return;
  res.locals.appName = config.appName;
  // Made when a page is rendered, not for every request: a redirect needs no token and
  // sets no cookie, and a page rendered after the session id changed (sign-in steps)
  // gets a token bound to the new id.
  let token: string | undefined;
  Object.defineProperty(res.locals, 'csrfToken', { enumerable: true, configurable: true, get: () => (token ??= csrf.token(req, res)) });
  const user = req.user as User | undefined;
  const auth = req.session?.auth;
  if (user && auth?.stage === 'full') {
    res.locals.currentUser = { name: user.name, email: user.email, organizer: auth.organizerName, isAdmin: user.role === 'admin' };
    res.locals.twoFactorBanner = twoFactorBanner(user, clock.now());
    res.locals.nav = { dashboard: req.path === '/', users: req.path.startsWith('/admin'), account: req.path.startsWith('/account') };
  }
  res.locals.pending = auth?.stage === 'pending';
  if (req.session?.flash?.length) {
    res.locals.flash = req.session.flash;
    delete req.session.flash;
  }
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** The organizer requires 2FA and this user has not set it up: days left until sign-in forces the setup. */
function twoFactorBanner(user: User, now: Date): { daysLeft: number; lastDay: boolean } | undefined {
  if (user.hasConfirmedTotp || !user.twoFactorDeadline) return undefined;
  const left = user.twoFactorDeadline.getTime() - now.getTime();
  if (left <= 0) return undefined;
  const daysLeft = Math.ceil(left / DAY_MS);
  return { daysLeft, lastDay: daysLeft === 1 };
}
