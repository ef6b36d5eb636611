import { Controller, Get, HttpStatus, Param, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { AuthSessionService } from '../auth/auth-session.service';
import { EmailedLinkPage } from '../common/decorators';
import { NotMeOutcome, NotMeService } from './not-me.service';

const UNUSABLE: Record<string, string> = {
  done: 'This link was already used: the account is locked. An admin of your organizer can unlock it.',
  expired: 'This link has expired. If something is wrong with your account, tell an admin of your organizer.',
};

/** The "This wasn't me" link of security emails: a confirmation page, then the lock. */
@Controller('not-me')
export class NotMeController {
  constructor(
    private readonly notMe: NotMeService,
    private readonly sessions: AuthSessionService,
  ) {}

  @EmailedLinkPage()
  @Get(':token')
  async confirmPage(@Res() res: Response, @Param('token') token: string) {
    const outcome = await this.notMe.preview(token);
    if (!outcome.ok) return this.unusable(res, outcome);
    res.render('account/not-me', { title: "This wasn't me", email: outcome.user.email, token });
  }

  @EmailedLinkPage()
  @Post(':token')
  async confirm(@Req() req: Request, @Res() res: Response, @Param('token') token: string) {
    const outcome = await this.notMe.confirm(token, req.ip ?? null);
    if (!outcome.ok) return this.unusable(res, outcome);
    await this.sessions.forgetIfSignedInAs(req, outcome.user.id);
    res
      .status(HttpStatus.OK)
      .render('account/not-me-done', { title: 'Your account is locked', email: outcome.user.email });
  }

  private unusable(res: Response, outcome: Extract<NotMeOutcome, { ok: false }>) {
    const message =
      UNUSABLE[outcome.status] ??
      'This link is not valid. If something is wrong with your account, tell an admin of your organizer.';
    res.status(HttpStatus.GONE).render('errors/link', { title: 'Link not usable', message });
  }
}
