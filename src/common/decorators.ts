import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import type { Request } from 'express';
import type { Role, User } from '../users/user.entity';

export const ACCESS_KEY = 'access';
/** Who may reach a route. The default, with no decorator, is a fully signed-in user. */
export type Access = 'public' | 'pending';

/** Anyone, signed in or not (login, invitation and reset links, health). */
export const Public = () => SetMetadata(ACCESS_KEY, 'public' satisfies Access);
/** A session that has passed the password but still owes the second factor (the 2FA pages, logout). */
export const AllowPending = () => SetMetadata(ACCESS_KEY, 'pending' satisfies Access);

export const ROLES_KEY = 'roles';
/** Only these roles; others get 403. */
export const Roles = (...roles: Role[]) => SetMetadata(ROLES_KEY, roles);

/** The signed-in (or pending) user, loaded by the global guard. */
export const CurrentUser = createParamDecorator((_data: unknown, context: ExecutionContext): User => {
  return context.switchToHttp().getRequest<Request>().user as User;
});

export const FORM_VIEW_KEY = 'formView';
/**
 * The view a handler's form comes from: when the DTO fails validation, the filter
 * renders it again with the messages next to the fields and the input kept.
 */
export const FormView = (view: string) => SetMetadata(FORM_VIEW_KEY, view);
