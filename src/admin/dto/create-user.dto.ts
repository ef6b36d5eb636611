import { Transform } from 'class-transformer';
import { IsIn, IsNotEmpty, IsOptional, IsString, MaxLength } from 'class-validator';
import { IsEmailAddress } from '../../users/email-address';
import { Role, ROLES } from '../../users/user.entity';
import { Language, LANGUAGES } from '../../i18n/languages';

const trimmed = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

/**
 * The *New user* form. Only these fields are read: the global pipe strips anything
 * else (an `organizerId` is ignored, the organizer is the admin's own), and `role`
 * must be one of the two roles (`superadmin` is refused).
 */
export class CreateUserDto {
  // The app's one definition of an address (SECURITY.md 27): missing, too long, a quoted or
  // non-ASCII local part each get their own message by the field; the service normalises.
  @Transform(trimmed)
  @IsEmailAddress()
  email: string;

  // With stopAtFirstError the decorator nearest the property is checked first.
  @Transform(trimmed)
  @MaxLength(200, { message: 'adminUsers.new.nameTooLong' })
  @IsNotEmpty({ message: 'adminUsers.new.enterName' })
  @IsString({ message: 'adminUsers.new.enterName' })
  name: string;

  @IsIn(ROLES, { message: 'adminUsers.new.chooseRole' })
  role: Role;

  /** The new user's language (the invitation and every later email speak it); the form sends the admin's own by default. */
  @IsOptional()
  @IsIn(LANGUAGES, { message: 'adminUsers.new.chooseLanguage' })
  language?: Language;

  /** The checkbox **Enable 2-Factor Authentication for this user**: sent only when checked. */
  @IsOptional()
  @IsString()
  twoFactor?: string;
}

/** A checked checkbox: browsers send its value ("on" here); an unchecked one is not sent. */
export function isChecked(value: string | undefined): boolean {
  return value !== undefined && !['', 'false', 'off', '0', 'no'].includes(value.toLowerCase());
}
