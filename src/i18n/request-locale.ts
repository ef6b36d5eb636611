import type { Request } from 'express';
import { currentRequestContext } from '../common/request-context';
import { chooseLanguage, DEFAULT_LANGUAGE, Language, LANGUAGE_COOKIE, LANGUAGES } from './languages';

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

/** The language of the request being answered, or English outside one (the CLI, the outbox worker). */
export function currentLanguage(): Language {
  const req = currentRequestContext()?.req;
  return req ? requestLanguage(req) : DEFAULT_LANGUAGE;
}
