import { Body, Controller, Get, HttpCode, HttpStatus, Param, Post, Query, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { AuthSessionService, RECOVERY_CODES_PAGE } from '../auth/auth-session.service';
import { Clock } from '../common/clock';
import { CurrentUser } from '../auth/auth.decorators';
import { OpenWhilePasskeyOwed } from '../common/decorators';
import { FormException, RedirectException } from '../common/exceptions';
import { messageParts } from '../common/message';
import { codeMessage } from '../two-factor/code-messages';
import { SecondFactors } from '../two-factor/factors/second-factors.service';
import { PasskeysService } from '../two-factor/passkeys/passkeys.service';
import { TwoFactorService } from '../two-factor/two-factor.service';
import { User } from '../users/user.entity';
import { AccountService } from './account.service';

@OpenWhilePasskeyOwed()
@Controller('account')
export class AccountController {
  constructor(
    private readonly account: AccountService,
    private readonly twoFactor: TwoFactorService,
    private readonly factors: SecondFactors,
    private readonly passkeys: PasskeysService,
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
      key: 'account.password.changed',
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
    res.render('account/confirm', await this.confirmView(user, action));
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
        await this.confirmView(user, action),
        { code: codeMessage(outcome, this.clock.nowMs()) },
        status,
      );
    }
    await this.confirmed(req, res, user, action);
  }

  /** "Confirm it is you" with a passkey instead of a code: the options of the ceremony (JSON). */
  @Post('confirm/passkey/options')
  @HttpCode(200)
  async confirmPasskeyOptions(@Req() req: Request, @CurrentUser() user: User) {
    return { options: await this.passkeys.secondFactorOptions(req, user) };
  }

  @Post('confirm/passkey')
  async confirmWithPasskey(
    @Req() req: Request,
    @Res() res: Response,
    @CurrentUser() user: User,
    @Body('response') response: unknown,
    @Body('continue') action: unknown,
  ) {
    const outcome = await this.passkeys.verifySecondFactor(req, user, response, req.ip ?? null);
    if (!outcome.ok) {
      const status = outcome.reason === 'locked' ? HttpStatus.TOO_MANY_REQUESTS : HttpStatus.UNAUTHORIZED;
      throw new FormException(
        'account/confirm',
        await this.confirmView(user, action),
        { passkey: outcome.message },
        status,
      );
    }
    await this.confirmed(req, res, user, action);
  }

  /** A fresh second factor: the change that asked for it goes on. */
  private async confirmed(req: Request, res: Response, user: User, action: unknown): Promise<void> {
    await this.sessions.markVerified(req);
    if (action === 'recovery-codes') return this.regenerate(req, res, user);
    if (action === 'authenticator') return this.replaceAuthenticator(req, res, user);
    if (action === 'passkey') {
      (req.session.flash ??= []).push({ type: 'info', key: 'account.passkeys.clickAdd' });
    }
    res.redirect(303, '/account');
  }

  /**
   * The confirmation page: a code from the authenticator app when the person has one (a
   * recovery code works there too), a passkey when they have one; a person whose only
   * factor is a passkey is not asked for an app they do not have.
   */
  private async confirmView(user: User, action: unknown) {
    const kinds = (await this.factors.kindsOf([user.id])).get(user.id) ?? [];
    const hasPasskey = kinds.includes('passkey');
    const hasAuthenticator = kinds.includes('totp') || !hasPasskey;
    // How the page asks (account.confirm.intro): a code, a code or a passkey, a passkey.
    const method = hasAuthenticator ? (hasPasskey ? 'both' : 'code') : 'passkey';
    return { ...confirmModel(action), hasAuthenticator, hasPasskey, method, passkeyScripts: hasPasskey };
  }

  /**
   * The options of the browser's passkey ceremony (JSON, for public/passkeys.js), after a fresh
   * second factor like the other factor changes; else where to confirm first.
   */
  @Post('passkeys/options')
  @HttpCode(200)
  async passkeyOptions(@Req() req: Request, @CurrentUser() user: User) {
    if (!(await this.mayChangeFactors(req, user))) return { confirmUrl: '/account/confirm?continue=passkey' };
    return { options: await this.passkeys.registrationOptions(req, user) };
  }

  /** Add a passkey: the ceremony's answer and the name the person gave it (`Passkey name` → Save passkey). */
  @Post('passkeys')
  async addPasskey(
    @Req() req: Request,
    @Res() res: Response,
    @CurrentUser() user: User,
    @Body('response') response: unknown,
    @Body('passkeyName') name: unknown,
  ) {
    await this.requireRecentVerification(req, user, 'passkey');
    const outcome = await this.passkeys.register(req, user, response, name, req.ip ?? null);
    if (!outcome.ok) {
      const model = await this.account.page(user);
      throw new FormException(
        'account/index',
        { ...model, input: { passkeyName: typeof name === 'string' ? name : '' } },
        { [outcome.field]: outcome.message },
      );
    }
    if (outcome.recoveryCodes) {
      await this.sessions.stashRecoveryCodes(req, user, outcome.recoveryCodes, '/account');
      return res.redirect(303, RECOVERY_CODES_PAGE);
    }
    (req.session.flash ??= []).push({
      type: 'success',
      key: 'account.passkeys.saved',
      values: { name: outcome.passkey.name },
    });
    res.redirect(303, '/account');
  }

  /** Remove a passkey: without `confirm=yes` the confirmation step, with it the removal. */
  @Post('passkeys/:id/remove')
  async removePasskey(
    @Req() req: Request,
    @Res() res: Response,
    @CurrentUser() user: User,
    @Param('id') id: string,
    @Body('confirm') confirm: unknown,
  ) {
    const passkey = (await this.passkeys.list(user)).find((p) => p.id === id);
    if (!passkey) return res.redirect(303, '/account');
    if (confirm !== 'yes')
      return res.status(200).render('account/remove-passkey', { title: 'account.removePasskey.title', passkey });
    const outcome = await this.passkeys.remove(user, id, req.ip ?? null);
    (req.session.flash ??= []).push(
      outcome.ok
        ? { type: 'success', key: 'account.passkeys.removed', values: { name: outcome.name } }
        : { type: 'error', ...messageParts(outcome.message) },
    );
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
  private async mayChangeFactors(req: Request, user: User): Promise<boolean> {
    return this.sessions.recentlyVerified(req) || !(await this.factors.hasConfirmed(user));
  }

  private async requireRecentVerification(req: Request, user: User, action: ConfirmAction): Promise<void> {
    if (!(await this.mayChangeFactors(req, user))) {
      throw new RedirectException(`/account/confirm?continue=${action}`, {
        type: 'info',
        key: 'account.factors.freshCode',
      });
    }
  }
}

/** The changes that ask for a fresh code, and what the confirmation page calls them (message keys). */
const CONFIRM_ACTIONS = {
  'recovery-codes': 'account.confirm.action.recoveryCodes',
  authenticator: 'account.confirm.action.authenticator',
  passkey: 'account.confirm.action.passkey',
} as const;
type ConfirmAction = keyof typeof CONFIRM_ACTIONS;

function confirmModel(action: unknown) {
  const known =
    typeof action === 'string' && Object.hasOwn(CONFIRM_ACTIONS, action) ? (action as ConfirmAction) : undefined;
  return { title: 'account.confirm.title', action: known, actionLabel: known && CONFIRM_ACTIONS[known] };
}
