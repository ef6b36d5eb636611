import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import type { Request, Response } from 'express';
import { Reflector } from '@nestjs/core';
import { Observable } from 'rxjs';
import { AppConfig } from '../config/app-config';
import type { User } from '../users/user.entity';
import { CsrfService } from './csrf';
import { FORM_VIEW_KEY } from './decorators';

/** What every page's layout needs: app name, signed-in user, CSRF token, flash messages. */
@Injectable()
export class ViewLocalsInterceptor implements NestInterceptor {
  constructor(
    private readonly csrf: CsrfService,
    private readonly config: AppConfig,
    private readonly reflector: Reflector,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() === 'http') {
      const req = context.switchToHttp().getRequest<Request>();
      const res = context.switchToHttp().getResponse<Response>();
      setViewLocals(req, res, this.csrf, this.config);
      // Read by the exception filter when the DTO fails validation (pipes run after interceptors start).
      res.locals.formView = this.reflector.get<string | undefined>(FORM_VIEW_KEY, context.getHandler());
    }
    return next.handle();
  }
}

/** Also used by the exception filter, whose pages are rendered outside interceptors. */
export function setViewLocals(req: Request, res: Response, csrf: CsrfService, config: AppConfig): void {
  if (res.locals.csrfToken) return;
  res.locals.appName = config.appName;
  res.locals.csrfToken = csrf.token(req, res);
  const user = req.user as User | undefined;
  const auth = req.session?.auth;
  if (user && auth?.stage === 'full') {
    res.locals.currentUser = { name: user.name, email: user.email, organizer: auth.organizerName, isAdmin: user.role === 'admin' };
    res.locals.nav = { dashboard: req.path === '/', users: req.path.startsWith('/admin/users'), account: req.path.startsWith('/account') };
  }
  res.locals.pending = auth?.stage === 'pending';
  if (req.session?.flash?.length) {
    res.locals.flash = req.session.flash;
    delete req.session.flash;
  }
}
