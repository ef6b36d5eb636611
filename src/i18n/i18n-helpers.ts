import Handlebars from 'handlebars';
import { Catalogue, MessageValues } from './catalogue';
import { formatDate, formatDateTime } from './format';
import { DEFAULT_LANGUAGE, isLanguage, Language } from './languages';

interface HelperOptions {
  hash?: Record<string, unknown>;
  data?: { root?: { lang?: unknown; timeZone?: unknown; plainText?: unknown } };
}

/**
 * A message made safe for HTML text and for double-quoted attributes (every attribute of the
 * views is double-quoted): `&`, `<`, `>` and `"`. An apostrophe stays one, as it was when the
 * sentences were in the templates ("This wasn't me"): Handlebars' own escaping would write `&#x27;`.
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (char) => HTML_ENTITIES[char]);
}

const HTML_ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' };

type Registry = { registerHelper(name: string, fn: (...args: any[]) => unknown): void };

/** The page's (or email's) language and time zone: the model's root `lang` and `timeZone` (LayoutLocals, MailService). */
function localeOf(options: HelperOptions): { language: Language; timeZone: string } {
  const root = options.data?.root ?? {};
  return {
    language: isLanguage(root.lang) ? root.lang : DEFAULT_LANGUAGE,
    timeZone: typeof root.timeZone === 'string' ? root.timeZone : 'UTC',
  };
}

/** `{{t "key" name=value}}`, or `{{t key values}}` with the values in an object (a flash's). */
function valuesOf(args: unknown[], options: HelperOptions): MessageValues {
  const given = args.find((arg) => arg && typeof arg === 'object') as MessageValues | undefined;
  return { ...given, ...(options.hash as MessageValues) };
}

/**
 * The template helpers of every page and email (issue 17):
 * - `{{t "key" …}}`: the message in the page's language, plain text (Handlebars escapes it);
 * - `{{tHtml "key" …}}`: a message with `<strong>`, `<em>`, `<code>` or `<link>` (the
 *   `href` value) tags, the values escaped, the tags made here: the catalogue is trusted, what
 *   a person typed never is;
 * - `{{datetime d}}` / `{{date d}}`: an instant in the page's language and time zone.
 */
export function registerI18nHelpers(registry: Registry, catalogue: Catalogue): void {
  // A message that is text alone is escaped once per language (every page has dozens).
  const escapedTexts = new Map<Language, Map<string, Handlebars.SafeString>>();
  const escapedText = (language: Language, key: string): Handlebars.SafeString | undefined => {
    let texts = escapedTexts.get(language);
    if (!texts) escapedTexts.set(language, (texts = new Map()));
    let html = texts.get(key);
    if (!html && catalogue.isText(language, key)) {
      html = new Handlebars.SafeString(escapeHtml(catalogue.format(language, key)));
      texts.set(key, html);
    }
    return html;
  };
  registry.registerHelper('t', (key: unknown, ...rest: unknown[]) => {
    const options = rest.pop() as HelperOptions;
    const { language } = localeOf(options);
    // A plain-text email (root `plainText`, MailService) takes the text as it is.
    const plainText = !!options.data?.root?.plainText;
    const cached = plainText ? undefined : escapedText(language, String(key));
    if (cached) return cached;
    const text = catalogue.format(language, String(key), valuesOf(rest, options));
    return plainText ? text : new Handlebars.SafeString(escapeHtml(text));
  });
  registry.registerHelper('tHtml', (key: unknown, ...rest: unknown[]) => {
    const options = rest.pop() as HelperOptions;
    const values = valuesOf(rest, options);
    const escaped = Object.fromEntries(
      Object.entries(values).map(([name, value]) => [name, typeof value === 'string' ? escapeHtml(value) : value]),
    );
    const wrap = (tag: string) => (parts: string[]) => `<${tag}>${parts.join('')}</${tag}>`;
    const html = catalogue.formatRich(localeOf(options).language, String(key), escaped, {
      strong: wrap('strong'),
      em: wrap('em'),
      code: wrap('code'),
      link: (parts) => `<a href="${Handlebars.escapeExpression(String(values.href ?? ''))}">${parts.join('')}</a>`,
    });
    return new Handlebars.SafeString(html);
  });
  registry.registerHelper('datetime', (value: unknown, options: HelperOptions) => {
    if (!(value instanceof Date) && typeof value !== 'number') return '';
    const { language, timeZone } = localeOf(options);
    return formatDateTime(value, language, timeZone);
  });
  registry.registerHelper('date', (value: unknown, options: HelperOptions) => {
    if (!(value instanceof Date) && typeof value !== 'number') return '';
    const { language, timeZone } = localeOf(options);
    return formatDate(value, language, timeZone);
  });
}
