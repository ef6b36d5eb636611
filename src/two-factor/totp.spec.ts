import { base32Decode } from '../../test/utils/base32';
import {
  findMatchingStep,
  generateTotpSecret,
  groupsOfFour,
  normaliseCode,
  otpauthUri,
  timeStep,
  totpCode,
  TOTP_WINDOW,
} from './totp';

const SEED_SHA1 = new TextEncoder().encode('12345678901234567890');
const SEED_SHA256 = new TextEncoder().encode('12345678901234567890123456789012');
const SEED_SHA512 = new TextEncoder().encode('1234567890'.repeat(6) + '1234');

describe('totpCode', () => {
  // RFC 6238 Appendix B (8 digits, 30 s, T0 = 0).
  const vectors: [number, string, string, string][] = [
    [59, '94287082', '46119246', '90693936'],
    [1111111109, '07081804', '68084774', '25091201'],
    [1111111111, '14050471', '67062674', '99943326'],
    [1234567890, '89005924', '91819424', '93441116'],
    [2000000000, '69279037', '90698825', '38618901'],
    [20000000000, '65353130', '77737706', '47863826'],
  ];

  it.each(vectors)('matches RFC 6238 Appendix B at T = %i s', (seconds, sha1, sha256, sha512) => {
    const step = timeStep(seconds * 1000);
    expect(totpCode(SEED_SHA1, step, { digits: 8, algorithm: 'sha1' })).toBe(sha1);
    expect(totpCode(SEED_SHA256, step, { digits: 8, algorithm: 'sha256' })).toBe(sha256);
    expect(totpCode(SEED_SHA512, step, { digits: 8, algorithm: 'sha512' })).toBe(sha512);
  });

  it('matches the RFC 4226 HOTP vectors for counters 0-9 (SHA-1, 6 digits)', () => {
    const expected = [
      '755224',
      '287082',
      '359152',
      '969429',
      '338314',
      '254676',
      '287922',
      '162583',
      '399871',
      '520489',
    ];
    // A TOTP step is the HOTP counter: step n at period 30 is counter n.
    expect(expected.map((_, counter) => totpCode(SEED_SHA1, counter))).toEqual(expected);
  });
});

describe('generateTotpSecret', () => {
  it('makes 160-bit secrets in unpadded base32, different each time', () => {
    const secrets = new Set(Array.from({ length: 50 }, () => generateTotpSecret()));
    expect(secrets.size).toBe(50);
    for (const secret of secrets) {
      expect(secret).toMatch(/^[A-Z2-7]{32}$/);
      expect(base32Decode(secret)).toHaveLength(20);
    }
  });
});

describe('findMatchingStep', () => {
  const secret = generateTotpSecret();
  const now = new Date(Date.UTC(2026, 0, 15, 9, 0, 10));
  const current = timeStep(now);

  it('accepts T-1, T and T+1 and nothing further', () => {
    for (const offset of [-1, 0, 1])
      expect(findMatchingStep(secret, totpCode(secret, current + offset), now)).toBe(current + offset);
    for (const offset of [-3, -2, 2, 3])
      expect(findMatchingStep(secret, totpCode(secret, current + offset), now)).toBeNull();
    expect(TOTP_WINDOW).toBe(1);
  });

  it('refuses steps at or before the last accepted one (replay)', () => {
    const code = totpCode(secret, current);
    expect(findMatchingStep(secret, code, now, { afterStep: current })).toBeNull();
    expect(findMatchingStep(secret, code, now, { afterStep: current - 1 })).toBe(current);
  });

  it('finds far steps only with a wider window (clock hints)', () => {
    const code = totpCode(secret, current - 3);
    expect(findMatchingStep(secret, code, now)).toBeNull();
    expect(findMatchingStep(secret, code, now, { window: 10 })).toBe(current - 3);
  });

  it('never matches a wrong secret', () => {
    expect(findMatchingStep(generateTotpSecret(), totpCode(secret, current), now)).toBeNull();
  });
});

describe('otpauthUri', () => {
  it('has the label, issuer and every parameter of PRODUCT.md', () => {
    expect(otpauthUri('TIXNGO Backoffice', 'sample@tixngo.io', 'JBSWY3DPEHPK3PXP')).toBe(
      'otpauth://totp/TIXNGO%20Backoffice:sample%40tixngo.io?secret=JBSWY3DPEHPK3PXP&issuer=TIXNGO%20Backoffice&algorithm=SHA1&digits=6&period=30',
    );
  });

  it('removes colons from issuer and account and padding from the secret', () => {
    const uri = otpauthUri('Acme: Events', 'a:b@example.com', 'JBSWY3DPEHPK3PXP====');
    const label = decodeURIComponent(uri.slice('otpauth://totp/'.length, uri.indexOf('?')));
    expect(label.split(':')).toHaveLength(2);
    expect(label).toBe('Acme Events:ab@example.com');
    const params = new URL(uri).searchParams;
    expect(params.get('secret')).toBe('JBSWY3DPEHPK3PXP');
    expect(params.get('issuer')).toBe('Acme Events');
  });
});

describe('normaliseCode', () => {
  it('accepts six digits with spaces or dashes as pasted', () => {
    expect(normaliseCode('123456')).toBe('123456');
    expect(normaliseCode(' 123 456 ')).toBe('123456');
    expect(normaliseCode('123-456')).toBe('123456');
  });

  it('refuses everything else', () => {
    for (const input of [
      '12345',
      '1234567',
      'abcdef',
      '',
      '１２３４５６',
      ['123456'],
      { a: 1 },
      123456,
      null,
      undefined,
      '1'.repeat(100),
    ]) {
      expect(normaliseCode(input)).toBeNull();
    }
  });
});

describe('groupsOfFour', () => {
  it('splits the manual key for reading', () => {
    expect(groupsOfFour('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567')).toBe('ABCD EFGH IJKL MNOP QRST UVWX YZ23 4567');
  });
});
