import { Controller, Get, Param, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { CurrentUser } from '../auth/auth.decorators';
import { UserSessionsService } from '../auth/user-sessions.service';
import type { Flash } from '../common/flash';
import { User } from '../users/user.entity';

/**
 * /account/sessions: where the person is signed in, and signing out the others. Fully
 * signed in only (the global guard); no fresh second factor is asked: ending sessions
 * protects the account, and a thief in one session gains nothing by ending the others.
 */
@Controller('account/sessions')
export class SessionsController {
  constructor(private readonly sessions: UserSessionsService) {}

  @Get()
  async page(@Req() req: Request, @Res() res: Response, @CurrentUser() user: User) {
    const sessions = await this.sessions.list(req, user);
    res.render('account/sessions', {
      title: 'account.sessions.title',
      sessions,
      others: sessions.some((session) => !session.current),
    });
  }

  @Post('sign-out-others')
  async signOutOthers(@Req() req: Request, @Res() res: Response, @CurrentUser() user: User) {
    const count = await this.sessions.signOutOthers(req, user);
    back(
      req,
      res,
      count
        ? { type: 'success', key: 'account.sessions.othersEnded', values: { count } }
        : { type: 'info', key: 'account.sessions.noOthers' },
    );
  }

  @Post(':handle/sign-out')
  async signOut(@Req() req: Request, @Res() res: Response, @CurrentUser() user: User, @Param('handle') handle: string) {
    const outcome = await this.sessions.signOut(req, user, handle);
    back(
      req,
      res,
      outcome.ended
        ? { type: 'success', key: 'account.sessions.ended', values: { device: outcome.device } }
        : outcome.reason === 'current'
          ? { type: 'info', key: 'account.sessions.isCurrent' }
          : { type: 'info', key: 'account.sessions.gone' },
    );
  }
}

/** After a POST: back to the list, with the message shown there once. */
function back(req: Request, res: Response, flash: Flash): void {
  (req.session.flash ??= []).push(flash);
  res.redirect(303, '/account/sessions');
}
