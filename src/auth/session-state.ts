/**
 * What the server keeps about a sign-in, in the session row. The 2FA state lives here
 * and in the user row, never in a hidden field or a cookie of its own.
 */
export interface AuthState {
  userId: string;
  /** `pending`: the password was right, the second factor is still owed. */
  stage: 'pending' | 'full';
  /** The organizer's name, read once at sign-in for the page header (organizers are not renamed). */
  organizerName?: string;
  /** The user's security stamp when the session began; a different stamp ends it. */
  stamp: string;
  /** When the password step succeeded (12 h absolute limit). */
  startedAt: number;
  /** When the session became pending (5 min to finish the second factor). */
  pendingSince?: number;
  /** A same-site path to go to after sign-in. */
  returnTo?: string;
  /** A Resend QR link opened in this session, allowing the setup of a new authenticator. */
  resetTokenId?: string;
  /** Recovery codes to show once (encrypted), right after setup or regeneration. */
  recoveryCodesSealed?: string;
  /** Until when this session may replace its confirmed authenticator on /2fa/setup (after re-authentication). */
  replacingAuthenticatorUntil?: number;
  /** When the user last proved a second factor (re-authentication for sensitive actions). */
  verifiedAt?: number;
  /** The browser that signed in, for the person's list of their sessions (captured at the password or passkey step). */
  client?: SessionClient;
}

/** What "Your sessions" shows of a session's browser: its User-Agent (cut to USER_AGENT_MAX chars) and address. */
export interface SessionClient {
  userAgent: string;
  ip: string | null;
}

/** What a WebAuthn challenge was given for: adding a passkey, the second step, or a sign-in with a passkey alone. */
export type WebauthnPurpose = 'register' | 'sign-in' | 'passkey-only';

declare module 'express-session' {
  interface SessionData {
    auth?: AuthState;
    /**
     * The WebAuthn challenge given to this browser, signed in or not yet (a sign-in with a passkey
     * alone), single use, until it expires (SECURITY.md 29). A new session id drops it.
     */
    webauthnChallenge?: { purpose: WebauthnPurpose; challenge: string; expiresAt: number };
  }
}
