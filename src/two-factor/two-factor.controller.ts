import { Body, Controller, Get, HttpStatus, Param, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { AuthSessionService } from '../auth/auth-session.service';
import { LoginService } from '../auth/login.service';
import { loginRefusal } from '../auth/local.strategy';
import { Clock } from '../common/clock';
import { KeyRing } from '../common/crypto/key-ring';
import { AllowPending, CurrentUser, Public } from '../common/decorators';
import { FormException } from '../common/exceptions';
import { OneTimeTokensService } from '../users/one-time-tokens.service';
import { User } from '../users/user.entity';
import { UsersService } from '../users/users.service';
import { CodeOutcome, TwoFactorService } from './two-factor.service';

const NO_STORE = 'no-store';

/** Messages for a refused code, in the words a person needs. */
export function codeMessage(outcome: Exclude<CodeOutcome, { ok: true }> | { reason: 'invalid'; clockOffsetSeconds?: number }, now: number): string {
  switch (outcome.reason) {
    case 'malformed':
      return 'Enter the 6-digit code from your authenticator app.';
    case 'replayed':
      return 'This code was already used. Wait for the next code and enter it.';
    case 'locked': {
      const minutes = Math.max(1, Math.ceil((outcome.retryAt.getTime() - now) / 60000));
      return `Too many wrong codes. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}, or ask an admin to click Resend QR.`;
    }
    default: {
      const offset = 'clockOffsetSeconds' in outcome ? outcome.clockOffsetSeconds : undefined;
      if (offset) {
        return `That code is not valid now. Your phone's clock seems ${Math.abs(offset)} seconds ${offset > 0 ? 'ahead' : 'behind'}: set it to automatic time and try the next code.`;
      }
      return 'That code is not valid. Check the app and try again with the current code.';
    }
  }
}

@Controller('2fa')
export class TwoFactorController {
  constructor(
    private readonly twoFactor: TwoFactorService,
    private readonly login: LoginService,
    private readonly sessions: AuthSessionService,
    private readonly tokens: OneTimeTokensService,
    private readonly users: UsersService,
    private readonly keys: KeyRing,
    private readonly clock: Clock,
  ) {}

  @AllowPending()
  @Get('setup')
  async setupPage(@Req() req: Request, @Res() res: Response, @CurrentUser() user: User) {
    const auth = req.session.auth!;
    if (user.hasConfirmedTotp && !auth.resetTokenId && !this.replacing(auth)) {
      return res.redirect(303, auth.stage === 'pending' ? '/2fa/verify' : '/');
    }
    res.setHeader('Cache-Control', NO_STORE);
    res.render(...(await this.setupView(user, auth.resetTokenId)));
  }

  @AllowPending()
  @Post('setup')
  async setupSubmit(@Req() req: Request, @Res() res: Response, @CurrentUser() user: User, @Body('code') code: unknown) {
    const auth = req.session.auth!;
    // A confirmed authenticator is never shown or replaced here, except through a reset link or a re-authenticated replacement.
    if (user.hasConfirmedTotp && !auth.resetTokenId && !this.replacing(auth)) return res.redirect(303, '/');
    const outcome = await this.twoFactor.confirmSetup(user, code, auth.resetTokenId, req.ip ?? null);
    if (!outcome.ok) {
      if (outcome.reason === 'no-pending' || outcome.reason === 'link-spent') {
        return res.redirect(303, user.hasConfirmedTotp ? '/2fa/verify' : '/2fa/setup');
      }
      res.setHeader('Cache-Control', NO_STORE);
      const [view, model] = await this.setupView(user, auth.resetTokenId);
      const message = outcome.reason === 'reset-required' ? 'Use the link in the email.' : codeMessage(outcome as never, this.clock.nowMs());
      throw new FormException(view, model, { code: message }, HttpStatus.BAD_REQUEST);
    }
    const sealed = this.keys.encrypt(JSON.stringify(outcome.recoveryCodes), `recovery:${user.id}`);
    const fresh = await this.users.getById(user.id);
    if (auth.stage === 'pending') {
      await this.sessions.update(req, { recoveryCodesSealed: sealed, resetTokenId: undefined });
      await this.login.secondFactorAccepted(req, fresh, 'setup');
      // The return path is kept for after the codes are saved.
      await this.sessions.update(req, { returnTo: auth.returnTo });
    } else {
      await this.sessions.update(req, { recoveryCodesSealed: sealed, resetTokenId: undefined, replacingAuthenticatorUntil: undefined, verifiedAt: this.clock.nowMs() });
    }
    res.redirect(303, '/2fa/recovery-codes');
  }

  @AllowPending()
  @Get('verify')
  verifyPage(@Req() req: Request, @Res() res: Response, @CurrentUser() user: User) {
    if (req.session.auth!.stage === 'full') return res.redirect(303, '/');
    if (!user.hasConfirmedTotp) return res.redirect(303, '/2fa/setup');
    res.render('two-factor/verify', { title: 'Two-factor authentication' });
  }

  @AllowPending()
  @Post('verify')
  async verifySubmit(@Req() req: Request, @Res() res: Response, @CurrentUser() user: User, @Body('code') code: unknown) {
    if (req.session.auth!.stage === 'full') return res.redirect(303, '/');
    const outcome = await this.twoFactor.verifyCode(user, code, req.ip ?? null);
    if (!outcome.ok) {
      const status = outcome.reason === 'locked' ? HttpStatus.TOO_MANY_REQUESTS : HttpStatus.UNAUTHORIZED;
      throw new FormException('two-factor/verify', { title: 'Two-factor authentication' }, { code: codeMessage(outcome, this.clock.nowMs()) }, status);
    }
    res.redirect(303, await this.login.secondFactorAccepted(req, user, 'totp'));
  }

  @AllowPending()
  @Get('recovery')
  recoveryPage(@Req() req: Request, @Res() res: Response, @CurrentUser() user: User) {
    if (req.session.auth!.stage === 'full') return res.redirect(303, '/');
    if (!user.hasConfirmedTotp) return res.redirect(303, '/2fa/setup');
    res.render('two-factor/recovery', { title: 'Use a recovery code' });
  }

  @AllowPending()
  @Post('recovery')
  async recoverySubmit(@Req() req: Request, @Res() res: Response, @CurrentUser() user: User, @Body('recoveryCode') code: unknown) {
    if (req.session.auth!.stage === 'full') return res.redirect(303, '/');
    const outcome = await this.twoFactor.useRecoveryCode(user, code, req.ip ?? null);
    if (!outcome.ok) {
      const message =
        outcome.reason === 'malformed'
          ? 'Enter one of your recovery codes.'
          : outcome.reason === 'locked'
            ? codeMessage(outcome, this.clock.nowMs())
            : 'That recovery code is not valid or was already used.';
      const status = outcome.reason === 'locked' ? HttpStatus.TOO_MANY_REQUESTS : HttpStatus.UNAUTHORIZED;
      throw new FormException('two-factor/recovery', { title: 'Use a recovery code' }, { recoveryCode: message }, status);
    }
    res.redirect(303, await this.login.secondFactorAccepted(req, user, 'recovery-code'));
  }

  /** The recovery codes, right after setup, until the user says they saved them. */
  @Get('recovery-codes')
  recoveryCodesPage(@Req() req: Request, @Res() res: Response, @CurrentUser() user: User) {
    const sealed = req.session.auth!.recoveryCodesSealed;
    if (!sealed) return res.redirect(303, '/');
    const codes = JSON.parse(this.keys.decrypt(sealed, `recovery:${user.id}`)) as string[];
    res.setHeader('Cache-Control', NO_STORE);
    res.render('two-factor/recovery-codes', {
      title: 'Your recovery codes',
      codes,
      codesText: codes.join('\n'),
      downloadHref: 'data:text/plain;charset=utf-8,' + encodeURIComponent(`${user.email} recovery codes\n\n${codes.join('\n')}\n`),
    });
  }

  @Post('recovery-codes')
  async recoveryCodesDone(@Req() req: Request, @Res() res: Response) {
    const returnTo = req.session.auth!.returnTo;
    await this.sessions.update(req, { recoveryCodesSealed: undefined, returnTo: undefined });
    res.redirect(303, returnTo ?? '/');
  }

  /** A Resend QR link: valid, then the user's password, then the setup page with a new secret. */
  @Public()
  @Get('reset/:token')
  async resetLink(@Req() req: Request, @Res() res: Response, @Param('token') token: string) {
    const record = await this.tokens.findUsable(token, 'totp-reset');
    if (!record) return this.resetLinkUnusable(res, token);
    const auth = req.session?.auth;
    if (auth && auth.userId === record.userId && req.user) {
      await this.sessions.update(req, { resetTokenId: record.id });
      return res.redirect(303, '/2fa/setup');
    }
    const user = await this.users.getById(record.userId);
    res.render('two-factor/reset-password', { title: 'Set up your authenticator again', email: user.email, token });
  }

  @Public()
  @Post('reset/:token')
  async resetLinkSubmit(@Req() req: Request, @Res() res: Response, @Param('token') token: string, @Body('password') password: unknown) {
    const record = await this.tokens.findUsable(token, 'totp-reset');
    if (!record) return this.resetLinkUnusable(res, token);
    const user = await this.users.getById(record.userId);
    const model = { title: 'Set up your authenticator again', email: user.email, token };
    if (typeof password !== 'string' || !password) throw new FormException('two-factor/reset-password', model, { password: 'Enter your password.' });
    const result = await this.login.confirmPassword(user, password, req);
    if (!result.ok) {
      // The same answers as the login form: a lock, a locked account (told only after the right password), or a wrong password.
      const refusal = loginRefusal(result, this.clock.nowMs(), 'Incorrect password.');
      throw new FormException('two-factor/reset-password', model, { password: refusal.message }, refusal.status);
    }
    res.redirect(303, await this.login.passwordAccepted(req, result.user, undefined, record.id));
  }

  private async resetLinkUnusable(res: Response, token: string) {
    const status = await this.tokens.describe(token, 'totp-reset');
    const message =
      status === 'done'
        ? 'This link was already used. Sign in with your email, password and the code from your authenticator app.'
        : status === 'expired'
          ? 'This link has expired. Ask an admin of your organizer to click Resend QR again.'
          : 'This link is not valid anymore. Ask an admin of your organizer to click Resend QR again.';
    res.status(HttpStatus.GONE).render('errors/link', { title: 'Link not usable', message });
  }

  private replacing(auth: { stage: string; replacingAuthenticatorUntil?: number }): boolean {
    return auth.stage === 'full' && (auth.replacingAuthenticatorUntil ?? 0) > this.clock.nowMs();
  }

  private async setupView(user: User, resetTokenId: string | undefined): Promise<[string, Record<string, unknown>]> {
    const page = await this.twoFactor.setupPage(user, resetTokenId);
    if (page.kind === 'reset-required') return ['two-factor/reset-required', { title: 'Check your email' }];
    return ['two-factor/setup', { title: 'Set up two-factor authentication', ...page }];
  }
}
