import type { EntityManager } from 'typeorm';

/** The kinds of second factor (django-two-factor-auth's methods; django-otp's devices). */
export type FactorKindName = 'totp' | 'passkey' | 'recovery-codes';

/** What the admin pages and the export call each kind: message keys. */
export const FACTOR_KIND_WORDS = {
  totp: 'twoFactor.factor.totp',
  passkey: 'twoFactor.factor.passkey',
  'recovery-codes': 'twoFactor.factor.recoveryCodes',
} as const satisfies Record<FactorKindName, string>;

/**
 * One kind of second factor, plugged into SecondFactors: how to tell in SQL that a user has
 * a confirmed one, and how to remove all of a user's. Its own setup and verification live
 * in its service; the attempt lock is shared by every kind (AttemptLimiter's code pool).
 */
export interface FactorKind {
  readonly kind: FactorKindName;
  /**
   * Whether a confirmed factor of this kind is a second factor on its own. Recovery codes
   * are not: they come with the first factor and replace it once each.
   */
  readonly standsAlone: boolean;
  /** SQL true when the user in `userIdColumn` has a confirmed factor of this kind. */
  confirmedSql(userIdColumn: string): string;
  /**
   * Of these users, those with a confirmed factor of this kind: one select of this kind's
   * table by its user_id index (a page or batch of a list), never a scan of every factor.
   */
  confirmedAmong(userIds: string[], manager: EntityManager): Promise<Set<string>>;
  /** Removes every factor of this kind of the user (Resend QR, Disable 2FA). */
  removeAll(userId: string, manager: EntityManager): Promise<void>;
}
