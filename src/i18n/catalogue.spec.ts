import { parse, TYPE } from '@formatjs/icu-messageformat-parser';
import { IntlMessageFormat } from 'intl-messageformat';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Catalogue, LOCALES_DIR } from './catalogue';
import { LANGUAGES } from './languages';

const ROOT = join(__dirname, '..', '..');

/** The placeholders, plural/select arguments and tags of a message: what every language's version must share. */
function shapeOf(message: string, ignoreTag: boolean): string[] {
  const found = new Set<string>();
  const walk = (elements: ReturnType<typeof parse>) => {
    for (const element of elements) {
      if ('value' in element && element.type !== 0 && typeof element.value === 'string')
        found.add(`${element.type}:${element.value}`);
      if ('options' in element)
        for (const option of Object.values(element.options as Record<string, { value: ReturnType<typeof parse> }>))
          walk(option.value);
      if ('children' in element) walk(element.children as ReturnType<typeof parse>);
    }
  };
  walk(parse(message, { ignoreTag }));
  return [...found].sort();
}

/** Every file of the app that may name a message key. */
function sources(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) sources(path, out);
    else if (/\.(ts|hbs)$/.test(entry) && !entry.endsWith('.spec.ts')) out.push(path);
  }
  return out;
}

describe('the message catalogues (locales/*.json)', () => {
  const catalogue = Catalogue.load();
  const english = catalogue.keys('en');

  it('has every key in every language, and no key English lacks', () => {
    expect(english.length).toBeGreaterThan(0);
    for (const language of LANGUAGES) {
      const keys = new Set(catalogue.keys(language));
      expect({ language, missing: english.filter((key) => !keys.has(key)) }).toEqual({ language, missing: [] });
      expect({ language, extra: [...keys].filter((key) => !catalogue.has(key, 'en')) }).toEqual({
        language,
        extra: [],
      });
    }
  });

  it('gives each message the same placeholders, plurals and tags in every language, and every message parses', () => {
    for (const key of english) {
      // Messages are parsed with tags only where they are rendered rich (tHtml); both must parse.
      const expected = shapeOf(catalogue.source('en', key)!, false);
      for (const language of LANGUAGES) {
        const source = catalogue.source(language, key)!;
        expect({ key, language, shape: shapeOf(source, false) }).toEqual({ key, language, shape: expected });
        expect(() => catalogue.format(language, key, {})).not.toThrow(/MALFORMED|INVALID/);
      }
    }
  });

  it('has plural forms where a language needs them: every plural has "other"', () => {
    for (const key of english)
      for (const language of LANGUAGES) {
        const source = catalogue.source(language, key)!;
        for (const match of source.matchAll(/\{\s*\w+\s*,\s*plural\s*,/g))
          expect({ key, language, other: source.slice(match.index).includes('other {') }).toEqual({
            key,
            language,
            other: true,
          });
      }
  });

  it('uses every key somewhere in the code or the views (keys are written out whole, never built)', () => {
    const text = [...sources(join(ROOT, 'src')), ...sources(join(ROOT, 'views'))]
      .map((file) => readFileSync(file, 'utf8'))
      .join('\n');
    const unused = english.filter((key) => !text.includes(`'${key}'`) && !text.includes(`"${key}"`));
    expect(unused).toEqual([]);
  });

  it('formats a message that is text alone as ICU does, and knows it takes no values', () => {
    for (const language of LANGUAGES)
      for (const key of catalogue.keys(language)) {
        const source = catalogue.source(language, key)!;
        const ast = new IntlMessageFormat(source, language, undefined, { ignoreTag: true }).getAst();
        const text = ast.every((element) => element.type === TYPE.literal);
        expect({ language, key, text: catalogue.isText(language, key) }).toEqual({ language, key, text });
        if (text)
          expect({ language, key, formatted: catalogue.format(language, key) }).toEqual({
            language,
            key,
            formatted: String(new IntlMessageFormat(source, language, undefined, { ignoreTag: true }).format()),
          });
      }
  });

  it('keeps one catalogue file per language', () => {
    expect(readdirSync(LOCALES_DIR).sort()).toEqual(LANGUAGES.map((language) => `${language}.json`).sort());
  });
});
