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
const RESET_TITLE = 'password.reset.title';

/** Why a link cannot be used (message keys). */
const UNUSABLE: Record<ResetLinkStatus, string> = {
  done: 'password.unusable.done',
  expired: 'password.unusable.expired',
  revoked: 'password.unusable.revoked',
  unknown: 'password.unusable.unknown',
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
      key: 'password.reset.done',
    });
    res.redirect(303, '/login');
  }
}

function unusable(res: Response, status: ResetLinkStatus): void {
  res.status(HttpStatus.GONE).render('password/unusable', {
    title: 'password.unusable.title',
    message: UNUSABLE[status],
  });
}

/** The "Check your email" page (or its "too many" twin): the address as typed, nothing else from the request. */
function sentModel(outcome: ResetRequested, nowMs: number) {
  if (outcome.ok) return { title: 'password.sent.title', email: outcome.email };
  const minutes = Math.max(1, Math.ceil((outcome.retryAt.getTime() - nowMs) / 60_000));
  return { title: 'password.tooMany.title', email: outcome.email, tooMany: true, minutes };
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
