import { Body, Controller, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { CurrentUser } from '../auth/auth.decorators';
import { OpenWhilePasskeyOwed } from '../common/decorators';
import { sameSitePath } from '../common/safe-path';
import { isLanguage } from '../i18n/languages';
import { setLanguageCookie } from '../i18n/language-switch';
import { User } from '../users/user.entity';
import { UsersService } from '../users/users.service';
import { LanguageDto } from './dto/language.dto';

/**
 * The signed-in person's language (issue 17): the setting on /account and the language menu of
 * every signed-in page post here. Saved on the user (it wins over the cookie and the browser,
 * and their emails use it) and set as the cookie too, so the sign-in page speaks it after a
 * log out. Then back to the page the menu was on.
 */
@OpenWhilePasskeyOwed()
@Controller('account/language')
export class LanguageController {
  constructor(private readonly users: UsersService) {}

  @Post()
  async save(@Req() req: Request, @Res() res: Response, @CurrentUser() user: User, @Body() body: LanguageDto) {
    const back = sameSitePath(body.next) ?? '/account';
    if (!isLanguage(body.language)) {
      (req.session.flash ??= []).push({ type: 'error', key: 'account.language.unknown' });
      return res.redirect(303, back);
    }
    await this.users.setLanguage(user, body.language);
    setLanguageCookie(req, res, body.language);
    (req.session.flash ??= []).push({ type: 'success', key: 'account.language.saved' });
    res.redirect(303, back);
  }
}
