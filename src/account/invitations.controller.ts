import { Body, Controller, Get, HttpStatus, Param, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { LoginService } from '../auth/login.service';
import { EmailedLinkPage } from '../common/decorators';
import { FormException } from '../common/exceptions';
import { speakAsLinkOwner } from '../i18n/request-locale';
import { InvitationsService, LinkStatus } from '../users/invitations.service';
import { User } from '../users/user.entity';

const TITLE = 'invitation.title';

/** Why a link cannot be used (message keys). */
const UNUSABLE: Record<LinkStatus, string> = {
  done: 'invitation.unusable.done',
  expired: 'invitation.unusable.expired',
  revoked: 'invitation.unusable.revoked',
  unknown: 'invitation.unusable.unknown',
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
  async page(@Req() req: Request, @Res() res: Response, @Param('token') token: string) {
    const opened = await this.invitations.open(token);
    if (!opened.ok) return this.unusable(res, opened.status);
    speakAsLinkOwner(req, opened.user);
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
    if (!outcome.ok) speakAsLinkOwner(req, outcome.user);
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
      title: 'invitation.unusableTitle',
      message: UNUSABLE[status],
      used: status === 'done',
    });
  }
}

function pageModel(user: User, token: string) {
  return { title: TITLE, email: user.email, name: user.name, token, twoFactor: user.twoFactorRequired };
}
