import { AuditType } from './audit-event.entity';

/** The audit log in words people read (admin user page, the user's own account page). */
const EVENT_LABELS: Partial<Record<AuditType, string>> = {
  'login.succeeded': 'Signed in',
  'login.failed': 'Wrong password',
  'login.locked': 'Sign-in locked after wrong passwords',
  'code.failed': 'Wrong verification code',
  'code.replayed': 'Verification code used twice (refused)',
  'code.locked': '2FA locked after wrong codes',
  'code.succeeded': 'Verification code accepted',
  'two_factor.setup': 'Authenticator app set up',
  'two_factor.reset': 'QR resent (2FA reset)',
  'two_factor.enabled': '2FA enabled',
  'two_factor.disabled': '2FA disabled',
  'recovery_code.used': 'Recovery code used',
  'recovery_codes.regenerated': 'New recovery codes made',
  'account.created': 'Account created',
  'account.invitation_accepted': 'Invitation accepted, password chosen',
  'account.invitation_sent': 'Invitation sent again',
  'password.changed': 'Password changed',
  'session.logout': 'Logged out',
  'mail.failed': 'Email could not be sent',
  'account.not_me': 'Reported a sign-in that was not them',
  'account.unlocked': 'Unlocked',
  'organizer.policy_changed': 'Organizer 2FA policy changed',
};

/** The label of an event type; an unknown type is shown as it is. */
export function auditLabel(type: AuditType): string {
  return EVENT_LABELS[type] ?? type;
}
