import { Body, Controller, Get, Post, Render, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { FormView } from '../common/decorators';
import { CurrentUser, Roles } from '../auth/auth.decorators';
import { User } from '../users/user.entity';
import { AdminOrganizerService } from './admin-organizer.service';
import { OrganizerPolicyDto } from './dto/organizer-policy.dto';
import { PageTitle } from './page-title.interceptor';

/** The admin's own organizer: its 2FA policy (issue 7), passkey settings and time zone (issue 17). Admins only; members get 403. */
@Roles('admin')
@Controller('admin/organizer')
export class AdminOrganizerController {
  constructor(private readonly organizer: AdminOrganizerService) {}

  @Get()
  @Render('admin/organizer')
  page(@CurrentUser() admin: User) {
    return this.organizer.page(admin);
  }

  /** The passkey settings (their own form: the 2FA policy form never changes them). */
  @Post('passkeys')
  async savePasskeys(
    @Req() req: Request,
    @Res() res: Response,
    @CurrentUser() admin: User,
    @Body() body: Record<string, unknown>,
  ) {
    const outcome = await this.organizer.savePasskeys(admin, body ?? {}, req.ip ?? null);
    (req.session.flash ??= []).push(outcome.flash);
    res.redirect(303, outcome.location);
  }

  /** The organizer's time zone (issue 17); a zone this runtime does not know is the page again with the message (400). */
  @Post('time-zone')
  async saveTimeZone(
    @Req() req: Request,
    @Res() res: Response,
    @CurrentUser() admin: User,
    @Body() body: Record<string, unknown>,
  ) {
    const outcome = await this.organizer.saveTimeZone(admin, body ?? {}, req.ip ?? null);
    (req.session.flash ??= []).push(outcome.flash);
    res.redirect(303, outcome.location);
  }

  /** Saves the policy; bad input is the same form again with the message and the input kept. */
  @Post()
  @FormView('admin/organizer', OrganizerPolicyDto)
  @PageTitle('organizer.title')
  async save(@Req() req: Request, @Res() res: Response, @CurrentUser() admin: User, @Body() dto: OrganizerPolicyDto) {
    const outcome = await this.organizer.save(admin, dto, req.ip ?? null);
    (req.session.flash ??= []).push(outcome.flash);
    res.redirect(303, outcome.location);
  }
}
