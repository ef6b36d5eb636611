import type { MailTemplate } from '../mail/mail.service';

/** Who did it when no admin did: the command line. */
type Via = { via?: 'command line' };

/**
 * Every security event, with the shape of its detail (a small JSON object, never a
 * secret: SECURITY.md 28). A new event is one line here and one entry in SECURITY_EVENTS;
 * the compiler then checks every call that records it.
 */
export interface SecurityEventDetails {
  'login.succeeded': { method: SignInMethod };
  'login.passkey_failed': { reason: string };
  'login.failed': { pool: 'untrusted' | 'device' };
  'login.locked': { minutes: number; pool: 'untrusted' | 'device' };
  'code.failed': { during?: 'setup'; recoveryCode?: true; passkey?: true; clockOffsetSeconds?: number };
  'code.replayed': { step: number };
  'code.locked': { minutes: number };
  'two_factor.setup': { viaResetLink: boolean; kind?: 'passkey' };
  'two_factor.reset': { linkId: string } & Via;
  'two_factor.enabled': Via;
  'two_factor.disabled': Via;
  'recovery_code.used': { remaining: number };
  'passkey.added': { passkeyId: string };
  'passkey.removed': { passkeyId: string };
  'passkey.counter_rejected': { passkeyId: string };
  'recovery_codes.regenerated': Record<string, never>;
  'account.created': { role: string; twoFactorRequired: boolean } & Via;
  'account.invitation_accepted': Record<string, never>;
  'account.invitation_sent': Record<string, never>;
  'account.not_me': Record<string, never>;
  'account.unlocked': { lifted: string[]; lockedSince?: string };
  'password.changed': Record<string, never>;
  'password.reset_requested': Record<string, never>;
  'password.reset': { linkId: string };
  'session.logout': Record<string, never>;
  'session.ended': { device: string };
  'session.ended_others': { count: number };
  'session.ended_all': { count: number };
  'mail.failed': { template: MailTemplate; error?: string; to?: string };
  'organizer.passkey_policy_changed': {
    allowPasskeySignIn: boolean;
    requireAdminPasskey: boolean;
    graceDays: number;
    started: number;
  };
  'organizer.policy_changed': {
    requireTwoFactor: 'on' | 'off';
    graceDays: number;
    previous: { requireTwoFactor: 'on' | 'off'; graceDays: number };
    started?: number;
    shortened?: number;
    cleared?: number;
  };
}

export type AuditType = keyof SecurityEventDetails;

/** How a sign-in was completed (the note of `login.succeeded`). */
export type SignInMethod = 'password' | 'totp' | 'passkey' | 'passkey-only' | 'recovery-code' | 'setup';

interface SecurityEvent<T extends AuditType> {
  /** What the admin's user page and the person's account page call it. */
  label: string;
  /** A line under the label, from the event's detail (rows written by older versions may lack fields). */
  note?: (detail: Partial<SecurityEventDetails[T]>) => string | undefined;
  /** The email the person gets about it (SECURITY.md 13), when there is one. */
  email?: { template: MailTemplate; subject: string };
}

const SIGN_IN_METHODS: Record<SignInMethod, string> = {
  password: 'password only',
  totp: 'password and code',
  passkey: 'password and a passkey',
  'passkey-only': 'a passkey alone',
  'recovery-code': 'password and a recovery code',
  setup: 'password, then 2FA setup',
};

const MAIL_LABELS: Record<MailTemplate, string> = {
  invitation: 'invitation',
  'totp-reset': 'Resend QR link',
  'two-factor-enabled': '2FA enabled',
  'two-factor-disabled': '2FA disabled',
  'two-factor-setup': '2FA set up',
  'recovery-code-used': 'recovery code used',
  'account-locked': 'account locked',
  'account-unlocked': 'account unlocked',
  'password-changed': 'password changed',
  'password-reset': 'password reset link',
  'signed-out-everywhere': 'signed out everywhere',
  'passkey-added': 'passkey added',
  'passkey-removed': 'passkey removed',
  'not-me-admin-alert': 'security report to the admins',
};

/** The note of the events that end sessions: how many. */
const sessionsEnded = (detail: { count?: number }) =>
  typeof detail.count === 'number' ? `${detail.count} ${detail.count === 1 ? 'session' : 'sessions'} ended` : undefined;

