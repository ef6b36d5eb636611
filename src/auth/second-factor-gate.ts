import type { User } from '../users/user.entity';

/**
 * What the sign-in asks of the second factors, answered by two-factor (which auth cannot
 * import: two-factor is a step built on auth). Two-factor provides the one implementation
 * (SecondFactors); auth only asks.
 */
export abstract class SecondFactorGate {
  /** Whether the user has a confirmed second factor of any kind. */
  abstract hasConfirmed(user: User): Promise<boolean>;

  /**
   * Whether sign-in must pass a second factor: the admin required it, the user has one, or
   * the organizer's grace period for 2FA is over.
   */
  abstract owed(user: User, now: Date): Promise<boolean>;

  /**
   * The step after the password, in one question: `verify` (a confirmed factor to pass),
   * `setup` (one is owed but none is set up), or null (none owed: signed in).
   */
  abstract secondStep(user: User, now: Date): Promise<'verify' | 'setup' | null>;

  /** A signed-in user who owes a second factor never set up (the grace period ended): only the setup page is open. */
  abstract setupOverdue(user: User, now: Date): Promise<boolean>;

  /** An admin whose organizer requires a passkey of admins, past their deadline, without one: only their account page is open. */
  abstract passkeyOverdue(user: User, now: Date): Promise<boolean>;
}
