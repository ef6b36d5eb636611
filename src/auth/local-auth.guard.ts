import { ExecutionContext, Injectable } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import type { Request } from 'express';
import { FormException } from '../common/exceptions';
import { ENTER_EMAIL_AND_PASSWORD } from './local.strategy';

/** Runs passport-local; a request with missing fields gets the form again, not a 401 page. */
@Injectable()
export class LocalAuthGuard extends AuthGuard('local') {
  handleRequest<TUser>(error: unknown, user: TUser, _info: unknown, context: ExecutionContext): TUser {
    if (error) throw error;
    if (!user) {
      const body = context.switchToHttp().getRequest<Request>().body ?? {};
      throw new FormException(
        'auth/login',
        {
          email: typeof body.email === 'string' ? body.email : '',
          next: typeof body.next === 'string' ? body.next : '',
        },
        { form: ENTER_EMAIL_AND_PASSWORD },
      );
    }
    return user;
  }
}
