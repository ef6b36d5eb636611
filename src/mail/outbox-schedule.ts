const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;

/** The waits after the 1st, 2nd, … failed try; after the last, every 12 hours. */
export const RETRY_DELAYS_MS = [1 * MINUTE_MS, 5 * MINUTE_MS, 30 * MINUTE_MS, 2 * HOUR_MS, 12 * HOUR_MS];

/** How long an email is retried before it is given up on (issue 15: at least 24 hours). */
export const GIVE_UP_AFTER_MS = 24 * HOUR_MS;

/** Sent or failed emails are kept this long for the admin's user page, then pruned. */
export const OUTBOX_KEEP_MS = 30 * 24 * HOUR_MS;

/**
 * What happens after a failed try: the next try (the schedule, but never later than 24 hours
 * after the email was queued, so the last try is at that moment), or give up when that moment
 * has come. `attempts` counts the failed tries, this one included.
 */
export function afterFailure(createdAt: Date, attempts: number, now: Date): { retryAt: Date } | { giveUp: true } {
  const deadline = createdAt.getTime() + GIVE_UP_AFTER_MS;
  if (now.getTime() >= deadline) return { giveUp: true };
  const delay = RETRY_DELAYS_MS[Math.min(attempts, RETRY_DELAYS_MS.length) - 1];
  return { retryAt: new Date(Math.min(now.getTime() + delay, deadline)) };
}
