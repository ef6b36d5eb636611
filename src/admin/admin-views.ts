import type { Flash } from '../common/flash';
import { TWO_FACTOR_STATE_WORDS, TwoFactorState } from '../two-factor/factors/two-factor-state';
import type { Role, User } from '../users/user.entity';

export type { Flash } from '../common/flash';

/** Where to go after an action, and what to tell the admin there. */
export interface Outcome {
  location: string;
  flash: Flash;
}

export const ROLE_LABELS: Record<Role, string> = { admin: 'Admin', member: 'Member' };

/** A 2FA state as the admin pages show it: PRODUCT.md's word and its CSS class. */
export function stateView(state: TwoFactorState): { twoFactor: string; twoFactorClass: string } {
  return {
    twoFactor: TWO_FACTOR_STATE_WORDS[state],
    twoFactorClass: TWO_FACTOR_STATE_WORDS[state].toLowerCase().replace(/\s+/g, '-'),
  };
}

export function userPath(user: Pick<User, 'id'>): string {
  return `/admin/users/${user.id}`;
}

export function utcMinute(at: Date): string {
  return `${at.toISOString().replace('T', ' ').slice(0, 16)} UTC`;
}
