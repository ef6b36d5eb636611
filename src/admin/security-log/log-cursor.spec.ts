import fc from 'fast-check';
import { decodeCursor, encodeCursor } from './log-cursor';
import { dayNumber, isoDay, parseUtcDay } from './utc-day';

describe('encodeCursor / decodeCursor', () => {
  it('reads back every cursor it wrote', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 8.64e15 }), fc.uuid(), (createdAt, id) => {
        expect(decodeCursor(encodeCursor({ createdAt, id }))).toEqual({ createdAt, id });
      }),
    );
  });

  it('refuses what it did not write: other text, a cut cursor, an id that is not one, an instant out of range', () => {
    const good = encodeCursor({ createdAt: 1_764_000_000_000, id: '0b5e8c1e-3c1d-4a4b-9f4e-2d6c1e5b7a90' });
    for (const text of [
      '',
      'not a cursor!',
      good.slice(0, -4),
      good + 'AA',
      Buffer.from("1764000000000:' OR 1=1 --").toString('base64url'),
      Buffer.from('-1:0b5e8c1e-3c1d-4a4b-9f4e-2d6c1e5b7a90').toString('base64url'),
      Buffer.from('9999999999999999:0b5e8c1e-3c1d-4a4b-9f4e-2d6c1e5b7a90').toString('base64url'),
      'A'.repeat(81),
    ])
      expect(decodeCursor(text)).toBeUndefined();
  });
});

describe('parseUtcDay', () => {
  it('is the start of a real YYYY-MM-DD day in UTC, and undefined for anything else', () => {
    expect(parseUtcDay('2026-01-31')).toBe(Date.UTC(2026, 0, 31));
    expect(parseUtcDay('2024-02-29')).toBe(Date.UTC(2024, 1, 29));
    for (const text of [
      '2026-02-29',
      '2026-02-30',
      '2026-13-01',
      '2026-00-10',
      '2026-1-5',
      '31/01/2026',
      '1969-12-31',
      ' 2026-01-31',
    ])
      expect(parseUtcDay(text)).toBeUndefined();
  });

  it('agrees with dayNumber and isoDay', () => {
    expect(isoDay(dayNumber(Date.UTC(2026, 0, 31, 23, 59, 59, 999)))).toBe('2026-01-31');
    expect(dayNumber(parseUtcDay('2026-01-31')!)).toBe(dayNumber(Date.UTC(2026, 0, 31, 12)));
  });
});
