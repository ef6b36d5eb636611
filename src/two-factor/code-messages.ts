import type { Message } from '../common/message';
import type { CodeOutcome } from './two-factor.service';

/** Messages (keys) for a refused code, in the words a person needs. */
export function codeMessage(
  outcome: Exclude<CodeOutcome, { ok: true }> | { reason: 'invalid'; clockOffsetSeconds?: number },
  now: number,
): Message {
  switch (outcome.reason) {
    case 'malformed':
      return 'twoFactor.code.malformed';
    case 'replayed':
      return 'twoFactor.code.replayed';
    case 'locked':
      return codeLockedMessage(outcome.retryAt, now);
    default: {
      const offset = 'clockOffsetSeconds' in outcome ? outcome.clockOffsetSeconds : undefined;
      if (offset) {
        const key = offset > 0 ? 'twoFactor.code.clockAhead' : 'twoFactor.code.clockBehind';
        return { key, values: { seconds: Math.abs(offset) } };
      }
      return 'twoFactor.code.invalid';
    }
  }
}

/** The second factor is locked after wrong codes (or failed passkeys): until when, and who can help. */
export function codeLockedMessage(retryAt: Date, now: number): Message {
  const minutes = Math.max(1, Math.ceil((retryAt.getTime() - now) / 60000));
  return { key: 'twoFactor.code.locked', values: { minutes } };
}
