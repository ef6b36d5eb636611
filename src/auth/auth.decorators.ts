import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import type { Request } from 'express';
import type { Role, User } from '../users/user.entity';

export const ROLES_KEY = 'roles';
/** Only these roles; others get 403 (checked by the global SessionGuard). */
export const Roles = (...roles: Role[]) => SetMetadata(ROLES_KEY, roles);

/** The signed-in (or pending) user, loaded by the global guard. */
export const CurrentUser = createParamDecorator((_data: unknown, context: ExecutionContext): User => {
  return context.switchToHttp().getRequest<Request>().user as User;
});
