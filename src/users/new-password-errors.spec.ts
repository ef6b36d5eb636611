import { newPasswordErrors } from './password-policy';

const context = { email: 'pat@example.com', appName: 'TIXNGO Backoffice' };

describe('newPasswordErrors', () => {
  it('accepts a password that follows the policy, typed twice alike', () => {
    expect(newPasswordErrors('a long enough passphrase', 'a long enough passphrase', context)).toBeNull();
  });

  it('asks for a password when none (or not a string) was sent', () => {
    expect(newPasswordErrors('', 'x', context)).toEqual({ newPassword: 'Enter a new password.' });
    expect(newPasswordErrors(['a', 'b'], 'x', context)).toEqual({ newPassword: 'Enter a new password.' });
  });

  it('applies the password policy first: length, common passwords, the email', () => {
    expect(newPasswordErrors('short', 'short', context)).toEqual({ newPassword: 'Use at least 12 characters.' });
    expect(newPasswordErrors('x'.repeat(129), 'x'.repeat(129), context)?.newPassword).toMatch(/at most 128/);
    expect(newPasswordErrors('password1234', 'password1234', context)?.newPassword).toMatch(/too common/);
    expect(newPasswordErrors('pat@example.com', 'pat@example.com', context)?.newPassword).toMatch(/email/);
  });

  it('checks the password exactly as typed: no trimming', () => {
    // The spaces around it are part of the password: the confirmation without them is another one.
    expect(newPasswordErrors(' a long enough passphrase ', 'a long enough passphrase', context)).toEqual({
      confirmPassword: 'The two passwords are not the same. Type them again.',
    });
  });

  it('wants the confirmation, and the same password twice', () => {
    expect(newPasswordErrors('a long enough passphrase', '', context)).toEqual({
      confirmPassword: 'Enter the same password again.',
    });
    expect(newPasswordErrors('a long enough passphrase', 'a long enough passphrasE', context)).toEqual({
      confirmPassword: 'The two passwords are not the same. Type them again.',
    });
  });
});
