import { validate } from 'class-validator';
import fc from 'fast-check';
import { Catalogue } from '../i18n/catalogue';
import { EMAIL_MESSAGES, emailAddressProblem, IsEmailAddress, normaliseEmail } from './email-address';
import { normaliseEmail as normaliseEmailOfUsersService } from './users.service';

describe('normaliseEmail', () => {
  it('folds compatibility forms (full-width letters, the full-width @) with NFKC, then trims and lower-cases', () => {
    expect(normaliseEmail('ｄavid@example.com')).toBe('david@example.com');
    expect(normaliseEmail('ＡＢＣ@ＥＸＡＭＰＬＥ.ＣＯＭ')).toBe('abc@example.com');
    expect(normaliseEmail('ann＠example.com')).toBe('ann@example.com');
    expect(normaliseEmail('  Ann.Lee@Example.COM \t')).toBe('ann.lee@example.com');
    // U+212A KELVIN SIGN is a K.
    expect(normaliseEmail('\u212Aim@example.com')).toBe('kim@example.com');
  });

  it('writes the domain in its ASCII (IDNA) form', () => {
    expect(normaliseEmail('user@bücher.de')).toBe('user@xn--bcher-kva.de');
    expect(normaliseEmail('user@BÜCHER.de')).toBe('user@xn--bcher-kva.de');
    expect(normaliseEmail('user@xn--bcher-kva.de')).toBe('user@xn--bcher-kva.de');
  });

  it('leaves a Cyrillic letter as it is: it is not the Latin one (and such an address is refused at creation)', () => {
    expect(normaliseEmail('\u0430dmin@example.com')).not.toBe('admin@example.com');
  });

  it('never throws, whatever it is given (it runs on every sign-in, for unknown and odd emails alike)', () => {
    for (const odd of [
      '',
      '@',
      '@@',
      'a@b@c',
      'a@',
      'no-at-sign',
      'a@\u0000',
      'a@exa mple.com',
      'a@.',
      '"a b"@example.com',
      '\ud800@example.com',
      'a@\ud800',
    ]) {
      expect(typeof normaliseEmail(odd)).toBe('string');
    }
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (input) => typeof normaliseEmail(input) === 'string'),
    );
  });

  it('is the one definition: UsersService exports the same function', () => {
    expect(normaliseEmailOfUsersService).toBe(normaliseEmail);
  });
});

describe('emailAddressProblem', () => {
  it('accepts ordinary addresses, and the forms that normalise to one', () => {
    for (const email of [
      'ann@example.com',
      'First.Last+tag@sub.example.co.uk',
      'a_b%c-d@example.com',
      'ｄavid@example.com',
      'ＡＢＣ@ＥＸＡＭＰＬＥ.ＣＯＭ',
      'user@bücher.de',
      ' padded@example.com ',
    ]) {
      expect({ email, problem: emailAddressProblem(email) }).toEqual({ email, problem: undefined });
    }
  });

  it('refuses a local part outside plain printable ASCII (a Cyrillic а, an accent), with the message that says what is allowed', () => {
    // A message key (issue 17); its English is the catalogue's.
    expect(Catalogue.load().format('en', EMAIL_MESSAGES.localPart)).toBe(
      'Enter an email address with only plain letters, digits and . _ % + - before the @.',
    );
    for (const email of [
      '\u0430dmin@example.com',
      'adm\u0456n@example.com',
      'jos\u00e9@example.com',
      'ann\u200b@example.com',
    ]) {
      expect({ email, problem: emailAddressProblem(email) }).toEqual({ email, problem: EMAIL_MESSAGES.localPart });
    }
  });

  it('refuses a quoted local part and other characters a mail server reads differently', () => {
    for (const email of [
      '"a b"@example.com',
      '"ann"@example.com',
      'a b@example.com',
      'a(comment)@example.com',
      'a\\b@example.com',
      "o'brien@example.com",
      'a!b@example.com',
    ]) {
      expect({ email, problem: emailAddressProblem(email) }).toEqual({ email, problem: EMAIL_MESSAGES.localPart });
    }
  });

  it('refuses more than one @, empty parts, bad dots, bad domains, display names and control characters', () => {
    for (const email of [
      'a@b@c',
      '"a@b"@example.com',
      '@example.com',
      'ann@',
      'ann',
      '.ann@example.com',
      'ann.@example.com',
      'a..b@example.com',
      'ann@localhost',
      'ann@exa mple.com',
      'ann@[127.0.0.1]',
      'Ann <ann@example.com>',
      'a@b.c\u001b[2K',
      'ann@example.com\nBcc: x@evil.test',
    ]) {
      expect({ email, problem: emailAddressProblem(email) }).toEqual({
        email,
        problem: expect.stringMatching(/^email\.(invalid|localPart)$/),
      });
    }
    expect(emailAddressProblem('a@b@c')).toBe(EMAIL_MESSAGES.invalid);
  });

  it('asks for an address when there is none', () => {
    for (const email of ['', '   ', undefined, null, 42, ['a@b.test']])
      expect(emailAddressProblem(email)).toBe(EMAIL_MESSAGES.missing);
  });

  it('refuses more than 254 characters (as stored) and a local part over 64', () => {
    const domain = '@' + 'd'.repeat(60) + '.' + 'e'.repeat(60) + '.' + 'f'.repeat(60) + '.example.com';
    const longest = 'a'.repeat(254 - domain.length) + domain;
    expect(longest).toHaveLength(254);
    expect(emailAddressProblem(longest.slice(1))).toBeUndefined();
    expect(emailAddressProblem('a' + longest)).toBe(EMAIL_MESSAGES.tooLong);
    expect(emailAddressProblem('a'.repeat(65) + '@example.com')).toBe(EMAIL_MESSAGES.invalid);
  });

  it('property: an accepted address is stored as plain ASCII and normalising it again changes nothing', () => {
    const letter = fc.constantFrom(...'abcXYZ019._%+-ａＢ０\u0430é"@ ＠'.split(''));
    const address = fc.tuple(
      fc.array(letter, { minLength: 0, maxLength: 12 }),
      fc.constantFrom('example.com', 'bücher.de', 'ＥＸＡＭＰＬＥ.ＣＯＭ', 'localhost', 'a..b'),
    );
    fc.assert(
      fc.property(address, ([local, domain]) => {
        const input = `${local.join('')}@${domain}`;
        if (emailAddressProblem(input) !== undefined) return;
        const stored = normaliseEmail(input);
        expect(stored).toMatch(/^[a-z0-9._%+-]+@[a-z0-9.-]+$/);
        expect(normaliseEmail(stored)).toBe(stored);
        expect(emailAddressProblem(stored)).toBeUndefined();
      }),
    );
  });
});

describe('@IsEmailAddress()', () => {
  class Form {
    @IsEmailAddress()
    email: unknown;
  }
  const errorsOf = async (email: unknown) =>
    (await validate(Object.assign(new Form(), { email }))).map((error) => error.constraints);

  it('gives the field the message of emailAddressProblem', async () => {
    expect(await errorsOf('ann@example.com')).toEqual([]);
    expect(await errorsOf('\u0430dmin@example.com')).toEqual([{ isEmailAddress: EMAIL_MESSAGES.localPart }]);
    expect(await errorsOf('a@b@c')).toEqual([{ isEmailAddress: EMAIL_MESSAGES.invalid }]);
    expect(await errorsOf(undefined)).toEqual([{ isEmailAddress: EMAIL_MESSAGES.missing }]);
  });
});
