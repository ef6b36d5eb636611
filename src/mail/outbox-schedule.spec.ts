import { afterFailure, GIVE_UP_AFTER_MS } from './outbox-schedule';

const MIN = 60_000;
const start = new Date(Date.UTC(2026, 0, 15, 9));

describe('afterFailure (the retry schedule)', () => {
  it('waits 1 min, 5 min, 30 min, 2 h, 12 h, then tries at 24 h and gives up after that try', () => {
    let now = start;
    const waits: number[] = [];
    for (let attempts = 1; attempts < 20; attempts++) {
      const next = afterFailure(start, attempts, now);
      if ('giveUp' in next) break;
      waits.push((next.retryAt.getTime() - now.getTime()) / MIN);
      now = next.retryAt;
    }
    // 0, 1, 6, 36, 156, 876 minutes, then the last try at 1440 (capped from 876 + 720).
    expect(waits).toEqual([1, 5, 30, 120, 720, 564]);
    expect(now.getTime() - start.getTime()).toBe(GIVE_UP_AFTER_MS);
    expect(afterFailure(start, 7, now)).toEqual({ giveUp: true });
  });

  it('keeps retrying every 12 hours within the 24 hours however many tries failed', () => {
    const now = new Date(start.getTime() + 60 * MIN);
    expect(afterFailure(start, 9, now)).toEqual({ retryAt: new Date(now.getTime() + 12 * 60 * MIN) });
    const late = new Date(start.getTime() + 20 * 60 * MIN);
    expect(afterFailure(start, 9, late)).toEqual({ retryAt: new Date(start.getTime() + GIVE_UP_AFTER_MS) });
    expect(afterFailure(start, 6, new Date(start.getTime() + 5 * MIN))).toEqual({
      retryAt: new Date(start.getTime() + 5 * MIN + 12 * 60 * MIN),
    });
  });
});
