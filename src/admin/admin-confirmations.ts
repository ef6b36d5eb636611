import type { User } from '../users/user.entity';
import { userPath, utcMinute } from './admin-views';

export type ConfirmedAction = 'resend-qr' | 'enable' | 'disable' | 'unlock' | 'sign-out-everywhere';

export interface ConfirmationView {
  title: string;
  heading: string;
  user: { id: string; name: string; email: string };
  consequences: string[];
  action: string;
  fields: { name: string; value: string }[];
  button: string;
  danger?: boolean;
  cancelHref: string;
}

/** The attempt locks an Unlock account confirmation names. */
export type AttemptLocks = { password: Date | null; code: Date | null };
export const NO_LOCKS: AttemptLocks = { password: null, code: null };

/** What a confirmation page says and posts; `activeSessions` is the count a Sign out everywhere names. */
export function confirmationView(
  user: User,
  action: ConfirmedAction,
  locks: AttemptLocks,
  activeSessions = 0,
): ConfirmationView {
  const who = `${user.name} (${user.email})`;
  const base = { user: { id: user.id, name: user.name, email: user.email }, cancelHref: userPath(user) };
  switch (action) {
    case 'resend-qr':
      return {
        ...base,
        title: 'Resend QR',
        heading: `Resend QR for ${who}?`,
        consequences: [
          'Their current authenticator app entry and all their recovery codes stop working at once.',
          'They are signed out everywhere.',
          'They get an email with a single-use link, valid 24 hours. After their password, it shows a new QR code to scan.',
          'You never see the new QR code or secret.',
        ],
        action: `${userPath(user)}/resend-qr`,
        fields: [],
        button: 'Resend QR',
      };
    case 'enable':
      return {
        ...base,
        title: 'Enable 2FA',
        heading: `Enable two-factor authentication for ${who}?`,
        consequences: [
          'They must enter a code from an authenticator app at every sign-in.',
          'They are signed out everywhere now, and set up the app at their next sign-in.',
          'They get an email about this change.',
        ],
        action: `${userPath(user)}/two-factor`,
        fields: [{ name: 'twoFactor', value: 'enable' }],
        button: 'Enable 2FA',
      };
    case 'disable':
      return {
        ...base,
        title: 'Disable 2FA',
        heading: `Disable two-factor authentication for ${who}?`,
        consequences: [
          'They will sign in with their password alone: their authenticator app entry and recovery codes stop working.',
          'Any Resend QR link sent to them stops working.',
          'They are signed out everywhere.',
          'They get an email about this change.',
        ],
        action: `${userPath(user)}/two-factor`,
        fields: [{ name: 'twoFactor', value: 'disable' }],
        button: 'Disable 2FA',
        danger: true,
      };
    case 'unlock':
      return {
        ...base,
        title: 'Unlock account',
        heading: `Unlock the account of ${who}?`,
        consequences: [
          ...(user.accountLockedAt
            ? [
                `${user.name} locked it on ${utcMinute(user.accountLockedAt)} with “This wasn't me”: they reported a change to their account that they did not make. Talk to them first, by a way you trust (not by replying to an email).`,
              ]
            : []),
          ...(locks.password
            ? [
                `Sign-in is locked until ${utcMinute(locks.password)} after wrong passwords: make sure it was them who mistyped, not someone guessing.`,
              ]
            : []),
          ...(locks.code ? [`2FA is locked until ${utcMinute(locks.code)} after wrong codes.`] : []),
          'They can sign in again with their password and, if 2FA is on, their authenticator app.',
          'If their password or authenticator may be known to someone else: after unlocking, click Resend QR and ask them to change their password.',
          'They get an email about this.',
        ],
        action: `${userPath(user)}/unlock`,
        fields: [],
        button: 'Unlock account',
      };
    case 'sign-out-everywhere':
      return {
        ...base,
        title: 'Sign out everywhere',
        heading: `Sign out ${who} everywhere?`,
        consequences: [
          `Every session of ${user.name} ends at once, on every device (${activeSessions} active now, sign-ins in progress included).`,
          'They can sign in again with their password and, if 2FA is on, their second factor.',
          'If their password may be known to someone else, ask them to change it after signing in.',
          'They get an email about this.',
        ],
        action: `${userPath(user)}/sign-out-everywhere`,
        fields: [],
        button: 'Sign out everywhere',
        danger: true,
      };
  }
}
