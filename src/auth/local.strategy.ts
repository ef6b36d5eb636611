import { HttpStatus, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { Request } from 'express';
import { Strategy } from 'passport-local';
import { Clock } from '../common/clock';
import { FormException } from '../common/exceptions';
import { User } from '../users/user.entity';
import { LoginService } from './login.service';

/** The one message for an unknown email and a wrong password alike (SECURITY.md 4). */
export const INVALID_LOGIN = 'Incorrect email or password.';

export const ACCOUNT_LOCKED = 'This account is locked because a sign-in was reported as not yours. Ask an admin of your organizer to unlock it.';

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
      throw new FormException('auth/login', model, { form: 'Enter your email and password.' });
    }
    if (email.length > 254 || password.length > 1024) {
      throw new FormException('auth/login', model, { form: INVALID_LOGIN }, HttpStatus.UNAUTHORIZED);
    }
    const result = await this.login.attempt(email, password, req.ip ?? null);
    if (result.ok) return result.user;
    if (result.reason === 'locked') {
      const minutes = Math.max(1, Math.ceil((result.retryAt.getTime() - this.clock.nowMs()) / 60000));
      throw new FormException(
        'auth/login',
        { ...model, retryAt: result.retryAt.toISOString() },
        { form: `Too many failed attempts. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}, or ask an admin.` },
        HttpStatus.TOO_MANY_REQUESTS,
      );
    }
    if (result.reason === 'account-locked') {
      throw new FormException('auth/login', model, { form: ACCOUNT_LOCKED }, HttpStatus.FORBIDDEN);
    }
    throw new FormException('auth/login', model, { form: INVALID_LOGIN }, HttpStatus.UNAUTHORIZED);
  }
}
