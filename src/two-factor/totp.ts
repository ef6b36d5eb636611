import { randomBytes } from 'node:crypto';
import { generateSync } from 'otplib';
import { ScureBase32Plugin } from 'otplib';
import { constantTimeEqual } from '../common/crypto/key-ring';

/** RFC 6238 parameters every authenticator app understands (Google Authenticator ignores others). */
export const TOTP_PERIOD_SECONDS = 30;
export const TOTP_DIGITS = 6;
/** Accepted steps around now: T-1, T, T+1 (RFC 6238 5.2). Never wider. */
export const TOTP_WINDOW = 1;
/** How far we look, only to tell the user their phone's clock is off; such codes are refused. */
export const CLOCK_HINT_WINDOW = 10;

const base32 = new ScureBase32Plugin();

export type HashAlgorithm = 'sha1' | 'sha256' | 'sha512';

/** A new 160-bit secret from the CSPRNG (RFC 4226 R6), base32 without padding. */
export function generateTotpSecret(): string {
  return base32.encode(randomBytes(20), { padding: false });
}

/** The time step of an instant. */
export function timeStep(at: Date | number, period = TOTP_PERIOD_SECONDS): number {
  const ms = typeof at === 'number' ? at : at.getTime();
  return Math.floor(ms / 1000 / period);
}

/** The code for one time step (HOTP of the step counter). */
export function totpCode(
  secret: string | Uint8Array,
  step: number,
  options: { digits?: 6 | 7 | 8; algorithm?: HashAlgorithm; period?: number } = {},
): string {
  const period = options.period ?? TOTP_PERIOD_SECONDS;
  return generateSync({
    secret,
    epoch: step * period,
    period,
    digits: options.digits ?? TOTP_DIGITS,
    algorithm: options.algorithm ?? 'sha1',
  });
}

/**
 * The step whose code equals `code`, searching `window` steps either side of `now`,
 * nearest first; only steps after `afterStep` count (replay protection, django-otp's
 * `last_t`). Compares every candidate in constant time.
 */
export function findMatchingStep(
  secret: string,
  code: string,
  now: Date,
  options: { window?: number; afterStep?: number | null } = {},
): number | null {
  const window = options.window ?? TOTP_WINDOW;
  const current = timeStep(now);
  let match: number | null = null;
  for (let distance = 0; distance <= window; distance++) {
    for (const step of distance === 0 ? [current] : [current - distance, current + distance]) {
      const equal = constantTimeEqual(totpCode(secret, step), code);
      if (equal && match === null && (options.afterStep == null || step > options.afterStep)) match = step;
    }
  }
  return match;
}

/**
 * The otpauth URI of PRODUCT.md: label `ISSUER:EMAIL`, `issuer=` equal to the prefix,
 * base32 without padding, and every parameter spelled out. Colons are removed from
 * issuer and account because the label uses one as its separator (Google Key URI Format).
 */
export function otpauthUri(issuer: string, account: string, secret: string): string {
  const cleanIssuer = issuer.replace(/:/g, '').trim();
  const cleanAccount = account.replace(/:/g, '').trim();
  const label = `${encodeURIComponent(cleanIssuer)}:${encodeURIComponent(cleanAccount)}`;
  const query = [
    `secret=${secret.replace(/=+$/, '')}`,
    `issuer=${encodeURIComponent(cleanIssuer)}`,
    'algorithm=SHA1',
    `digits=${TOTP_DIGITS}`,
    `period=${TOTP_PERIOD_SECONDS}`,
  ].join('&');
  return `otpauth://totp/${label}?${query}`;
}

/** The secret as people type it from the setup page: groups of four. */
export function groupsOfFour(secret: string): string {
  return secret.match(/.{1,4}/g)?.join(' ') ?? '';
}

/** A code as typed or pasted: spaces and dashes removed. Null unless it is exactly 6 digits. */
export function normaliseCode(input: unknown): string | null {
  if (typeof input !== 'string' || input.length > 32) return null;
  const code = input.replace(/[\s-]/g, '');
  return /^\d{6}$/.test(code) ? code : null;
}
