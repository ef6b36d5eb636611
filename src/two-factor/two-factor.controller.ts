import { Body, Controller, Get, HttpCode, HttpStatus, Param, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { AuthSessionService, RECOVERY_CODES_PAGE } from '../auth/auth-session.service';
import { LoginService } from '../auth/login.service';
import { loginRefusal } from '../auth/local.strategy';
import { Clock } from '../common/clock';
import { AllowPending, EmailedLinkPage, PendingOnly } from '../common/decorators';
import { CurrentUser } from '../auth/auth.decorators';
import { FormException } from '../common/exceptions';
import { I18n } from '../i18n/i18n.service';
import { OneTimeTokensService } from '../users/one-time-tokens.service';
import { User } from '../users/user.entity';
import { UsersService } from '../users/users.service';
import { SecondFactors } from './factors/second-factors.service';
import { PasskeysService } from './passkeys/passkeys.service';
import { codeMessage } from './code-messages';
import { TwoFactorService } from './two-factor.service';

const NO_STORE = 'no-store';
const RECOVERY_TITLE = 'twoFactor.recovery.title';
const RESET_TITLE = 'twoFactor.resetLink.title';
/** The title of an emailed link's page when the link cannot be used. */
const LINK_UNUSABLE_TITLE = 'errors.link.title';

@Controller('2fa')
export class TwoFactorController {
  constructor(
    private readonly twoFactor: TwoFactorService,
    private readonly factors: SecondFactors,
    private readonly passkeys: PasskeysService,
    private readonly login: LoginService,
    private readonly sessions: AuthSessionService,
    private readonly tokens: OneTimeTokensService,
    private readonly users: UsersService,
    private readonly clock: Clock,
    private readonly i18n: I18n,
  ) {}

  @AllowPending()
  @Get('setup')
  async setupPage(@Req() req: Request, @Res() res: Response, @CurrentUser() user: User) {
    if (!(await this.maySetUp(req, user))) return res.redirect(303, this.sessions.isPending(req) ? '/2fa/verify' : '/');
    res.setHeader('Cache-Control', NO_STORE);
    res.render(...(await this.setupView(user, this.sessions.resetTokenId(req), this.sessions.isPending(req))));
  }

  @AllowPending()
  @Post('setup')
  async setupSubmit(@Req() req: Request, @Res() res: Response, @CurrentUser() user: User, @Body('code') code: unknown) {
    if (!(await this.maySetUp(req, user))) return res.redirect(303, '/');
    const resetTokenId = this.sessions.resetTokenId(req);
    const outcome = await this.twoFactor.confirmSetup(user, code, resetTokenId, req.ip ?? null);
    if (!outcome.ok) {
      if (outcome.reason === 'no-pending' || outcome.reason === 'link-spent') {
        return res.redirect(303, (await this.factors.hasConfirmed(user)) ? '/2fa/verify' : '/2fa/setup');
      }
      res.setHeader('Cache-Control', NO_STORE);
      const [view, model] = await this.setupView(user, resetTokenId, this.sessions.isPending(req));
      const message =
        outcome.reason === 'reset-required'
          ? 'twoFactor.setup.useEmailLink'
          : codeMessage(outcome as never, this.clock.nowMs());
      throw new FormException(view, model, { code: message }, HttpStatus.BAD_REQUEST);
    }
    const fresh = await this.users.getById(user.id);
    await this.sessions.stashRecoveryCodes(req, fresh, outcome.recoveryCodes);
    if (this.sessions.isPending(req)) {
      await this.sessions.endReset(req);
      return res.redirect(303, await this.login.secondFactorAccepted(req, fresh, 'setup'));
    }
    await this.sessions.authenticatorReplaced(req);
    res.redirect(303, RECOVERY_CODES_PAGE);
  }

  @PendingOnly()
  @Get('verify')
  async verifyPage(@Req() req: Request, @Res() res: Response, @CurrentUser() user: User) {
    if (!(await this.factors.hasConfirmed(user))) return res.redirect(303, '/2fa/setup');
    res.render('two-factor/verify', await this.verifyModel(user));
  }

  /** **Use a passkey instead** on the setup page: the options of the registration ceremony (JSON). */
  @AllowPending()
  @Post('setup/passkey/options')
  @HttpCode(200)
  async setupPasskeyOptions(@Req() req: Request, @CurrentUser() user: User) {
    if (!(await this.mayStartWithPasskey(req, user)))
      return { error: this.i18n.t('twoFactor.setup.useEmailLinkOrAdmin') };
    return { options: await this.passkeys.registrationOptions(req, user) };
  }

  /**
   * A passkey as the first factor: saved under its name, with the recovery codes of a first
   * factor; a Resend QR link is spent as the authenticator's setup would spend it.
   */
  @AllowPending()
  @Post('setup/passkey')
  async setupPasskeySubmit(
    @Req() req: Request,
    @Res() res: Response,
    @CurrentUser() user: User,
    @Body('response') response: unknown,
    @Body('passkeyName') name: unknown,
  ) {
    if (!(await this.mayStartWithPasskey(req, user))) return res.redirect(303, '/2fa/setup');
    const resetTokenId = this.sessions.resetTokenId(req);
    const outcome = await this.passkeys.register(req, user, response, name, req.ip ?? null);
    if (!outcome.ok) {
      const [view, model] = await this.setupView(user, resetTokenId, this.sessions.isPending(req));
      throw new FormException(view, model, { [outcome.field]: outcome.message }, HttpStatus.BAD_REQUEST);
    }
    await this.twoFactor.firstFactorSetUp(user, resetTokenId, 'passkey', req.ip ?? null);
    const fresh = await this.users.getById(user.id);
    await this.sessions.stashRecoveryCodes(req, fresh, outcome.recoveryCodes ?? []);
    await this.sessions.endReset(req);
    if (this.sessions.isPending(req))
      return res.redirect(303, await this.login.secondFactorAccepted(req, fresh, 'setup'));
    await this.sessions.authenticatorReplaced(req);
    res.redirect(303, outcome.recoveryCodes ? RECOVERY_CODES_PAGE : '/account');
  }

  /** The setup page's passkey option: only where a first factor is being set up (sign-in or a reset link), never to replace one. */
  private async mayStartWithPasskey(req: Request, user: User): Promise<boolean> {
    if (!this.sessions.isPending(req) && !this.sessions.resetTokenId(req)) return false;
    if (!(await this.maySetUp(req, user))) return false;
    return this.twoFactor.maySetUpWith(user, this.sessions.resetTokenId(req));
  }

  /** The options of the browser's passkey ceremony for the second step (JSON, for public/passkeys.js). */
  @PendingOnly()
  @Post('passkey/options')
  @HttpCode(200)
  async passkeyOptions(@Req() req: Request, @CurrentUser() user: User) {
    return { options: await this.passkeys.secondFactorOptions(req, user) };
  }

  /** **Use a passkey** at the second step: the ceremony's answer; failures count toward the code lock. */
  @PendingOnly()
  @Post('passkey')
  async passkeySubmit(
    @Req() req: Request,
    @Res() res: Response,
    @CurrentUser() user: User,
    @Body('response') response: unknown,
  ) {
    const outcome = await this.passkeys.verifySecondFactor(req, user, response, req.ip ?? null);
    if (!outcome.ok) {
      const status = outcome.reason === 'locked' ? HttpStatus.TOO_MANY_REQUESTS : HttpStatus.UNAUTHORIZED;
      throw new FormException('two-factor/verify', await this.verifyModel(user), { passkey: outcome.message }, status);
    }
    res.redirect(303, await this.login.secondFactorAccepted(req, user, 'passkey'));
  }

  @PendingOnly()
  @Post('verify')
  async verifySubmit(
    @Req() req: Request,
    @Res() res: Response,
    @CurrentUser() user: User,
    @Body('code') code: unknown,
  ) {
    const outcome = await this.twoFactor.verifyCode(user, code, req.ip ?? null);
    if (!outcome.ok) {
      const status = outcome.reason === 'locked' ? HttpStatus.TOO_MANY_REQUESTS : HttpStatus.UNAUTHORIZED;
      throw new FormException(
        'two-factor/verify',
        await this.verifyModel(user),
        { code: codeMessage(outcome, this.clock.nowMs()) },
        status,
      );
    }
    res.redirect(303, await this.login.secondFactorAccepted(req, user, 'totp'));
  }

  @PendingOnly()
  @Get('recovery')
  async recoveryPage(@Req() req: Request, @Res() res: Response, @CurrentUser() user: User) {
    if (!(await this.factors.hasConfirmed(user))) return res.redirect(303, '/2fa/setup');
    res.render('two-factor/recovery', { title: RECOVERY_TITLE });
  }

  @PendingOnly()
  @Post('recovery')
  async recoverySubmit(
    @Req() req: Request,
    @Res() res: Response,
    @CurrentUser() user: User,
    @Body('recoveryCode') code: unknown,
  ) {
    const outcome = await this.twoFactor.useRecoveryCode(user, code, req.ip ?? null);
    if (!outcome.ok) {
      const message =
        outcome.reason === 'malformed'
          ? 'twoFactor.recovery.malformed'
          : outcome.reason === 'locked'
            ? codeMessage(outcome, this.clock.nowMs())
            : 'twoFactor.recovery.invalid';
      const status = outcome.reason === 'locked' ? HttpStatus.TOO_MANY_REQUESTS : HttpStatus.UNAUTHORIZED;
      throw new FormException('two-factor/recovery', { title: RECOVERY_TITLE }, { recoveryCode: message }, status);
    }
    res.redirect(303, await this.login.secondFactorAccepted(req, user, 'recovery-code'));
  }

  /** The recovery codes, right after setup, until the user says they saved them. */
  @Get('recovery-codes')
  recoveryCodesPage(@Req() req: Request, @Res() res: Response, @CurrentUser() user: User) {
    const codes = this.sessions.recoveryCodesToShow(req, user);
    if (!codes) return res.redirect(303, '/');
    res.setHeader('Cache-Control', NO_STORE);
    res.render('two-factor/recovery-codes', {
      title: 'twoFactor.recoveryCodes.title',
      codes,
      codesText: codes.join('\n'),
      downloadHref:
        'data:text/plain;charset=utf-8,' +
        encodeURIComponent(
          `${this.i18n.t('twoFactor.recoveryCodes.fileHeading', { email: user.email })}\n\n${codes.join('\n')}\n`,
        ),
    });
  }

  @Post('recovery-codes')
  async recoveryCodesDone(@Req() req: Request, @Res() res: Response) {
    res.redirect(303, await this.sessions.recoveryCodesSaved(req));
  }

  /** A Resend QR link: valid, then the user's password, then the setup page with a new secret. */
  @EmailedLinkPage()
  @Get('reset/:token')
  async resetLink(@Req() req: Request, @Res() res: Response, @Param('token') token: string) {
    const record = await this.tokens.findUsable(token, 'totp-reset');
    if (!record) return this.resetLinkUnusable(res, token);
    const auth = req.session?.auth;
    if (auth && auth.userId === record.userId && req.user) {
      await this.sessions.beginReset(req, record.id);
      return res.redirect(303, '/2fa/setup');
    }
    const user = await this.users.getById(record.userId);
    res.render('two-factor/reset-password', { title: RESET_TITLE, email: user.email, token });
  }

  @EmailedLinkPage()
  @Post('reset/:token')
  async resetLinkSubmit(
    @Req() req: Request,
    @Res() res: Response,
    @Param('token') token: string,
    @Body('password') password: unknown,
  ) {
    const record = await this.tokens.findUsable(token, 'totp-reset');
    if (!record) return this.resetLinkUnusable(res, token);
    const user = await this.users.getById(record.userId);
    const model = { title: RESET_TITLE, email: user.email, token };
    if (typeof password !== 'string' || !password)
      throw new FormException('two-factor/reset-password', model, { password: 'twoFactor.resetLink.enterPassword' });
    const result = await this.login.confirmPassword(user, password, req);
    if (!result.ok) {
      // The same answers as the login form: a lock, a locked account (told only after the right password), or a wrong password.
      const refusal = loginRefusal(result, this.clock.nowMs(), 'twoFactor.resetLink.wrongPassword');
      throw new FormException('two-factor/reset-password', model, { password: refusal.message }, refusal.status);
    }
    res.redirect(303, await this.login.passwordAccepted(req, result.user, undefined, record.id));
  }

  private async resetLinkUnusable(res: Response, token: string) {
    const status = await this.tokens.describe(token, 'totp-reset');
    const message =
      status === 'done'
        ? 'twoFactor.resetLink.used'
        : status === 'expired'
          ? 'twoFactor.resetLink.expired'
          : 'twoFactor.resetLink.invalid';
    res.status(HttpStatus.GONE).render('errors/link', { title: LINK_UNUSABLE_TITLE, message });
  }

  private async verifyModel(user: User) {
    const hasPasskey = await this.passkeys.hasPasskey(user);
    return { title: 'twoFactor.verify.title', hasPasskey, passkeyScripts: hasPasskey };
  }

  /**
   * A confirmed authenticator is never shown or replaced on the setup page, except by a
   * session that opened a Resend QR link or re-authenticated to replace it.
   */
  private async maySetUp(req: Request, user: User): Promise<boolean> {
    return this.sessions.maySetUpAgain(req) || !(await this.factors.hasConfirmed(user));
  }

  private async setupView(
    user: User,
    resetTokenId: string | undefined,
    pending = true,
  ): Promise<[string, Record<string, unknown>]> {
    const page = await this.twoFactor.setupPage(user, resetTokenId);
    if (page.kind === 'reset-required')
      return ['two-factor/reset-required', { title: 'twoFactor.resetRequired.title' }];
    // A first factor may be a passkey instead (at sign-in, or with a Resend QR link); replacing an app is the app's page.
    const passkeyInstead = pending || resetTokenId !== undefined;
    return [
      'two-factor/setup',
      { title: 'twoFactor.setup.title', ...page, passkeyInstead, passkeyScripts: passkeyInstead },
    ];
  }
}
