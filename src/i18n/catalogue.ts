import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TYPE } from '@formatjs/icu-messageformat-parser';
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
  /** Per language, per tag mode (plain text, rich): each message compiled on first use. */
  private readonly compiled = new Map<Language, [Map<string, Compiled>, Map<string, Compiled>]>();

  constructor(private readonly messages: Record<Language, Record<string, string>>) {
    for (const language of LANGUAGES) this.compiled.set(language, [new Map(), new Map()]);
  }

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
    const compiled = this.compile(language, key, true);
    return compiled.text ?? String(compiled.format.format(values));
  }

  /** Whether the message is text alone (no placeholder, plural or select): the same whatever the values. */
  isText(language: Language, key: string): boolean {
    return this.compile(language, key, true).text !== undefined;
  }

  /** The message with its tags rendered by `tags` (each gets its content's parts, already rendered). */
  formatRich(
    language: Language,
    key: string,
    values: Record<string, unknown>,
    tags: Record<string, (parts: string[]) => string>,
  ): string {
    const result = this.compile(language, key, false).format.format({ ...values, ...tags });
    return Array.isArray(result) ? result.join('') : String(result);
  }

  private compile(language: Language, key: string, ignoreTag: boolean): Compiled {
    const compiled = this.compiled.get(language)?.[ignoreTag ? 0 : 1];
    if (!compiled) throw new MissingMessageError(language, key);
    let entry = compiled.get(key);
    if (!entry) {
      const source = this.source(language, key);
      if (source === undefined) throw new MissingMessageError(language, key);
      const format = new IntlMessageFormat(source, language, undefined, { ignoreTag });
      const ast = format.getAst();
      // Most messages are text alone: formatted once (an ICU quote or escape already resolved).
      const text = ast.every((element) => element.type === TYPE.literal) ? String(format.format()) : undefined;
      entry = { format, text };
      compiled.set(key, entry);
    }
    return entry;
  }
}

/** A compiled message; `text` when it is text alone. */
interface Compiled {
  format: IntlMessageFormat;
  text?: string;
}
