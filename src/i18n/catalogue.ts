import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { IntlMessageFormat } from 'intl-messageformat';
import { DEFAULT_LANGUAGE, Language, LANGUAGES } from './languages';

/** locales/<language>.json: one catalogue per language, flat keys → ICU MessageFormat messages. */
export const LOCALES_DIR = join(__dirname, '..', '..', 'locales');

export type MessageValues = Record<string, string | number | boolean | null | undefined>;

/** A message the catalogue does not have (a bug: every key used must exist in every language, checked by test). */
export class MissingMessageError extends Error {
  constructor(
    readonly language: Language,
    readonly key: string,
  ) {
    super(`No message "${key}" in ${language}`);
  }
}

/**
 * Every language's messages, read once at start, each compiled on first use and kept.
 * Messages are ICU MessageFormat (FormatJS's intl-messageformat): placeholders `{name}`,
 * plurals `{count, plural, one {# user} other {# users}}` by each language's own rules.
 * Text with tags (`<strong>…</strong>`, `<link>…</link>`) is only for formatRich, whose
 * caller renders the tags; everywhere else tags are plain text.
 */
export class Catalogue {
  private readonly compiled = new Map<string, IntlMessageFormat>();

  constructor(private readonly messages: Record<Language, Record<string, string>>) {}

  static load(dir = LOCALES_DIR): Catalogue {
    const messages = {} as Record<Language, Record<string, string>>;
    for (const language of LANGUAGES)
      messages[language] = JSON.parse(readFileSync(join(dir, `${language}.json`), 'utf8')) as Record<string, string>;
    return new Catalogue(messages);
  }

  has(key: string, language: Language = DEFAULT_LANGUAGE): boolean {
    return Object.prototype.hasOwnProperty.call(this.messages[language], key);
  }

  keys(language: Language = DEFAULT_LANGUAGE): string[] {
    return Object.keys(this.messages[language]);
  }

  source(language: Language, key: string): string | undefined {
    return this.has(key, language) ? this.messages[language][key] : undefined;
  }

  /** The message as plain text (tags are text too). */
  format(language: Language, key: string, values: MessageValues = {}): string {
    return String(this.compile(language, key, true).format(values));
  }

  /** The message with its tags rendered by `tags` (each gets its content's parts, already rendered). */
  formatRich(
    language: Language,
    key: string,
    values: Record<string, unknown>,
    tags: Record<string, (parts: string[]) => string>,
  ): string {
    const result = this.compile(language, key, false).format({ ...values, ...tags });
    return Array.isArray(result) ? result.join('') : String(result);
  }

  private compile(language: Language, key: string, ignoreTag: boolean): IntlMessageFormat {
    const id = `${language}\u0000${key}\u0000${ignoreTag}`;
    let format = this.compiled.get(id);
    if (!format) {
      const source = this.source(language, key);
      if (source === undefined) throw new MissingMessageError(language, key);
      format = new IntlMessageFormat(source, language, undefined, { ignoreTag });
      this.compiled.set(id, format);
    }
    return format;
  }
}
