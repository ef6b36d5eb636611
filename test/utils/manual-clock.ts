import { Clock } from '../../src/common/clock';

/** A clock that only moves when told to: tests inject it to move time (never sleeps). */
export class ManualClock extends Clock {
  private current: number;
  constructor(start: Date | number = Date.now()) {
    super();
    this.current = typeof start === 'number' ? start : start.getTime();
  }
  now(): Date {
    return new Date(this.current);
  }
  set(at: Date | number): void {
    this.current = typeof at === 'number' ? at : at.getTime();
  }
  advance(ms: number): void {
    this.current += ms;
  }
}
