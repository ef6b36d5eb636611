import { Body, Controller, HttpCode, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { LoginService } from '../../auth/login.service';
import { Public } from '../../common/decorators';
import { FormException } from '../../common/exceptions';
import { safeReturnPath } from '../../common/safe-path';
import { PasskeysService } from './passkeys.service';

/** **Sign in with a passkey** on /login: a passkey alone, with user verification (issue 13). */
@Controller('login/passkey')
export class PasskeySignInController {
  constructor(
    private readonly passkeys: PasskeysService,
    private readonly login: LoginService,
  ) {}

  /** The options of the browser's ceremony (JSON, for public/passkeys.js). */
  @Public()
  @Post('options')
  @HttpCode(200)
  async options(@Req() req: Request) {
    return { options: await this.passkeys.signInOptions(req) };
  }

  @Public()
  @Post()
  async submit(
    @Req() req: Request,
    @Res() res: Response,
    @Body('response') response: unknown,
    @Body('next') next: unknown,
  ) {
    const outcome = await this.passkeys.signIn(req, response, req.ip ?? null);
    const returnTo = safeReturnPath(next);
    if (!outcome.ok)
      throw new FormException(
        'auth/login',
        { email: '', next: returnTo ?? '' },
        { passkey: outcome.message },
        outcome.status,
      );
    res.redirect(303, await this.login.passkeyAccepted(req, outcome.user, returnTo));
  }
}
