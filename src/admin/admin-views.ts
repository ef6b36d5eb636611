import type { Flash } from '../common/flash';
import { TWO_FACTOR_STATE_WORDS, TwoFactorState } from '../two-factor/factors/two-factor-state';
import type { Role, User } from '../users/user.entity';

export type { Flash } from '../common/flash';

/** Where to go after an action, and what to tell the admin there. */
export interface Outcome {
  location: string;
  flash: Flash;
}

/** The roles' names (message keys, PRODUCT.md's Admin and Member in English). */
export const ROLE_LABELS: Record<Role, string> = { admin: 'role.admin', member: 'role.member' };

/** The CSS class of each state (app.css), from the state's code: the same in every language. */
const STATE_CLASSES: Record<TwoFactorState, string> = {
  off: 'off',
  pending: 'pending-setup',
  active: 'active',
  locked: 'locked',
};

/** A 2FA state as the admin pages show it: the key of PRODUCT.md's word (shown with {{t}}) and its CSS class. */
export function stateView(state: TwoFactorState): {
  twoFactor: string;
  twoFactorClass: string;
  twoFactorState: TwoFactorState;
} {
  return { twoFactor: TWO_FACTOR_STATE_WORDS[state], twoFactorClass: STATE_CLASSES[state], twoFactorState: state };
}

export function userPath(user: Pick<User, 'id'>): string {
  return `/admin/users/${user.id}`;
}
