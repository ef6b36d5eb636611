import { CanActivate, ExecutionContext, ForbiddenException, Injectable } from '@nestjs/common';
import { doubleCsrf, DoubleCsrfUtilities } from 'csrf-csrf';
import type { Request, Response } from 'express';
import { AppConfig } from '../config/app-config';
import { KeyRing } from './crypto/key-ring';

export const CSRF_FIELD = '_csrf';

/**
 * Signed double-submit CSRF tokens (csrf-csrf). Stateless, so an anonymous form such as
 * the login page writes nothing to the database; once signed in, tokens are bound to
 * the session id, so a token from before a sign-in step is not accepted after it.
 */
@Injectable()
export class CsrfService {
  private readonly csrf: DoubleCsrfUtilities;

  constructor(config: AppConfig, keys: KeyRing) {
    const secret = keys.key('csrf').toString('hex');
    this.csrf = doubleCsrf({
      getSecret: () => secret,
      getSessionIdentifier: (req) => (req.session?.auth ? req.sessionID : ''),
      cookieName: config.secureCookies ? '__Host-tixngo.csrf' : 'tixngo.csrf',
      cookieOptions: { sameSite: 'lax', path: '/', secure: config.secureCookies, httpOnly: true },
      getCsrfTokenFromRequest: (req) => {
        const value = (req.body as Record<string, unknown> | undefined)?.[CSRF_FIELD];
        return typeof value === 'string' ? value : null;
      },
    });
  }

  token(req: Request, res: Response): string {
    return this.csrf.generateCsrfToken(req, res);
  }

  isValid(req: Request): boolean {
    return this.csrf.validateRequest(req);
  }
}

/** Every state-changing request carries a valid token, or it is a 403 and changes nothing (SECURITY.md 19). */
@Injectable()
export class CsrfGuard implements CanActivate {
  constructor(private readonly csrf: CsrfService) {}

  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<Request>();
    if (['GET', 'HEAD', 'OPTIONS'].includes(req.method)) return true;
    if (!this.csrf.isValid(req)) {
      throw new ForbiddenException('errors.csrf');
    }
    return true;
  }
}
