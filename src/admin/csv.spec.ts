import { csvCell, csvRow, fileNamePart } from './csv';

describe('csvCell', () => {
  it('quotes every cell and doubles the quotes inside', () => {
    expect(csvCell('Ann')).toBe('"Ann"');
    expect(csvCell('say "hi", then\nleave')).toBe('"say ""hi"", then\nleave"');
    expect(csvCell(null)).toBe('""');
  });

  it.each(['=1+1', '+1', '-1', '@SUM(A1)', '\tx', '\rx', '=HYPERLINK("http://evil.test","click")'])(
    'neutralises the formula %p with a leading apostrophe',
    (value) => {
      expect(csvCell(value)).toBe(`"'${value.replace(/"/g, '""')}"`);
    },
  );

  it('leaves text that merely contains those characters alone', () => {
    expect(csvCell('a=b')).toBe('"a=b"');
    expect(csvCell('ann+tag@example.com')).toBe('"ann+tag@example.com"');
  });
});

describe('csvRow', () => {
  it('joins cells with commas and ends the row with CRLF', () => {
    expect(csvRow(['a', 'b,c', ''])).toBe('"a","b,c",""\r\n');
  });
});

describe('fileNamePart', () => {
  it('keeps ASCII letters and digits only', () => {
    expect(fileNamePart('Stade de Genève / "VIP"')).toBe('stade-de-geneve-vip');
    expect(fileNamePart('***')).toBe('organizer');
  });
});
