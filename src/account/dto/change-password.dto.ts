import { IsString, MaxLength, MinLength } from 'class-validator';

export class ChangePasswordDto {
  @IsString({ message: 'Enter your current password.' })
  @MinLength(1, { message: 'Enter your current password.' })
  @MaxLength(1024, { message: 'Enter your current password.' })
  currentPassword: string;

  @IsString({ message: 'Enter a new password.' })
  @MinLength(1, { message: 'Enter a new password.' })
  @MaxLength(1024, { message: 'Use at most 128 characters.' })
  newPassword: string;

  @IsString({ message: 'Type the new password again.' })
  @MaxLength(1024, { message: 'The two passwords do not match.' })
  confirmPassword: string;
}
