import { Catalogue } from '../../src/i18n/catalogue';
import { Language, LANGUAGE_NAMES } from '../../src/i18n/languages';

/**
 * Words that are English and nothing else in the other four languages: one of them in a French,
 * German, Italian or Spanish page is a sentence left untranslated. Words shared with a target
 * language stay out (was and will are German, has Spanish, code French, in and die German and
 * Italian, no Spanish and Italian); PER_LANGUAGE_ALLOWED lists the loanwords a language uses.
 */
export const ENGLISH_WORDS = [
  'the',
  'and',
  'your',
  'you',
  'with',
  'without',
  'this',
  'that',
  'please',
  'password',
  'passwords',
  'account',
  'users',
  'settings',
  'enter',
  'remove',
  'save',
  'cancel',
  'back',
  'here',
  'must',
  'been',
  'have',
  'were',
  'what',
  'when',
  'which',
  'from',
  'only',
  'every',
  'never',
  'again',
  'should',
  'could',
  'would',
  'there',
  'their',
  'they',
  'these',
  'about',
  'after',
  'before',
  'because',
  'while',
  'sign',
  'signed',
  'yet',
  'new',
  'show',
  'days',
  'left',
  'set',
  'up',
];

/** Loanwords a language writes as English does (Italian software says "password", for one). */
export const PER_LANGUAGE_ALLOWED: Partial<Record<Language, string[]>> = {
  // Italian software says "account" too (the glossary of issue 17: Il tuo account).
  it: ['password', 'account'],
};

/** Names that stay as they are in every language: the app, and the authenticator apps the setup page names. */
const PROPER_NAMES = [
  // The language menu at the foot of every page names each language in itself.
  ...Object.values(LANGUAGE_NAMES),
  'TIXNGO Backoffice',
  'TIXNGO',
  '1Password',
  'Google Authenticator',
  'Microsoft Authenticator',
  'Authy',
];

const catalogue = Catalogue.load();
const KEYS = new Set(catalogue.keys('en'));

/** The text a person reads on a page or in an email: the text between tags and the readable attributes. */
export function readableText(html: string): string {
  const attributes = [
    ...html.matchAll(/\s(?:title|aria-label|placeholder|alt|aria-description)="([^"]*)"/g),
    ...[...html.matchAll(/<input[^>]*type="(?:submit|button)"[^>]*>/g)].flatMap((m) =>
      [...m[0].matchAll(/\svalue="([^"]*)"/g)].map((v) => v),
    ),
  ].map((match) => match[1]);
  const body = html
    .replace(/<script[\s\S]*?<\/script>/g, ' ')
    .replace(/<style[\s\S]*?<\/style>/g, ' ')
    .replace(/<[^>]+>/g, ' ');
  return decode([body, ...attributes].join(' '));
}

function decode(text: string): string {
  return text
    .replace(/&quot;/g, '"')
    .replace(/&#x27;/g, "'")
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&#x3D;/g, '=')
    .replace(/&#x60;/g, '`')
    .replace(/&nbsp;/g, ' ')
    .replace(/&amp;/g, '&');
}

/** The page's language: its `<html lang>`. */
export function langOf(html: string): string | undefined {
  return /<html lang="([^"]+)"/.exec(html)?.[1];
}

/**
 * What is left untranslated in a page or an email of `language`: a message key shown raw, or an
 * English word (ENGLISH_WORDS) outside `names` (the people, organizers, addresses and app name
 * the test put on the page, which stay as they are). English pages are checked for raw keys only.
 */
export function untranslated(html: string, language: Language, names: string[] = []): string[] {
  let text = readableText(html);
  for (const name of [...names, ...PROPER_NAMES].sort((a, b) => b.length - a.length)) text = text.split(name).join(' ');
  // Addresses and links are data, not sentences.
  text = text.replace(/\S+@\S+/g, ' ').replace(/https?:\/\/\S+/g, ' ');
  const problems: string[] = [];
  for (const token of text.match(/[A-Za-z][\w-]*(?:\.[\w-]+)+/g) ?? [])
    if (KEYS.has(token)) problems.push(`key ${token}`);
  if (language === 'en') return problems;
  const allowed = new Set(PER_LANGUAGE_ALLOWED[language] ?? []);
  for (const word of text.toLowerCase().match(/[a-z]+(?:'[a-z]+)?/g) ?? [])
    if (ENGLISH_WORDS.includes(word) && !allowed.has(word)) problems.push(`English "${word}"`);
  return [...new Set(problems)];
}
