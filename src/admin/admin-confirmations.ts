import type { MessageValueMap } from '../common/message';
import type { User } from '../users/user.entity';
import { userPath } from './admin-views';

export type ConfirmedAction = 'resend-qr' | 'enable' | 'disable' | 'unlock' | 'sign-out-everywhere';

/** A line of a confirmation: a message key, its values and, when it names an instant, `at` (written by {{datetime}}). */
export interface Consequence {
  key: string;
  values?: MessageValueMap;
  at?: Date;
}

export interface ConfirmationView {
  /** The page title's key (titleValues: none). */
  title: string;
  heading: { key: string; values: MessageValueMap };
  user: { id: string; name: string; email: string };
  consequences: Consequence[];
  action: string;
  fields: { name: string; value: string }[];
  /** The button's key. */
  button: string;
  danger?: boolean;
  cancelHref: string;
}

/** The attempt locks an Unlock account confirmation names. */
export type AttemptLocks = { password: Date | null; code: Date | null };
export const NO_LOCKS: AttemptLocks = { password: null, code: null };

/** What a confirmation page says and posts (message keys); `activeSessions` is the count a Sign out everywhere names. */
export function confirmationView(
  user: User,
  action: ConfirmedAction,
  locks: AttemptLocks,
  activeSessions = 0,
): ConfirmationView {
  const who = { name: user.name, email: user.email };
  const base = { user: { id: user.id, name: user.name, email: user.email }, cancelHref: userPath(user) };
  switch (action) {
    case 'resend-qr':
      return {
        ...base,
        title: 'adminUsers.action.resendQr',
        heading: { key: 'adminUsers.confirm.resendQr.heading', values: who },
        consequences: [
          { key: 'adminUsers.confirm.resendQr.oldStops' },
          { key: 'adminUsers.confirm.signedOutEverywhere' },
          { key: 'adminUsers.confirm.resendQr.email' },
          { key: 'adminUsers.confirm.resendQr.neverSee' },
        ],
        action: `${userPath(user)}/resend-qr`,
        fields: [],
        button: 'adminUsers.action.resendQr',
      };
    case 'enable':
      return {
        ...base,
        title: 'adminUsers.action.enable',
        heading: { key: 'adminUsers.confirm.enable.heading', values: who },
        consequences: [
          { key: 'adminUsers.confirm.enable.code' },
          { key: 'adminUsers.confirm.enable.signedOut' },
          { key: 'adminUsers.confirm.emailAboutChange' },
        ],
        action: `${userPath(user)}/two-factor`,
        fields: [{ name: 'twoFactor', value: 'enable' }],
        button: 'adminUsers.action.enable',
      };
    case 'disable':
      return {
        ...base,
        title: 'adminUsers.action.disable',
        heading: { key: 'adminUsers.confirm.disable.heading', values: who },
        consequences: [
          { key: 'adminUsers.confirm.disable.passwordAlone' },
          { key: 'adminUsers.confirm.disable.resendLinks' },
          { key: 'adminUsers.confirm.signedOutEverywhere' },
          { key: 'adminUsers.confirm.emailAboutChange' },
        ],
        action: `${userPath(user)}/two-factor`,
        fields: [{ name: 'twoFactor', value: 'disable' }],
        button: 'adminUsers.action.disable',
        danger: true,
      };
    case 'unlock':
      return {
        ...base,
        title: 'adminUsers.action.unlock',
        heading: { key: 'adminUsers.confirm.unlock.heading', values: who },
        consequences: [
          ...(user.accountLockedAt
            ? [{ key: 'adminUsers.confirm.unlock.notMe', values: { name: user.name }, at: user.accountLockedAt }]
            : []),
          ...(locks.password ? [{ key: 'adminUsers.confirm.unlock.passwordLock', at: locks.password }] : []),
          ...(locks.code ? [{ key: 'adminUsers.confirm.unlock.codeLock', at: locks.code }] : []),
          { key: 'adminUsers.confirm.unlock.signInAgain' },
          { key: 'adminUsers.confirm.unlock.mayBeKnown' },
          { key: 'adminUsers.confirm.emailAboutThis' },
        ],
        action: `${userPath(user)}/unlock`,
        fields: [],
        button: 'adminUsers.action.unlock',
      };
    case 'sign-out-everywhere':
      return {
        ...base,
        title: 'adminUsers.action.signOutEverywhere',
        heading: { key: 'adminUsers.confirm.signOut.heading', values: who },
        consequences: [
          { key: 'adminUsers.confirm.signOut.sessionsEnd', values: { name: user.name, count: activeSessions } },
          { key: 'adminUsers.confirm.signOut.signInAgain' },
          { key: 'adminUsers.confirm.signOut.mayBeKnown' },
          { key: 'adminUsers.confirm.emailAboutThis' },
        ],
        action: `${userPath(user)}/sign-out-everywhere`,
        fields: [],
        button: 'adminUsers.action.signOutEverywhere',
        danger: true,
      };
  }
}
