import { Transform } from 'class-transformer';
import { IsInt, IsNotEmpty, IsOptional, IsString, Max, Min } from 'class-validator';
import { MAX_GRACE_DAYS } from '../../two-factor/organizer-policy.service';

// Validation messages are keys without values (app.setup's fieldErrors): they say 30, MAX_GRACE_DAYS.
const GRACE_RANGE = 'organizer.graceDaysRange';
const GRACE_EMPTY = 'organizer.graceDaysEmpty';

/** A plain number as typed ("7", " 14 ") becomes a number; anything else stays as sent and fails IsInt. */
const wholeNumber = ({ value }: { value: unknown }) =>
  typeof value === 'string' && /^\s*\d{1,3}\s*$/.test(value) ? Number(value) : value;

/** The form of /admin/organizer. The organizer is the admin's own, never a field. The messages are keys with values. */
export class OrganizerPolicyDto {
  /** The checkbox **Require 2FA for everyone in this organizer**: sent only when checked. */
  @IsOptional()
  @IsString({ message: 'organizer.requireTwoFactorInvalid' })
  requireTwoFactor?: string;

  // With stopAtFirstError the decorator nearest the property is checked first.
  @Transform(wholeNumber)
  @Max(MAX_GRACE_DAYS, { message: GRACE_RANGE })
  @Min(0, { message: GRACE_RANGE })
  @IsInt({ message: GRACE_RANGE })
  @IsNotEmpty({ message: GRACE_EMPTY })
  graceDays: number;
}
