import { AsyncLocalStorage } from 'node:async_hooks';
import type { NextFunction, Request, Response } from 'express';
import { chooseLanguage, DEFAULT_LANGUAGE, Language, LANGUAGE_COOKIE, LANGUAGES } from './languages';

/** The request being answered, for code far from it (an email queued by a service speaks the language of who caused it). */
const requests = new AsyncLocalStorage<Request>();

/** The user fields the language is chosen from. */
interface WithLanguage {
  language?: string | null;
}

/**
 * The language of a request, by the one order (chooseLanguage): the signed-in person's saved
 * preference (req.user, set by the session guard: pending sessions included, so the 2FA
 * setup page speaks it; or the owner of the emailed link opened, speakAsLinkOwner), the
 * language menu's cookie, Accept-Language, English.
 */
export function requestLanguage(req: Request): Language {
  return chooseLanguage({
    preference: ((req.user as WithLanguage | undefined) ?? linkOwners.get(req))?.language,
    cookie: req.cookies?.[LANGUAGE_COOKIE],
    accepted: req.acceptsLanguages(...LANGUAGES),
  });
}

const linkOwners = new WeakMap<Request, WithLanguage>();

/**
 * A page opened from an emailed link (an invitation, "This wasn't me") speaks the language of
 * the person the link was sent to, as the email did, whatever the browser it is opened in:
 * their saved preference takes the place of a signed-in person's for this request.
 */
export function speakAsLinkOwner(req: Request, owner: WithLanguage): void {
  linkOwners.set(req, owner);
}

/** Middleware (after cookie-parser): the rest of the request runs where currentLanguage() can find it. */
export function requestLocaleContext(req: Request, _res: Response, next: NextFunction): void {
  requests.run(req, next);
}

/** The language of the request being answered, or English outside one (the CLI, the outbox worker). */
export function currentLanguage(): Language {
  const req = requests.getStore();
  return req ? requestLanguage(req) : DEFAULT_LANGUAGE;
}
