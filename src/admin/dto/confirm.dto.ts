import { IsIn, IsOptional } from 'class-validator';

/**
 * The buttons on a user's page post without `confirm`, which shows the confirmation
 * step (nothing changes); its form posts again with `confirm=yes`.
 */
export class ConfirmDto {
  @IsOptional()
  @IsIn(['yes'], { message: 'adminUsers.confirm.useButton' })
  confirm?: 'yes';
}

/** Enable 2FA / Disable 2FA, on POST /admin/users/:id/two-factor. */
export class TwoFactorToggleDto extends ConfirmDto {
  @IsIn(['enable', 'disable'], { message: 'adminUsers.confirm.chooseToggle' })
  twoFactor: 'enable' | 'disable';
}