/** The one definition of each security event: label, note, email (the compiler checks every type has one). */
export const SECURITY_EVENTS = {
  'login.succeeded': {
    label: 'Signed in',
    note: (d) => (d.method ? `With ${SIGN_IN_METHODS[d.method] ?? d.method}` : undefined),
  },
  'login.failed': { label: 'Wrong password' },
  'login.passkey_failed': { label: 'Sign-in with a passkey refused', note: (d) => d.reason },
  'login.locked': {
    label: 'Sign-in locked after wrong passwords',
    email: { template: 'account-locked', subject: 'Your sign-in was locked after wrong passwords' },
  },
  'code.failed': {
    label: 'Wrong verification code',
    note: (d) => (d.during === 'setup' ? 'During setup' : d.recoveryCode ? 'A recovery code' : undefined),
  },
  'code.replayed': { label: 'Verification code used twice (refused)' },
  'code.locked': {
    label: '2FA locked after wrong codes',
    email: { template: 'account-locked', subject: 'Your sign-in was locked after wrong codes' },
  },
  'two_factor.setup': {
    label: 'Authenticator app set up',
    note: (d) => (d.viaResetLink ? 'With the Resend QR link' : undefined),
    email: { template: 'two-factor-setup', subject: 'Two-factor authentication is set up' },
  },
  'two_factor.reset': {
    label: 'QR resent (2FA reset)',
    email: { template: 'totp-reset', subject: 'Set up your authenticator app again' },
  },
  'two_factor.enabled': {
    label: '2FA enabled',
    email: { template: 'two-factor-enabled', subject: 'Two-factor authentication is now required for your account' },
  },
  'two_factor.disabled': {
    label: '2FA disabled',
    email: { template: 'two-factor-disabled', subject: 'Two-factor authentication was turned off for your account' },
  },
  'recovery_code.used': {
    label: 'Recovery code used',
    note: (d) => (typeof d.remaining === 'number' ? `${d.remaining} left` : undefined),
    email: { template: 'recovery-code-used', subject: 'A recovery code was used to sign in' },
  },
  'recovery_codes.regenerated': { label: 'New recovery codes made' },
  'passkey.added': {
    label: 'Passkey added',
    email: { template: 'passkey-added', subject: 'A passkey was added to your account' },
  },
  'passkey.removed': {
    label: 'Passkey removed',
    email: { template: 'passkey-removed', subject: 'A passkey was removed from your account' },
  },
  'passkey.counter_rejected': { label: 'Passkey refused: its counter went backwards (a copied key?)' },
  'account.created': { label: 'Account created' },
  'account.invitation_accepted': { label: 'Invitation accepted, password chosen' },
  'account.invitation_sent': { label: 'Invitation sent again' },
  'account.not_me': { label: 'Reported a sign-in that was not them' },
  'account.unlocked': {
    label: 'Unlocked',
    email: { template: 'account-unlocked', subject: 'Your account was unlocked' },
  },
  'password.changed': {
    label: 'Password changed',
    email: { template: 'password-changed', subject: 'Your password was changed' },
  },
  'password.reset_requested': {
    label: 'Password reset link requested',
    email: { template: 'password-reset', subject: 'Reset your password' },
  },
  'password.reset': {
    label: 'Password reset with an emailed link',
    email: { template: 'password-changed', subject: 'Your password was changed' },
  },
  'session.logout': { label: 'Logged out' },
  'session.ended': { label: 'Signed out one of their sessions', note: (d) => d.device },
  'session.ended_others': {
    label: 'Signed out everywhere else',
    note: sessionsEnded,
  },
  'session.ended_all': {
    label: 'Signed out everywhere',
    note: sessionsEnded,
    email: { template: 'signed-out-everywhere', subject: 'You were signed out everywhere' },
  },
  'mail.failed': {
    label: 'Email could not be sent',
    note: (d) => (d.template ? `Email: ${MAIL_LABELS[d.template] ?? d.template}` : undefined),
  },
  'organizer.policy_changed': { label: 'Organizer 2FA policy changed' },
  'organizer.passkey_policy_changed': { label: 'Organizer passkey settings changed' },
} satisfies { [T in AuditType]: SecurityEvent<T> };

/** The events that email the person. */
export type EmailedEvent = {
  [T in AuditType]: (typeof SECURITY_EVENTS)[T] extends { email: object } ? T : never;
}[AuditType];

/** An event as a page shows it (the admin's user page, the person's account page). */
export interface EventView {
  at: Date;
  label: string;
  note?: string;
  by?: string;
  ip: string | null;
}

/**
 * The one renderer of an audit event for people. `actorName` names the admin who acted
 * (only admins of the same organizer; others read "An admin"); rows of a type this version
 * does not know are shown by their type.
 */
export function describeEvent(
  event: { type: string; detail: string | null; actorId: string | null; createdAt: Date; ip: string | null },
  actorName: (id: string) => string | undefined = () => undefined,
): EventView {
  const definition = (SECURITY_EVENTS as Record<string, SecurityEvent<AuditType>>)[event.type];
  const detail = parseDetail(event.detail);
  const by = event.actorId
    ? (actorName(event.actorId) ?? 'An admin')
    : detail.via === 'command line'
      ? 'The command line'
      : undefined;
  return {
    at: event.createdAt,
    label: definition?.label ?? event.type,
    note: definition?.note?.(detail as never),
    by,
    ip: event.ip,
  };
}

function parseDetail(detail: string | null): Record<string, unknown> {
  if (!detail) return {};
  try {
    const parsed = JSON.parse(detail) as unknown;
    return parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
