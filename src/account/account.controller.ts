import { Body, Controller, Get, HttpStatus, Post, Query, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { AuthSessionService, RECOVERY_CODES_PAGE } from '../auth/auth-session.service';
import { Clock } from '../common/clock';
import { CurrentUser } from '../auth/auth.decorators';
import { FormException, RedirectException } from '../common/exceptions';
import { codeMessage } from '../two-factor/two-factor.controller';
import { SecondFactors } from '../two-factor/factors/second-factors.service';
import { TwoFactorService } from '../two-factor/two-factor.service';
import { User } from '../users/user.entity';
import { AccountService } from './account.service';

@Controller('account')
export class AccountController {
  constructor(
    private readonly account: AccountService,
    private readonly twoFactor: TwoFactorService,
    private readonly factors: SecondFactors,
    private readonly sessions: AuthSessionService,
    private readonly clock: Clock,
  ) {}

  @Get()
  async page(@Res() res: Response, @CurrentUser() user: User) {
    res.render('account/index', await this.account.page(user));
  }

  @Post('password')
  async changePassword(@Req() req: Request, @Res() res: Response, @CurrentUser() user: User, @Body() body: unknown) {
    const stamp = await this.account.changePassword(user, body, req);
    await this.sessions.adoptStamp(req, stamp);
    (req.session.flash ??= []).push({
      type: 'success',
      text: 'Your password was changed. You were signed out everywhere else.',
    });
    res.redirect(303, '/account');
  }

  /**
   * Re-authentication ("sudo mode"): the current code from the authenticator, for the next
   * 5 minutes of sensitive changes. The change that asked for it goes on right after.
   */
  @Get('confirm')
  async confirmPage(@Res() res: Response, @CurrentUser() user: User, @Query('continue') action?: unknown) {
    if (!(await this.factors.hasConfirmed(user))) return res.redirect(303, '/account');
    res.render('account/confirm', confirmModel(action));
  }

  @Post('confirm')
  async confirm(
    @Req() req: Request,
    @Res() res: Response,
    @CurrentUser() user: User,
    @Body('code') code: unknown,
    @Body('continue') action: unknown,
  ) {
    const outcome = await this.twoFactor.verifyCode(user, code, req.ip ?? null);
    if (!outcome.ok) {
      const status = outcome.reason === 'locked' ? HttpStatus.TOO_MANY_REQUESTS : HttpStatus.UNAUTHORIZED;
      throw new FormException(
        'account/confirm',
        confirmModel(action),
        { code: codeMessage(outcome, this.clock.nowMs()) },
        status,
      );
    }
    await this.sessions.markVerified(req);
    if (action === 'recovery-codes') return this.regenerate(req, res, user);
    if (action === 'authenticator') return this.replaceAuthenticator(req, res, user);
    res.redirect(303, '/account');
  }

  @Post('recovery-codes')
  async regenerateRecoveryCodes(@Req() req: Request, @Res() res: Response, @CurrentUser() user: User) {
    await this.requireRecentVerification(req, user, 'recovery-codes');
    await this.regenerate(req, res, user);
  }

  @Post('authenticator')
  async newAuthenticator(@Req() req: Request, @Res() res: Response, @CurrentUser() user: User) {
    if (!(await this.factors.hasConfirmed(user))) return res.redirect(303, '/2fa/setup');
    await this.requireRecentVerification(req, user, 'authenticator');
    await this.replaceAuthenticator(req, res, user);
  }

  private async regenerate(req: Request, res: Response, user: User): Promise<void> {
    const codes = await this.account.regenerateRecoveryCodes(user, req.ip ?? null);
    await this.sessions.stashRecoveryCodes(req, user, codes, '/account');
    res.redirect(303, RECOVERY_CODES_PAGE);
  }

  private async replaceAuthenticator(req: Request, res: Response, user: User): Promise<void> {
    await this.account.startNewAuthenticator(user);
    await this.sessions.allowReplacingAuthenticator(req, '/account');
    res.redirect(303, '/2fa/setup');
  }

  /** Sensitive changes need a code proved in the last 5 minutes; otherwise ask for one first, then go on. */
  private async requireRecentVerification(req: Request, user: User, action: ConfirmAction): Promise<void> {
    if (!this.sessions.recentlyVerified(req) && (await this.factors.hasConfirmed(user))) {
      throw new RedirectException(`/account/confirm?continue=${action}`, {
        type: 'info',
        text: 'This change needs a fresh code from your authenticator app (the last one was more than 5 minutes ago).',
      });
    }
  }
}

/** The changes that ask for a fresh code, and what the confirmation page calls them. */
const CONFIRM_ACTIONS = { 'recovery-codes': 'New recovery codes', authenticator: 'A new authenticator app' } as const;
type ConfirmAction = keyof typeof CONFIRM_ACTIONS;

function confirmModel(action: unknown) {
  const known =
    typeof action === 'string' && Object.hasOwn(CONFIRM_ACTIONS, action) ? (action as ConfirmAction) : undefined;
  return { title: 'Confirm it is you', action: known, actionLabel: known && CONFIRM_ACTIONS[known] };
}
