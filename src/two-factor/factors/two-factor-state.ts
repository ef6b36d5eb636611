/**
 * A user's 2FA state (PRODUCT.md, Words), one set of codes for every page, list, count and
 * export; the words are the view layer's (TWO_FACTOR_STATE_WORDS).
 */
export type TwoFactorState = 'off' | 'pending' | 'active' | 'locked';

export const TWO_FACTOR_STATES: readonly TwoFactorState[] = ['off', 'pending', 'active', 'locked'];

/**
 * PRODUCT.md's words for the states, as admins and the person read them: message keys (in
 * English `Off`, `Pending setup`, `Active`, `Locked`), written in the page's language by `{{t}}`.
 */
export const TWO_FACTOR_STATE_WORDS = {
  off: 'twoFactor.state.off',
  pending: 'twoFactor.state.pending',
  active: 'twoFactor.state.active',
  locked: 'twoFactor.state.locked',
} as const satisfies Record<TwoFactorState, string>;

/** What the state is decided from. */
export interface TwoFactorFacts {
  /** The admin's per-user setting. */
  required: boolean;
  /** The organizer's policy gave the user a deadline to set 2FA up. */
  hasDeadline: boolean;
  /** A confirmed second factor of any kind. */
  confirmed: boolean;
  /** Wrong codes locked the second factor. */
  locked: boolean;
}

/**
 * The one rule: off when nothing requires 2FA and nothing is set up (a policy deadline
 * requires it: pending); locked while wrong codes lock it; active with a confirmed factor;
 * pending otherwise. The adoption counts (SecondFactors.adoption) put the locked users through it too.
 */
export function twoFactorState(facts: TwoFactorFacts): TwoFactorState {
  if (!facts.confirmed && !facts.required && !facts.hasDeadline) return 'off';
  if (facts.locked) return 'locked';
  return facts.confirmed ? 'active' : 'pending';
}
