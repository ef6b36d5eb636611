'use strict';
/**
 * The view set-up both baselines share with the app (src/app.setup.ts): hbs, the app's
 * views and partials (registered by path under views/partials), the layout, view cache
 * on, and the login page's model with a token of the app's length.
 */
const hbs = require('hbs');
const { readdirSync, readFileSync, statSync } = require('node:fs');
const { join, relative } = require('node:path');

const VIEWS = join(__dirname, '..', '..', 'views');
const CSRF = 'x'.repeat(128);
const COMMON = { appName: 'TIXNGO Backoffice', csrfToken: CSRF };
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
  app.set('views', VIEWS);
  app.set('view engine', 'hbs');
  app.set('view options', { layout: 'layouts/main' });
  app.set('view cache', true);
  app.disable('x-powered-by');
}

module.exports = { VIEWS, COMMON, LOGIN_MODEL, configureViews };
