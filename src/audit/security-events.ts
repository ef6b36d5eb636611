import { type Message, messageParts } from '../common/message';
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
  'organizer.time_zone_changed': { timeZone: string; previous: string };
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
  /** What the pages call it: a message key (`audit.event.*`, in locales/<language>.json). */
  label: `audit.event.${string}`;
  /**
   * A line under the label, from the event's detail, as a message (`audit.note.*`) with the
   * detail's values; a value that is data (a refusal's reason code, a device, a time zone) stays
   * as it is. Rows written by older versions may lack fields or hold other types: each is checked.
   */
  note?: (detail: Partial<SecurityEventDetails[T]>) => Message | undefined;
  /** The email the person gets about it (SECURITY.md 13), when there is one; its subject is a message key. */
  email?: { template: MailTemplate; subject: string };
}

/** The note of `login.succeeded`: how the person signed in. */
const SIGN_IN_METHOD_NOTES: Record<SignInMethod, string> = {
  password: 'audit.note.method.password',
  totp: 'audit.note.method.totp',
  passkey: 'audit.note.method.passkey',
  'passkey-only': 'audit.note.method.passkeyOnly',
  'recovery-code': 'audit.note.method.recoveryCode',
  setup: 'audit.note.method.setup',
};

/** The note of `mail.failed`: which email. */
const MAIL_NOTES: Record<MailTemplate, string> = {
  invitation: 'audit.note.mail.invitation',
  'totp-reset': 'audit.note.mail.totpReset',
  'two-factor-enabled': 'audit.note.mail.twoFactorEnabled',
  'two-factor-disabled': 'audit.note.mail.twoFactorDisabled',
  'two-factor-setup': 'audit.note.mail.twoFactorSetup',
  'recovery-code-used': 'audit.note.mail.recoveryCodeUsed',
  'account-locked': 'audit.note.mail.accountLocked',
  'account-unlocked': 'audit.note.mail.accountUnlocked',
  'password-changed': 'audit.note.mail.passwordChanged',
  'password-reset': 'audit.note.mail.passwordReset',
  'signed-out-everywhere': 'audit.note.mail.signedOutEverywhere',
  'passkey-added': 'audit.note.mail.passkeyAdded',
  'passkey-removed': 'audit.note.mail.passkeyRemoved',
  'not-me-admin-alert': 'audit.note.mail.notMeAdminAlert',
};

/** A map's own entry for a value read from a row (never one of Object's prototype). */
function own(map: Record<string, string>, value: string): string | undefined {
  return Object.hasOwn(map, value) ? map[value] : undefined;
}

/** A value that is data (a reason code, a device), shown as it is in every language. */
const data = (text: unknown): Message | undefined =>
  typeof text === 'string' ? { key: 'audit.note.data', values: { text } } : undefined;

/** The note of the events that end sessions: how many. */
const sessionsEnded = (detail: { count?: number }): Message | undefined =>
  typeof detail.count === 'number' ? { key: 'audit.note.sessionsEnded', values: { count: detail.count } } : undefined;

