import Handlebars from 'handlebars';
import { Catalogue } from './catalogue';
import { registerI18nHelpers } from './i18n-helpers';

describe('the template helpers', () => {
  const handlebars = Handlebars.create();
  registerI18nHelpers(
    handlebars,
    new Catalogue({
      en: {
        greet: "Hello {name}, it's {count, plural, one {# day} other {# days}}",
        rich: 'Go <link>{name}</link>',
        plain: "Sign in & don't wait: '{'braces'}'",
      },
      fr: {
        greet: 'Bonjour {name}, {count, plural, one {# jour} other {# jours}}',
        rich: 'Aller <link>{name}</link>',
        plain: 'Se connecter & attendre',
      },
      de: {},
      it: {},
      es: {},
    }),
  );
  const render = (template: string, root: Record<string, unknown>) => handlebars.compile(template)(root);

  it('t: the page’s language; values and text escaped for HTML, the apostrophe kept as typed', () => {
    expect(render('{{t "greet" name=who count=2}}', { lang: 'en', who: '<b>&"x"' })).toBe(
      "Hello &lt;b&gt;&amp;&quot;x&quot;, it's 2 days",
    );
    expect(render('{{t "greet" name="Zoé" count=1}}', { lang: 'fr' })).toBe('Bonjour Zoé, 1 jour');
  });

  it('t of a message that is text alone: escaped once per language, the same whichever language asked first', () => {
    for (const _ of [1, 2]) {
      expect(render('{{t "plain"}}', { lang: 'en' })).toBe("Sign in &amp; don't wait: {braces}");
      expect(render('{{t "plain"}}', { lang: 'fr' })).toBe('Se connecter &amp; attendre');
      expect(render('{{{t "plain"}}}', { lang: 'en', plainText: true })).toBe("Sign in & don't wait: {braces}");
    }
  });

  it('t in a plain-text email: the text as it is', () => {
    expect(render('{{{t "greet" name=who count=1}}}', { lang: 'en', who: 'A & B <c>', plainText: true })).toBe(
      "Hello A & B <c>, it's 1 day",
    );
  });

  it('tHtml: the tags made by the helper, the values escaped', () => {
    expect(render('{{tHtml "rich" name=who href=link}}', { lang: 'en', who: '<script>', link: '/x?a="1"' })).toBe(
      'Go <a href="/x?a&#x3D;&quot;1&quot;">&lt;script&gt;</a>',
    );
  });
});
