import { HttpStatus, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { Request } from 'express';
import { Strategy } from 'passport-local';
import { Clock } from '../common/clock';
import { FormException } from '../common/exceptions';
import type { Message } from '../common/message';
import { User } from '../users/user.entity';
import { LoginResult, LoginService } from './login.service';

/** The one message for an unknown email and a wrong password alike (SECURITY.md 4). */
export const INVALID_LOGIN = 'signIn.error.invalid';

export const ACCOUNT_LOCKED = 'signIn.error.accountLocked';

/** Both fields are needed. */
export const ENTER_EMAIL_AND_PASSWORD = 'signIn.error.missing';

/**
 * The answer to a refused password, on the login form and the Resend QR link alike. A lock
 * of the account's pool and of the client address read differently but the same for every
 * email: neither tells whether an account exists (SECURITY.md 4).
 */
export function loginRefusal(
  result: Exclude<LoginResult, { ok: true }>,
  nowMs: number,
  invalidMessage: string,
): { message: Message; status: HttpStatus; retryAt?: string } {
  switch (result.reason) {
    case 'locked':
    case 'client-locked': {
      const minutes = Math.max(1, Math.ceil((result.retryAt.getTime() - nowMs) / 60000));
      const key = result.reason === 'locked' ? 'signIn.error.locked' : 'signIn.error.networkLocked';
      return {
        message: { key, values: { minutes } },
        status: HttpStatus.TOO_MANY_REQUESTS,
        retryAt: result.retryAt.toISOString(),
      };
    }
    case 'account-locked':
      return { message: ACCOUNT_LOCKED, status: HttpStatus.FORBIDDEN };
    default:
      return { message: invalidMessage, status: HttpStatus.UNAUTHORIZED };
  }
}

/** passport-local: email + password. Failures re-render the login form with the email kept. */
@Injectable()
export class LocalStrategy extends PassportStrategy(Strategy) {
  constructor(
    private readonly login: LoginService,
    private readonly clock: Clock,
  ) {
    super({ usernameField: 'email', passwordField: 'password', passReqToCallback: true, session: false });
  }

  async validate(req: Request, email: unknown, password: unknown): Promise<User> {
    const emailText = typeof email === 'string' ? email : '';
    const model = { email: emailText, next: typeof req.body?.next === 'string' ? req.body.next : '' };
    if (typeof email !== 'string' || typeof password !== 'string' || !email.trim() || !password) {
      throw new FormException('auth/login', model, { form: ENTER_EMAIL_AND_PASSWORD });
    }
    if (email.length > 254 || password.length > 1024) {
      throw new FormException('auth/login', model, { form: INVALID_LOGIN }, HttpStatus.UNAUTHORIZED);
    }
    const result = await this.login.attempt(email, password, req);
    if (result.ok) return result.user;
    const refusal = loginRefusal(result, this.clock.nowMs(), INVALID_LOGIN);
    throw new FormException(
      'auth/login',
      refusal.retryAt ? { ...model, retryAt: refusal.retryAt } : model,
      { form: refusal.message },
      refusal.status,
    );
  }
}
