import { Controller, Get, HttpStatus, Param, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { AuthSessionService } from '../auth/auth-session.service';
import { EmailedLinkPage } from '../common/decorators';
import { speakAsLinkOwner } from '../i18n/request-locale';
import { NotMeOutcome, NotMeService } from './not-me.service';

/** Why a link cannot be used (message keys); any other status reads as not valid. */
const UNUSABLE: Record<string, string> = {
  done: 'account.notMe.unusable.done',
  expired: 'account.notMe.unusable.expired',
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
  async confirmPage(@Req() req: Request, @Res() res: Response, @Param('token') token: string) {
    const outcome = await this.notMe.preview(token);
    if (!outcome.ok) return this.unusable(res, outcome);
    speakAsLinkOwner(req, outcome.user);
    res.render('account/not-me', { title: 'account.notMe.title', email: outcome.user.email, token });
  }

  @EmailedLinkPage()
  @Post(':token')
  async confirm(@Req() req: Request, @Res() res: Response, @Param('token') token: string) {
    const outcome = await this.notMe.confirm(token, req.ip ?? null);
    if (!outcome.ok) return this.unusable(res, outcome);
    await this.sessions.forgetIfSignedInAs(req, outcome.user.id);
    speakAsLinkOwner(req, outcome.user);
    res
      .status(HttpStatus.OK)
      .render('account/not-me-done', { title: 'account.notMe.doneTitle', email: outcome.user.email });
  }

  private unusable(res: Response, outcome: Extract<NotMeOutcome, { ok: false }>) {
    const message = UNUSABLE[outcome.status] ?? 'account.notMe.unusable.other';
    res.status(HttpStatus.GONE).render('errors/link', { title: 'errors.link.title', message });
  }
}
