import { streamCsv } from './csv';
import { Body, Controller, Get, Logger, Param, Post, Query, Render, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { FormView } from '../common/decorators';
import { CurrentUser, Roles } from '../auth/auth.decorators';
import { User } from '../users/user.entity';
import { AdminUserActionsService } from './admin-user-actions.service';
import { AdminUserListService } from './admin-user-list.service';
import { AdminUserPageService } from './admin-user-page.service';
import { Outcome } from './admin-views';
import { ConfirmDto, TwoFactorToggleDto } from './dto/confirm.dto';
import { CreateUserDto } from './dto/create-user.dto';
import { ListUsersQuery } from './dto/list-users.query';
import { PageTitle } from './page-title.interceptor';

/**
 * Users → list, New user, one user's page and its buttons. Admins only (members get
 * 403 from the global guard); the organizer is always the admin's own.
 */
@Roles('admin')
@Controller('admin/users')
export class AdminUsersController {
  private readonly logger = new Logger('AdminUsers');

  constructor(
    private readonly directory: AdminUserListService,
    private readonly page: AdminUserPageService,
    private readonly actions: AdminUserActionsService,
  ) {}

  @Get()
  @Render('admin/users/list')
  list(@CurrentUser() admin: User, @Query() query: ListUsersQuery) {
    return this.directory.list(admin, query);
  }

  @Get('new')
  @Render('admin/users/new')
  newForm() {
    return this.actions.newUserForm();
  }

  @Post()
  @FormView('admin/users/new', CreateUserDto)
  @PageTitle('dashboard.newUser')
  async create(@Req() req: Request, @Res() res: Response, @CurrentUser() admin: User, @Body() dto: CreateUserDto) {
    redirect(req, res, await this.actions.create(admin, dto, req.ip ?? null));
  }

  /**
   * The list as a CSV file (same search and filter), streamed: rows are written as they are
   * read (with the socket's backpressure). Declared before `:id`, which would take `export.csv` for an id.
   */
  @Get('export.csv')
  async exportCsv(@Res() res: Response, @CurrentUser() admin: User, @Query() query: ListUsersQuery) {
    const { filename, lines } = await this.directory.exportCsv(admin, query);
    await streamCsv(res, filename, lines, (message) => this.logger.error(`The users CSV export stopped: ${message}`));
  }

  @Get(':id')
  @Render('admin/users/show')
  show(@CurrentUser() admin: User, @Param('id') id: string) {
    return this.page.userPage(admin, id);
  }

  /** Resend QR: without `confirm=yes` the confirmation step, with it the reset. */
  @Post(':id/resend-qr')
  async resendQr(
    @Req() req: Request,
    @Res() res: Response,
    @CurrentUser() admin: User,
    @Param('id') id: string,
    @Body() body: ConfirmDto,
  ) {
    if (body.confirm !== 'yes')
      return confirmOrRefuse(req, res, await this.actions.confirmation(admin, id, 'resend-qr'));
    redirect(req, res, await this.actions.resendQr(admin, id, req.ip ?? null));
  }

  /** Enable 2FA / Disable 2FA: without `confirm=yes` the confirmation step, with it the change. */
  @Post(':id/two-factor')
  async twoFactor(
    @Req() req: Request,
    @Res() res: Response,
    @CurrentUser() admin: User,
    @Param('id') id: string,
    @Body() body: TwoFactorToggleDto,
  ) {
    if (body.confirm !== 'yes')
      return confirmOrRefuse(req, res, await this.actions.confirmation(admin, id, body.twoFactor));
    redirect(req, res, await this.actions.setTwoFactor(admin, id, body.twoFactor, req.ip ?? null));
  }

  /** Unlock account (a "This wasn't me" lock): without `confirm=yes` the confirmation step, with it the unlock. */
  @Post(':id/unlock')
  async unlock(
    @Req() req: Request,
    @Res() res: Response,
    @CurrentUser() admin: User,
    @Param('id') id: string,
    @Body() body: ConfirmDto,
  ) {
    if (body.confirm !== 'yes') return confirmOrRefuse(req, res, await this.actions.confirmation(admin, id, 'unlock'));
    redirect(req, res, await this.actions.unlock(admin, id, req.ip ?? null));
  }

  /** Sign out everywhere: without `confirm=yes` the confirmation step, with it every session of the user ends. */
  @Post(':id/sign-out-everywhere')
  async signOutEverywhere(
    @Req() req: Request,
    @Res() res: Response,
    @CurrentUser() admin: User,
    @Param('id') id: string,
    @Body() body: ConfirmDto,
  ) {
    if (body.confirm !== 'yes')
      return confirmOrRefuse(req, res, await this.actions.confirmation(admin, id, 'sign-out-everywhere'));
    redirect(req, res, await this.actions.signOutEverywhere(admin, id, req.ip ?? null));
  }

  @Post(':id/invitation')
  async resendInvitation(
    @Req() req: Request,
    @Res() res: Response,
    @CurrentUser() admin: User,
    @Param('id') id: string,
  ) {
    redirect(req, res, await this.actions.resendInvitation(admin, id, req.ip ?? null));
  }
}

/** After a POST: 303 to the page, with the message shown there once. */
function redirect(req: Request, res: Response, outcome: Outcome): void {
  (req.session.flash ??= []).push(outcome.flash);
  res.redirect(303, outcome.location);
}

function confirmOrRefuse(
  req: Request,
  res: Response,
  step: Awaited<ReturnType<AdminUserActionsService['confirmation']>>,
): void {
  if ('refused' in step) return redirect(req, res, step.refused);
  // A page, not a created resource: 200 (Nest answers a POST with 201 by default).
  res.status(200).render('admin/users/confirm', step.confirm);
}
