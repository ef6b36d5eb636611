import { Global, Injectable, Logger, Module } from '@nestjs/common';
import type { Request, Response } from 'express';
import { AppConfig } from '../config/app-config';
import { CsrfService } from './csrf';
import { DEFAULT_TIME_ZONE } from '../i18n/format';
import { LANGUAGE_NAMES, LANGUAGES } from '../i18n/languages';
import { requestLanguage } from '../i18n/request-locale';
import './flash';

/** What a feature adds to every page's layout (the signed-in person, a 2FA banner), from the request. */
export type LayoutContributor = (req: Request, res: Response) => void | Promise<void>;

const applied = new WeakSet<Response>();
/** The language menu at the foot of every page, one per current language. */
const LANGUAGE_MENUS = new Map(
  LANGUAGES.map((language) => [
    language,
    LANGUAGES.map((code) => Object.freeze({ code, name: LANGUAGE_NAMES[code], current: code === language })),
  ]),
);
/** Responses whose page has no form: they get no CSRF token, so they set no random cookie. */
const formless = new WeakSet<Response>();

/**
 * The locals every page's layout reads, set once per response right before it renders
 * (app.setup.ts wraps res.render): the app name, the CSRF token, the flash messages, and
 * what each feature registered. Features register; common knows none of them.
 */
@Injectable()
export class LayoutLocals {
  private readonly logger = new Logger('Layout');
  private readonly contributors: LayoutContributor[] = [];

  constructor(
    private readonly csrf: CsrfService,
    private readonly config: AppConfig,
  ) {}

  register(contributor: LayoutContributor): void {
    this.contributors.push(contributor);
  }

  /**
   * This page has no form (nor a Log out button: call it for visitors only), so it makes no
   * CSRF token and sets no cookie: an answer that must read the same for every request (the
   * forgot-password page) carries nothing random.
   */
  withoutForms(res: Response): void {
    formless.add(res);
  }

  async apply(req: Request, res: Response): Promise<void> {
    if (applied.has(res)) return;
    applied.add(res);
    res.locals.appName = this.config.appName;
    // The page's language (<html lang>, every {{t}}) and time zone (every {{datetime}}; the
    // organizer's, set by its contributor for a signed-in person).
    const language = requestLanguage(req);
    res.locals.lang = language;
    res.locals.timeZone = DEFAULT_TIME_ZONE;
    // Where the signed-in menu returns to (POST /account/language checks it): this page.
    res.locals.currentPath = req.method === 'GET' ? req.originalUrl : req.path;
    res.locals.languageMenu = LANGUAGE_MENUS.get(language);
    // Made when a page is rendered, not for every request: a redirect needs no token and
    // sets no cookie, and a page rendered after the session id changed (sign-in steps)
    // gets a token bound to the new id. A page rendered before the cookies were read has no
    // form to protect, and gets none (a body refused by the parser has no session: no form either).
    let token: string | undefined;
    const makeToken = () => (req.cookies && !formless.has(res) ? this.csrf.token(req, res) : undefined);
    Object.defineProperty(res.locals, 'csrfToken', {
      enumerable: true,
      configurable: true,
      get: () => (token ??= makeToken()),
    });
    if (req.session?.flash?.length) {
      res.locals.flash = req.session.flash;
      delete req.session.flash;
    }
    for (const contribute of this.contributors) {
      try {
        await contribute(req, res);
      } catch (error) {
        // A page without a banner is better than no page (the database may be down: the error page still renders).
        this.logger.warn(`A layout contributor failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }
}

@Global()
@Module({ providers: [CsrfService, LayoutLocals], exports: [CsrfService, LayoutLocals] })
export class LayoutModule {}
