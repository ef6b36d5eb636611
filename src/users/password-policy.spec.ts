import { PASSWORD_MESSAGES, passwordProblem } from './password-policy';

describe('passwordProblem', () => {
  it('accepts 12 to 128 characters with no composition rules', () => {
    expect(passwordProblem('correct horse battery staple')).toBeNull();
    expect(passwordProblem('Abcd!12345678')).toBeNull();
    expect(passwordProblem('zqxvbnmlkjhw')).toBeNull();
    expect(passwordProblem('x'.repeat(127) + 'y')).toBeNull();
  });

  it('refuses fewer than 12 and more than 128 characters, counted as typed', () => {
    expect(passwordProblem('Abcd!123456')).toBe(PASSWORD_MESSAGES.tooShort);
    expect(passwordProblem('a'.repeat(64) + 'b'.repeat(65))).toBe(PASSWORD_MESSAGES.tooLong);
    // Spaces count and are not trimmed.
    expect(passwordProblem('  abcdefg12  ')).toBeNull();
    expect(passwordProblem(' abcdefg12 ')).toBe(PASSWORD_MESSAGES.tooShort);
    // Code points, not UTF-16 units: 12 emoji are 12 characters.
    expect(passwordProblem('🔐'.repeat(11) + '🔑')).toBeNull();
  });

  it('refuses common passwords from the zxcvbn-ts list, whatever the case', () => {
    expect(passwordProblem('qwerty123456')).toBe(PASSWORD_MESSAGES.common);
    expect(passwordProblem('QWERTY123456')).toBe(PASSWORD_MESSAGES.common);
    expect(passwordProblem('1q2w3e4r5t6y')).toBe(PASSWORD_MESSAGES.common);
  });

  it('refuses one repeated character and simple sequences', () => {
    expect(passwordProblem('aaaaaaaaaaaaaa')).toBe(PASSWORD_MESSAGES.repeats);
    expect(passwordProblem('234567890123')).toBe(PASSWORD_MESSAGES.sequence);
    expect(passwordProblem('abcdefghijklm')).toBe(PASSWORD_MESSAGES.sequence);
  });

  it('refuses the email address and the service name', () => {
    expect(passwordProblem('jane.doe.smith@example.com', { email: 'jane.doe.smith@example.com' })).toBe(
      PASSWORD_MESSAGES.email,
    );
    expect(passwordProblem('TIXNGO Backoffice', { appName: 'TIXNGO Backoffice' })).toBe(PASSWORD_MESSAGES.appName);
  });
});
