import { IsString, MaxLength, MinLength } from 'class-validator';
import { PASSWORD_MESSAGES } from '../../users/password-policy';

/** The messages are keys (locales/*.json): the exception filter writes them in the page's language. */
export class ChangePasswordDto {
  @IsString({ message: 'account.password.enterCurrent' })
  @MinLength(1, { message: 'account.password.enterCurrent' })
  @MaxLength(1024, { message: 'account.password.enterCurrent' })
  currentPassword: string;

  @IsString({ message: PASSWORD_MESSAGES.enterNew })
  @MinLength(1, { message: PASSWORD_MESSAGES.enterNew })
  @MaxLength(1024, { message: PASSWORD_MESSAGES.tooLong })
  newPassword: string;

  @IsString({ message: 'account.password.typeAgain' })
  @MaxLength(1024, { message: 'account.password.noMatch' })
  confirmPassword: string;
}
