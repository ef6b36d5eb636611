'use strict';
/**
 * The view set-up both baselines share with the app (src/app.setup.ts): hbs, the app's
 * views and partials (registered by path under views/partials), the layout, view cache
 * on, the message helpers ({{t}}, from dist/), and the login page's model with a token of the
 * app's length.
 */
const hbs = require('hbs');
const { readdirSync, readFileSync, statSync } = require('node:fs');
const { join, relative } = require('node:path');

const VIEWS = join(__dirname, '..', '..', 'views');
const DIST = join(__dirname, '..', '..', 'dist');
// The app's own message helpers and catalogues (issue 17), from the build the bench runs.
const { Catalogue } = require(join(DIST, 'i18n', 'catalogue'));
const { registerI18nHelpers } = require(join(DIST, 'i18n', 'i18n-helpers'));
const { LANGUAGES, LANGUAGE_NAMES } = require(join(DIST, 'i18n', 'languages'));
const CSRF = 'x'.repeat(128);
/** What LayoutLocals gives every page: the app name, the token, the language, the time zone and the language menu. */
const COMMON = {
  appName: 'TIXNGO Backoffice',
  csrfToken: CSRF,
  lang: 'en',
  timeZone: 'UTC',
  currentPath: '/login',
  languageMenu: LANGUAGES.map((code) => ({ code, name: LANGUAGE_NAMES[code], current: code === 'en' })),
};
const LOGIN_MODEL = { ...COMMON, next: '' };

function registerPartials(dir = join(VIEWS, 'partials')) {
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) registerPartials(path);
    else if (entry.endsWith('.hbs'))
      hbs.registerPartial(relative(join(VIEWS, 'partials'), path).replace(/\.hbs$/, ''), readFileSync(path, 'utf8'));
  }
}

/** hbs on an Express app (or a NestExpressApplication, which has the same set/disable). */
function configureViews(app) {
  registerPartials();
  hbs.registerHelper('eq', (a, b) => a === b);
  registerI18nHelpers(hbs, Catalogue.load());
  app.set('views', VIEWS);
  app.set('view engine', 'hbs');
  app.set('view options', { layout: 'layouts/main' });
  app.set('view cache', true);
  app.disable('x-powered-by');
}

module.exports = { VIEWS, COMMON, LOGIN_MODEL, configureViews };
