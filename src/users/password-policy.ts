import { dictionary } from '@zxcvbn-ts/language-common';

export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 128;

/** The common-passwords list shipped with zxcvbn-ts (about 49,000 entries), lower-cased. */
const COMMON_PASSWORDS: ReadonlySet<string> = new Set(
  (dictionary['passwords-common'] as string[]).map((word) => word.toLowerCase()),
);

/**
 * The messages of the policy (keys of locales/*.json, issue 17): the page or the command line
 * that shows one writes it in its reader's language. The lengths are PASSWORD_MIN_LENGTH and
 * PASSWORD_MAX_LENGTH, written out in the messages.
 */
export const PASSWORD_MESSAGES = {
  enterNew: 'password.policy.enterNew',
  tooShort: 'password.policy.tooShort',
  tooLong: 'password.policy.tooLong',
  common: 'password.policy.common',
  repeats: 'password.policy.repeats',
  sequence: 'password.policy.sequence',
  email: 'password.policy.email',
  appName: 'password.policy.appName',
  enterAgain: 'password.policy.enterAgain',
  notSame: 'password.policy.notSame',
} as const;

/**
 * Why a new password is refused (a message key), or null when it is acceptable (SECURITY.md 1:
 * ASVS 2.1.1/2.1.7/2.1.9, NIST 800-63B 5.1.1.2). Checked exactly as typed: no
 * trimming, no truncation, no composition rules. Length counts Unicode code points.
 */
export function passwordProblem(password: string, context: { email?: string; appName?: string } = {}): string | null {
  const length = [...password].length;
  if (length < PASSWORD_MIN_LENGTH) return PASSWORD_MESSAGES.tooShort;
  if (length > PASSWORD_MAX_LENGTH) return PASSWORD_MESSAGES.tooLong;
  const lower = password.toLowerCase();
  if (COMMON_PASSWORDS.has(lower)) return PASSWORD_MESSAGES.common;
  if (/^(.)\1+$/u.test(password)) return PASSWORD_MESSAGES.repeats;
  if (isSequence(lower)) return PASSWORD_MESSAGES.sequence;
  const email = context.email?.toLowerCase();
  if (email && (lower === email || lower === email.split('@')[0])) return PASSWORD_MESSAGES.email;
  if (context.appName && lower.replace(/\s/g, '') === context.appName.toLowerCase().replace(/\s/g, '')) {
    return PASSWORD_MESSAGES.appName;
  }
  return null;
}

/** "123456789012", "abcdefghijkl", "987654321098": each character one after (or before) the previous. */
function isSequence(value: string): boolean {
  const codes = [...value].map((c) => c.codePointAt(0)!);
  const step = codes[1] - codes[0];
  if (Math.abs(step) !== 1) {
    return /^(0123456789|1234567890)+\d{0,9}$/.test(value);
  }
  return codes.every(
    (code, i) => i === 0 || code - codes[i - 1] === step || (step === 1 && codes[i - 1] === 57 && code === 48),
  );
}

/**
 * Why a chosen password (and its confirmation) cannot be taken, by field (message keys), or null: the password
 * policy (SECURITY.md 1), then the two must be the same. Only the first problem is told.
 */
export function newPasswordErrors(
  newPassword: unknown,
  confirmPassword: unknown,
  context: { email: string; appName: string },
): Record<string, string> | null {
  if (typeof newPassword !== 'string' || newPassword === '') return { newPassword: PASSWORD_MESSAGES.enterNew };
  const problem = passwordProblem(newPassword, context);
  if (problem) return { newPassword: problem };
  if (typeof confirmPassword !== 'string' || confirmPassword === '')
    return { confirmPassword: PASSWORD_MESSAGES.enterAgain };
  if (confirmPassword !== newPassword) return { confirmPassword: PASSWORD_MESSAGES.notSame };
  return null;
}
