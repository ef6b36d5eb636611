import { newPasswordErrors, PASSWORD_MESSAGES } from './password-policy';

const context = { email: 'pat@example.com', appName: 'TIXNGO Backoffice' };

describe('newPasswordErrors', () => {
  it('accepts a password that follows the policy, typed twice alike', () => {
    expect(newPasswordErrors('a long enough passphrase', 'a long enough passphrase', context)).toBeNull();
  });

  it('asks for a password when none (or not a string) was sent', () => {
    expect(newPasswordErrors('', 'x', context)).toEqual({ newPassword: PASSWORD_MESSAGES.enterNew });
    expect(newPasswordErrors(['a', 'b'], 'x', context)).toEqual({ newPassword: PASSWORD_MESSAGES.enterNew });
  });

  it('applies the password policy first: length, common passwords, the email', () => {
    expect(newPasswordErrors('short', 'short', context)).toEqual({ newPassword: PASSWORD_MESSAGES.tooShort });
    expect(newPasswordErrors('x'.repeat(129), 'x'.repeat(129), context)?.newPassword).toBe(PASSWORD_MESSAGES.tooLong);
    expect(newPasswordErrors('password1234', 'password1234', context)?.newPassword).toBe(PASSWORD_MESSAGES.common);
    expect(newPasswordErrors('pat@example.com', 'pat@example.com', context)?.newPassword).toBe(PASSWORD_MESSAGES.email);
  });

  it('checks the password exactly as typed: no trimming', () => {
    // The spaces around it are part of the password: the confirmation without them is another one.
    expect(newPasswordErrors(' a long enough passphrase ', 'a long enough passphrase', context)).toEqual({
      confirmPassword: PASSWORD_MESSAGES.notSame,
    });
  });

  it('wants the confirmation, and the same password twice', () => {
    expect(newPasswordErrors('a long enough passphrase', '', context)).toEqual({
      confirmPassword: PASSWORD_MESSAGES.enterAgain,
    });
    expect(newPasswordErrors('a long enough passphrase', 'a long enough passphrasE', context)).toEqual({
      confirmPassword: PASSWORD_MESSAGES.notSame,
    });
  });
});
