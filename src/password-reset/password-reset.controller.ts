import { Body, Controller, Get, HttpStatus, Param, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { Clock } from '../common/clock';
import { EmailedLinkPage, Public } from '../common/decorators';
import { LayoutLocals } from '../common/layout-locals';
import { FormException } from '../common/exceptions';
import {
  FORGOT_TITLE,
  FORGOT_VIEW,
  PasswordResetService,
  ResetLinkStatus,
  ResetRequested,
} from './password-reset.service';

const RESET_VIEW = 'password/reset';
const RESET_TITLE = 'Choose a new password';

const UNUSABLE: Record<ResetLinkStatus, string> = {
  done: 'This password reset link was already used. Sign in with your new password, or ask for a new link.',
  expired: 'This password reset link has expired: a link works for 1 hour. Ask for a new one below.',
  revoked:
    'This password reset link is not valid anymore: a newer link replaced it, or the password was already reset with another one. Use the link in the latest email, or ask for a new one.',
  unknown:
    'This password reset link is not valid. Check that you opened the whole link from the email, or ask for a new one.',
};

/**
 * `/password/forgot` (`Email` → Send link) and the emailed `/password/reset/:token`
 * (`New password`, `Confirm password` → Set password). Public: for people who cannot sign in.
 */
@Controller('password')
export class PasswordResetController {
  constructor(
    private readonly resets: PasswordResetService,
    private readonly layout: LayoutLocals,
    private readonly clock: Clock,
  ) {}

  @Public()
  @Get('forgot')
  forgotPage(@Res() res: Response) {
    res.render(FORGOT_VIEW, { title: FORGOT_TITLE, input: { email: '' } });
  }

  /**
   * The same page, status and cookies for every address (no form and no CSRF token on it: nothing
   * random); a refused request (too many) is a 429 that reads the same for every address too.
   */
  @Public()
  @Post('forgot')
  async forgot(@Req() req: Request, @Res() res: Response, @Body() body: unknown) {
    const outcome = await this.resets.request(body, req.ip ?? null, responseSent(res));
    // The page has no form, and for a visitor no Log out button either: no CSRF token, no cookie.
    if (!req.session?.auth) this.layout.withoutForms(res);
    res.status(outcome.ok ? HttpStatus.OK : HttpStatus.TOO_MANY_REQUESTS);
    res.render('password/forgot-sent', sentModel(outcome, this.clock.nowMs()));
  }

  @EmailedLinkPage()
  @Get('reset/:token')
  async resetPage(@Res() res: Response, @Param('token') token: string) {
    const opened = await this.resets.open(token);
    if (!opened.ok) return unusable(res, opened.status);
    res.render(RESET_VIEW, { title: RESET_TITLE, email: opened.email, token });
  }

  /** A new password: then sign in as usual (the link never signs in), with a flash saying so. */
  @EmailedLinkPage()
  @Post('reset/:token')
  async reset(
    @Req() req: Request,
    @Res() res: Response,
    @Param('token') token: string,
    @Body('newPassword') newPassword: unknown,
    @Body('confirmPassword') confirmPassword: unknown,
  ) {
    const outcome = await this.resets.complete(token, newPassword, confirmPassword, req.ip ?? null);
    if (!outcome.ok && outcome.reason === 'unusable') return unusable(res, outcome.status);
    if (!outcome.ok)
      throw new FormException(RESET_VIEW, { title: RESET_TITLE, email: outcome.email, token }, outcome.errors);
    // This browser's own session of the person ended with the others (its row is gone for good):
    // a fresh, anonymous session carries the message.
    if (req.session.auth?.userId === outcome.userId) await freshSession(req);
    (req.session.flash ??= []).push({
      type: 'success',
      text: 'Your password was changed. Sign in with your new password.',
    });
    res.redirect(303, '/login');
  }
}

function unusable(res: Response, status: ResetLinkStatus): void {
  res.status(HttpStatus.GONE).render('password/unusable', {
    title: 'Password reset link not usable',
    message: UNUSABLE[status],
  });
}

/** The "Check your email" page (or its "too many" twin): the address as typed, nothing else from the request. */
function sentModel(outcome: ResetRequested, nowMs: number) {
  if (outcome.ok) return { title: 'Check your email', email: outcome.email };
  const minutes = Math.max(1, Math.ceil((outcome.retryAt.getTime() - nowMs) / 60_000));
  return {
    title: 'Too many reset requests',
    email: outcome.email,
    tooMany: `Too many reset requests for this address or from your network. Try again later, in ${minutes} minute${minutes === 1 ? '' : 's'}.`,
  };
}

function freshSession(req: Request): Promise<void> {
  return new Promise((resolve, reject) => req.session.regenerate((error) => (error ? reject(error) : resolve())));
}

/** Settles once the response has been handed over (or the connection closed): the background work waits for it. */
function responseSent(res: Response): Promise<void> {
  return new Promise((resolve) => {
    res.once('finish', () => resolve());
    res.once('close', () => resolve());
  });
}
