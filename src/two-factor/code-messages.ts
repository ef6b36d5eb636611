import type { CodeOutcome } from './two-factor.service';

/** Messages for a refused code, in the words a person needs. */
export function codeMessage(
  outcome: Exclude<CodeOutcome, { ok: true }> | { reason: 'invalid'; clockOffsetSeconds?: number },
  now: number,
): string {
  switch (outcome.reason) {
    case 'malformed':
      return 'Enter the 6-digit code from your authenticator app.';
    case 'replayed':
      return 'This code was already used. Wait for the next code and enter it.';
    case 'locked':
      return codeLockedMessage(outcome.retryAt, now);
    default: {
      const offset = 'clockOffsetSeconds' in outcome ? outcome.clockOffsetSeconds : undefined;
      if (offset) {
        return `That code is not valid now. Your phone's clock seems ${Math.abs(offset)} seconds ${offset > 0 ? 'ahead' : 'behind'}: set it to automatic time and try the next code.`;
      }
      return 'That code is not valid. Check the app and try again with the current code.';
    }
  }
}

/** The second factor is locked after wrong codes (or failed passkeys): until when, and who can help. */
export function codeLockedMessage(retryAt: Date, now: number): string {
  const minutes = Math.max(1, Math.ceil((retryAt.getTime() - now) / 60000));
  return `Too many wrong codes. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}, or ask an admin to click Resend QR.`;
}