/** The one definition of each security event: label and note (message keys), email (the compiler checks every type has one). */
export const SECURITY_EVENTS = {
  'login.succeeded': {
    label: 'audit.event.loginSucceeded',
    note: (d) =>
      typeof d.method === 'string'
        ? (own(SIGN_IN_METHOD_NOTES, d.method) ?? { key: 'audit.note.method.other', values: { method: d.method } })
        : undefined,
  },
  'login.failed': { label: 'audit.event.loginFailed' },
  'login.passkey_failed': { label: 'audit.event.loginPasskeyFailed', note: (d) => data(d.reason) },
  'login.locked': {
    label: 'audit.event.loginLocked',
    email: { template: 'account-locked', subject: 'mail.accountLocked.subjectPasswords' },
  },
  'code.failed': {
    label: 'audit.event.codeFailed',
    note: (d) =>
      d.during === 'setup' ? 'audit.note.duringSetup' : d.recoveryCode ? 'audit.note.recoveryCode' : undefined,
  },
  'code.replayed': { label: 'audit.event.codeReplayed' },
  'code.locked': {
    label: 'audit.event.codeLocked',
    email: { template: 'account-locked', subject: 'mail.accountLocked.subjectCodes' },
  },
  'two_factor.setup': {
    label: 'audit.event.twoFactorSetup',
    note: (d) => (d.viaResetLink ? 'audit.note.viaResetLink' : undefined),
    email: { template: 'two-factor-setup', subject: 'mail.twoFactorSetup.subject' },
  },
  'two_factor.reset': {
    label: 'audit.event.twoFactorReset',
    email: { template: 'totp-reset', subject: 'mail.totpReset.subject' },
  },
  'two_factor.enabled': {
    label: 'audit.event.twoFactorEnabled',
    email: { template: 'two-factor-enabled', subject: 'mail.twoFactorEnabled.subject' },
  },
  'two_factor.disabled': {
    label: 'audit.event.twoFactorDisabled',
    email: { template: 'two-factor-disabled', subject: 'mail.twoFactorDisabled.subject' },
  },
  'recovery_code.used': {
    label: 'audit.event.recoveryCodeUsed',
    note: (d) =>
      typeof d.remaining === 'number' ? { key: 'audit.note.codesLeft', values: { remaining: d.remaining } } : undefined,
    email: { template: 'recovery-code-used', subject: 'mail.recoveryCodeUsed.subject' },
  },
  'recovery_codes.regenerated': { label: 'audit.event.recoveryCodesRegenerated' },
  'passkey.added': {
    label: 'audit.event.passkeyAdded',
    email: { template: 'passkey-added', subject: 'mail.passkeyAdded.subject' },
  },
  'passkey.removed': {
    label: 'audit.event.passkeyRemoved',
    email: { template: 'passkey-removed', subject: 'mail.passkeyRemoved.subject' },
  },
  'passkey.counter_rejected': { label: 'audit.event.passkeyCounterRejected' },
  'account.created': { label: 'audit.event.accountCreated' },
  'account.invitation_accepted': { label: 'audit.event.accountInvitationAccepted' },
  'account.invitation_sent': { label: 'audit.event.accountInvitationSent' },
  'account.not_me': { label: 'audit.event.accountNotMe' },
  'account.unlocked': {
    label: 'audit.event.accountUnlocked',
    email: { template: 'account-unlocked', subject: 'mail.accountUnlocked.subject' },
  },
  'password.changed': {
    label: 'audit.event.passwordChanged',
    email: { template: 'password-changed', subject: 'mail.passwordChanged.subject' },
  },
  'password.reset_requested': {
    label: 'audit.event.passwordResetRequested',
    email: { template: 'password-reset', subject: 'mail.passwordReset.subject' },
  },
  'password.reset': {
    label: 'audit.event.passwordReset',
    email: { template: 'password-changed', subject: 'mail.passwordChanged.subject' },
  },
  'session.logout': { label: 'audit.event.sessionLogout' },
  'session.ended': { label: 'audit.event.sessionEnded', note: (d) => data(d.device) },
  'session.ended_others': { label: 'audit.event.sessionEndedOthers', note: sessionsEnded },
  'session.ended_all': {
    label: 'audit.event.sessionEndedAll',
    note: sessionsEnded,
    email: { template: 'signed-out-everywhere', subject: 'mail.signedOut.subject' },
  },
  'mail.failed': {
    label: 'audit.event.mailFailed',
    note: (d) =>
      typeof d.template === 'string'
        ? (own(MAIL_NOTES, d.template) ?? { key: 'audit.note.mailOther', values: { email: d.template } })
        : undefined,
  },
  'organizer.policy_changed': { label: 'audit.event.organizerPolicyChanged' },
  'organizer.passkey_policy_changed': { label: 'audit.event.organizerPasskeyPolicyChanged' },
  'organizer.time_zone_changed': {
    label: 'audit.event.organizerTimeZoneChanged',
    note: (d) =>
      typeof d.timeZone === 'string'
        ? { key: 'audit.note.timeZone', values: { from: String(d.previous ?? '?'), to: d.timeZone } }
        : undefined,
  },
} satisfies { [T in AuditType]: SecurityEvent<T> };

/** The events that email the person. */
export type EmailedEvent = {
  [T in AuditType]: (typeof SECURITY_EVENTS)[T] extends { email: object } ? T : never;
}[AuditType];

/** Who acted, when it was no admin of the same organizer that a page can name (message keys). */
export const BY_ADMIN = 'audit.by.admin';
export const BY_COMMAND_LINE = 'audit.by.commandLine';

/** A message as a page's `{{t key values}}` takes it. */
type MessageParts = ReturnType<typeof messageParts>;

/** An event as a page shows it (the admin's user page, the person's account page, the security log): messages, and data. */
export interface EventView {
  at: Date;
  /** The label's message (SECURITY_EVENTS); a type this version does not know is shown by its type (data). */
  label: MessageParts;
  /** The note's message, from the detail (SECURITY_EVENTS' `note`). */
  note?: MessageParts;
  /** The name of the admin who acted (data), when the caller can name them. */
  by?: string;
  /** Who acted when there is no name to show: BY_ADMIN or BY_COMMAND_LINE (neither: the person). */
  byKey?: string;
  ip: string | null;
}

/**
 * The one renderer of an audit event for people. `actorName` names the admin who acted
 * (only admins of the same organizer; others are BY_ADMIN); rows of a type this version
 * does not know are shown by their type.
 */
export function describeEvent(
  event: { type: string; detail: string | null; actorId: string | null; createdAt: Date; ip: string | null },
  actorName: (id: string) => string | undefined = () => undefined,
): EventView {
  const definition = Object.hasOwn(SECURITY_EVENTS, event.type)
    ? (SECURITY_EVENTS as Record<string, SecurityEvent<AuditType>>)[event.type]
    : undefined;
  const detail = parseDetail(event.detail);
  const name = event.actorId ? actorName(event.actorId) : undefined;
  const note = definition?.note?.(detail as never);
  return {
    at: event.createdAt,
    label: definition ? { key: definition.label } : messageParts(data(event.type)!),
    note: note ? messageParts(note) : undefined,
    by: name,
    byKey: event.actorId ? (name ? undefined : BY_ADMIN) : detail.via === 'command line' ? BY_COMMAND_LINE : undefined,
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
