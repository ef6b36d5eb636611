import { Controller, Get, HttpCode, Post, Query, Render, Req, Res, UseGuards } from '@nestjs/common';
import type { Request, Response } from 'express';
import { AllowPending, Public } from '../common/decorators';
import { CurrentUser } from './auth.decorators';
import { safeReturnPath } from '../common/safe-path';
import { User } from '../users/user.entity';
import { LocalAuthGuard } from './local-auth.guard';
import { LoginService } from './login.service';

/** The notice of /login?reason=…: message keys. */
const REASONS: Record<string, string> = {
  ended: 'signIn.reason.ended',
  timeout: 'signIn.reason.timeout',
  'signed-out': 'signIn.reason.signedOut',
};

@Controller()
export class AuthController {
  constructor(private readonly login: LoginService) {}

  @Public()
  @Get('login')
  loginPage(
    @Req() req: Request,
    @Res() res: Response,
    @Query('next') next?: unknown,
    @Query('reason') reason?: unknown,
  ) {
    if (req.session?.auth?.stage === 'full') return res.redirect(303, '/');
    res.render('auth/login', {
      next: safeReturnPath(next) ?? '',
      notice: typeof reason === 'string' && Object.hasOwn(REASONS, reason) ? REASONS[reason] : undefined,
    });
  }

  @Public()
  @UseGuards(LocalAuthGuard)
  @Post('login')
  async loginSubmit(@Req() req: Request, @Res() res: Response, @CurrentUser() user: User) {
    const next = await this.login.passwordAccepted(req, user, safeReturnPath(req.body?.next));
    res.redirect(303, next);
  }

  @AllowPending()
  @Post('logout')
  @HttpCode(303)
  async logout(@Req() req: Request, @Res() res: Response) {
    await this.login.signOut(req);
    res.redirect(303, '/login?reason=signed-out');
  }
}

@Controller()
export class DashboardController {
  @Get()
  @Render('dashboard')
  dashboard(@CurrentUser() user: User) {
    return { title: 'layout.nav.dashboard', name: user.name, email: user.email, isAdmin: user.role === 'admin' };
  }
}
