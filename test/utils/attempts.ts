import { DataSource } from 'typeorm';
import { AttemptCounter } from '../../src/attempts/attempt-counter.entity';
import { AttemptLimiter } from '../../src/attempts/attempt-limiter.service';
import type { TestApp } from './test-app';

/** Wrong codes counted now in the account's code pool (0 when it has none). */
export async function codeFailures(t: TestApp, userId: string): Promise<number> {
  const row = await t
    .get(DataSource)
    .getRepository(AttemptCounter)
    .findOneBy({ key: t.get(AttemptLimiter).codeKey(userId).key });
  return row?.failedCount ?? 0;
}

/** Whether the account's second factor refuses codes now. */
export async function codeLocked(t: TestApp, userId: string): Promise<boolean> {
  const limiter = t.get(AttemptLimiter);
  return (await limiter.lockedUntil(limiter.codeKey(userId))) !== null;
}
