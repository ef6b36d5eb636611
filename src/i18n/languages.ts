/**
 * The languages of the back office (issue 17), English first: the default, and the language
 * of PRODUCT.md's labels. Each is named in itself in the language menu and on /account.
 */
export const LANGUAGES = ['en', 'fr', 'de', 'it', 'es'] as const;
export type Language = (typeof LANGUAGES)[number];

export const DEFAULT_LANGUAGE: Language = 'en';

/** Endonyms: a person looking for their language finds it in their language. */
export const LANGUAGE_NAMES: Record<Language, string> = {
  en: 'English',
  fr: 'Français',
  de: 'Deutsch',
  it: 'Italiano',
  es: 'Español',
};

/** The cookie the language menu sets (a year; read when no saved preference decides). */
export const LANGUAGE_COOKIE = 'lang';
export const LANGUAGE_COOKIE_MAX_AGE_MS = 365 * 86_400_000;

export function isLanguage(value: unknown): value is Language {
  return typeof value === 'string' && (LANGUAGES as readonly string[]).includes(value);
}

/**
 * The one order (issue 17): the person's saved preference, then the language menu's cookie,
 * then the browser's Accept-Language (negotiated by Express, `accepted`), then English.
 */
export function chooseLanguage(sources: {
  preference?: string | null;
  cookie?: unknown;
  accepted?: string | false;
}): Language {
  if (isLanguage(sources.preference)) return sources.preference;
  if (isLanguage(sources.cookie)) return sources.cookie;
  if (isLanguage(sources.accepted)) return sources.accepted;
  return DEFAULT_LANGUAGE;
}
