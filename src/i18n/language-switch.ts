import type { NextFunction, Request, Response } from 'express';
import { isLanguage, LANGUAGE_COOKIE, LANGUAGE_COOKIE_MAX_AGE_MS } from './languages';

/** The language menu's cookie: a preference of the browser, not a secret (HttpOnly all the same; Secure on https). */
export function setLanguageCookie(req: Request, res: Response, language: string): void {
  res.cookie(LANGUAGE_COOKIE, language, {
    httpOnly: true,
    sameSite: 'lax',
    secure: req.secure,
    path: '/',
    maxAge: LANGUAGE_COOKIE_MAX_AGE_MS,
  });
}

/**
 * The language menu of a visitor (issue 17): a GET of any page with `?lang=xx` sets the cookie
 * and sends the browser back to the same page without it (303), so the address stays clean and
 * a reload does not choose again. Only the cookie changes, which a GET may do (like Keycloak's
 * kc_locale): a saved preference is changed by POST /account/language only. An unknown value
 * is dropped the same way, setting nothing.
 */
export function languageSwitch(req: Request, res: Response, next: NextFunction): void {
  if ((req.method !== 'GET' && req.method !== 'HEAD') || !('lang' in (req.query ?? {}))) return next();
  const url = new URL(req.originalUrl, 'http://same.invalid');
  const chosen = url.searchParams.get('lang');
  url.searchParams.delete('lang');
  if (isLanguage(chosen)) setLanguageCookie(req, res, chosen);
  // The same path on this site, never a host: `/.//evil` parses to the path `//evil`, which a
  // browser would read as one; the leading slashes collapse to one.
  res.redirect(303, `/${url.pathname.replace(/^[/\\]+/, '')}${url.search}`);
}
