import { Body, Controller, Get, HttpStatus, Post, Query, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { AuthSessionService } from '../auth/auth-session.service';
import { Clock } from '../common/clock';
import { KeyRing } from '../common/crypto/key-ring';
import { CurrentUser } from '../common/decorators';
import { FormException, RedirectException } from '../common/exceptions';
import { safeReturnPath } from '../common/safe-path';
import { codeMessage } from '../two-factor/two-factor.controller';
import { TwoFactorService } from '../two-factor/two-factor.service';
import { User } from '../users/user.entity';
import { AccountService } from './account.service';

@Controller('account')
export class AccountController {
  constructor(
    private readonly account: AccountService,
    private readonly twoFactor: TwoFactorService,
    private readonly sessions: AuthSessionService,
    private readonly keys: KeyRing,
    private readonly clock: Clock,
  ) {}

  @Get()
  async page(@Res() res: Response, @CurrentUser() user: User) {
    res.render('account/index', await this.account.page(user));
  }

  @Post('password')
  async changePassword(@Req() req: Request, @Res() res: Response, @CurrentUser() user: User, @Body() body: unknown) {
    const stamp = await this.account.changePassword(user, body, req.ip ?? null);
    await this.sessions.adoptStamp(req, stamp);
    (req.session.flash ??= []).push({ type: 'success', text: 'Your password was changed. You were signed out everywhere else.' });
    res.redirect(303, '/account');
  }

  /** Re-authentication: the current code from the authenticator, for the next 5 minutes of sensitive changes. */
  @Get('confirm')
  confirmPage(@Res() res: Response, @CurrentUser() user: User, @Query('next') next?: unknown) {
    if (!user.hasConfirmedTotp) return res.redirect(303, '/account');
    res.render('account/confirm', { title: 'Confirm it is you', next: safeReturnPath(next) ?? '/account' });
  }

  @Post('confirm')
  async confirm(@Req() req: Request, @Res() res: Response, @CurrentUser() user: User, @Body('code') code: unknown, @Body('next') next: unknown) {
    const outcome = await this.twoFactor.verifyCode(user, code, req.ip ?? null);
    const returnTo = safeReturnPath(next) ?? '/account';
    if (!outcome.ok) {
      const status = outcome.reason === 'locked' ? HttpStatus.TOO_MANY_REQUESTS : HttpStatus.UNAUTHORIZED;
      throw new FormException('account/confirm', { title: 'Confirm it is you', next: returnTo }, { code: codeMessage(outcome, this.clock.nowMs()) }, status);
    }
    await this.sessions.update(req, { verifiedAt: this.clock.nowMs() });
    res.redirect(303, returnTo);
  }

  @Post('recovery-codes')
  async regenerateRecoveryCodes(@Req() req: Request, @Res() res: Response, @CurrentUser() user: User) {
    this.requireRecentVerification(req, user);
    const codes = await this.account.regenerateRecoveryCodes(user, req.ip ?? null);
    const sealed = this.keys.encrypt(JSON.stringify(codes), `recovery:${user.id}`);
    await this.sessions.update(req, { recoveryCodesSealed: sealed, returnTo: '/account' });
    res.redirect(303, '/2fa/recovery-codes');
  }

  @Post('authenticator')
  async newAuthenticator(@Req() req: Request, @Res() res: Response, @CurrentUser() user: User) {
    if (!user.hasConfirmedTotp) return res.redirect(303, '/2fa/setup');
    this.requireRecentVerification(req, user);
    await this.account.startNewAuthenticator(user);
    await this.sessions.update(req, { replacingAuthenticatorUntil: this.clock.nowMs() + 10 * 60 * 1000, returnTo: '/account' });
    res.redirect(303, '/2fa/setup');
  }

  /** Sensitive changes need a code proved in the last 5 minutes; otherwise ask for one first. */
  private requireRecentVerification(req: Request, user: User): void {
    if (user.hasConfirmedTotp && !this.account.recentlyVerified(req.session.auth!)) {
      throw new RedirectException('/account/confirm?next=%2Faccount', { type: 'info', text: 'Enter a code from your authenticator app to continue.' });
    }
  }
}
