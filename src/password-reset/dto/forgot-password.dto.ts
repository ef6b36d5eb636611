import { Transform } from 'class-transformer';
import { IsEmailAddress } from '../../users/email-address';

const trimmed = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

/**
 * The *Forgot your password?* form: `Email` → **Send link**. An address the app could never
 * store (SECURITY.md 27) is refused with its message; that says nothing about any account.
 */
export class ForgotPasswordDto {
  @Transform(trimmed)
  @IsEmailAddress()
  email: string;
}
