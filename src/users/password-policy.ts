import { dictionary } from '@zxcvbn-ts/language-common';

export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 128;

/** The common-passwords list shipped with zxcvbn-ts (about 49,000 entries), lower-cased. */
const COMMON_PASSWORDS: ReadonlySet<string> = new Set(
  (dictionary['passwords-common'] as string[]).map((word) => word.toLowerCase()),
);

/**
 * Why a new password is refused, or null when it is acceptable (SECURITY.md 1:
 * ASVS 2.1.1/2.1.7/2.1.9, NIST 800-63B 5.1.1.2). Checked exactly as typed: no
 * trimming, no truncation, no composition rules. Length counts Unicode code points.
 */
export function passwordProblem(password: string, context: { email?: string; appName?: string } = {}): string | null {
  const length = [...password].length;
  if (length < PASSWORD_MIN_LENGTH) return `Use at least ${PASSWORD_MIN_LENGTH} characters.`;
  if (length > PASSWORD_MAX_LENGTH) return `Use at most ${PASSWORD_MAX_LENGTH} characters.`;
  const lower = password.toLowerCase();
  if (COMMON_PASSWORDS.has(lower)) return 'This password is too common. Choose another one.';
  if (/^(.)\1+$/u.test(password)) return 'This password repeats one character. Choose another one.';
  if (isSequence(lower)) return 'This password is a simple sequence. Choose another one.';
  const email = context.email?.toLowerCase();
  if (email && (lower === email || lower === email.split('@')[0]))
    return 'Do not use your email address as your password.';
  if (context.appName && lower.replace(/\s/g, '') === context.appName.toLowerCase().replace(/\s/g, '')) {
    return 'Do not use the name of this service as your password.';
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
 * Why a chosen password (and its confirmation) cannot be taken, by field, or null: the password
 * policy (SECURITY.md 1), then the two must be the same. Only the first problem is told.
 */
export function newPasswordErrors(
  newPassword: unknown,
  confirmPassword: unknown,
  context: { email: string; appName: string },
): Record<string, string> | null {
  if (typeof newPassword !== 'string' || newPassword === '') return { newPassword: 'Enter a new password.' };
  const problem = passwordProblem(newPassword, context);
  if (problem) return { newPassword: problem };
  if (typeof confirmPassword !== 'string' || confirmPassword === '')
    return { confirmPassword: 'Enter the same password again.' };
  if (confirmPassword !== newPassword)
    return { confirmPassword: 'The two passwords are not the same. Type them again.' };
  return null;
}
