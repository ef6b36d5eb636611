import { Body, Controller, Get, HttpStatus, Param, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { LoginService } from '../auth/login.service';
import { EmailedLinkPage } from '../common/decorators';
import { FormException } from '../common/exceptions';
import { InvitationsService, LinkStatus } from '../users/invitations.service';
import { User } from '../users/user.entity';

const TITLE = 'Choose your password';

const UNUSABLE: Record<LinkStatus, string> = {
  done: 'This invitation link was already used. Sign in with your email and the password you chose.',
  expired: 'This invitation link has expired. Ask an admin of your organizer to send you a new invitation.',
  revoked:
    'This invitation link is not valid anymore: a newer invitation replaced it. Use the link in the latest email, or ask an admin of your organizer.',
  unknown:
    'This invitation link is not valid. Check that you opened the whole link from the email, or ask an admin of your organizer.',
};

/**
 * The invitation link (journey 1): choose a password, then, in the same visit, the 2FA
 * setup page (2FA on) or the dashboard (2FA off), through the password step's
 * LoginService: it is the person's own first step, so it lives in account (users cannot import auth).
 */
@Controller('invitations')
export class InvitationsController {
  constructor(
    private readonly invitations: InvitationsService,
    private readonly login: LoginService,
  ) {}

  @EmailedLinkPage()
  @Get(':token')
  async page(@Res() res: Response, @Param('token') token: string) {
    const opened = await this.invitations.open(token);
    if (!opened.ok) return this.unusable(res, opened.status);
    res.render('invitations/accept', pageModel(opened.user, token));
  }

  @EmailedLinkPage()
  @Post(':token')
  async submit(
    @Req() req: Request,
    @Res() res: Response,
    @Param('token') token: string,
    @Body('newPassword') newPassword: unknown,
    @Body('confirmPassword') confirmPassword: unknown,
  ) {
    const outcome = await this.invitations.accept(token, newPassword, confirmPassword, req.ip ?? null);
    if (!outcome.ok && outcome.reason === 'unusable') return this.unusable(res, outcome.status);
    if (!outcome.ok)
      throw new FormException(
        'invitations/accept',
        pageModel(outcome.user, token),
        outcome.errors,
        HttpStatus.BAD_REQUEST,
      );
    res.redirect(303, await this.login.passwordAccepted(req, outcome.user));
  }

  /** A used, expired or unknown link says so and offers nothing else. */
  private unusable(res: Response, status: LinkStatus) {
    res.status(HttpStatus.GONE).render('invitations/unusable', {
      title: 'Invitation link not usable',
      message: UNUSABLE[status],
      used: status === 'done',
    });
  }
}

function pageModel(user: User, token: string) {
  return { title: TITLE, email: user.email, name: user.name, token, twoFactor: user.twoFactorRequired };
}
