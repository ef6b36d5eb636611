import fc from 'fast-check';
import { decodeListCursor, encodeListCursor } from './user-list-cursor';

describe('encodeListCursor / decodeListCursor', () => {
  it('reads back every cursor it wrote: any name (quotes, colons, any script), any email, any page', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1_000_000 }),
        fc.string({ unit: 'grapheme', maxLength: 50 }),
        fc.emailAddress(),
        (page, name, email) => {
          expect(decodeListCursor(encodeListCursor({ page, name, email }))).toEqual({ page, name, email });
        },
      ),
    );
  });

  it('refuses what it did not write: other text, a cut cursor, another shape, values out of range', () => {
    const good = encodeListCursor({ page: 2, name: 'ada lovelace', email: 'ada@example.com' });
    expect(decodeListCursor(good)).toEqual({ page: 2, name: 'ada lovelace', email: 'ada@example.com' });
    const encoded = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    for (const text of [
      '',
      'not a cursor!',
      good.slice(0, -4),
      good + '+/',
      encoded({ page: 2, name: 'a', email: 'b' }),
      encoded([2, 'a']),
      encoded([2, 'a', 'b', 'c']),
      encoded([-1, 'a', 'b@c']),
      encoded([1.5, 'a', 'b@c']),
      encoded([1_000_001, 'a', 'b@c']),
      encoded(['2', 'a', 'b@c']),
      encoded([2, 3, 'b@c']),
      encoded([2, 'a', '']),
      encoded([2, 'a'.repeat(201), 'b@c']),
      encoded([2, 'a', 'b'.repeat(255)]),
      Buffer.from('[2, "a", "b@c"').toString('base64url'),
      'A'.repeat(2000),
    ])
      expect(decodeListCursor(text)).toBeUndefined();
  });
});
