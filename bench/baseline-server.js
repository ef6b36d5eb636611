'use strict';
/**
 * The baseline: bare Express + hbs rendering the app's own templates (views/auth/login.hbs
 * and views/dashboard.hbs inside views/layouts/main.hbs, with the same partials and
 * helpers and the view cache on), with no middleware, no session, no CSRF and no database.
 * node bench/baseline-server.js <port>; prints "listening" when ready. 127.0.0.1 only.
 */
const express = require('express');
const hbs = require('hbs');
const { readdirSync, readFileSync, statSync } = require('node:fs');
const { join, relative } = require('node:path');

const VIEWS = join(__dirname, '..', 'views');
const port = Number(process.argv[2]);

// Partials registered the way the app does (src/app.setup.ts): by path under views/partials.
function registerPartials(dir) {
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) registerPartials(path);
    else if (entry.endsWith('.hbs')) hbs.registerPartial(relative(join(VIEWS, 'partials'), path).replace(/\.hbs$/, ''), readFileSync(path, 'utf8'));
  }
}
registerPartials(join(VIEWS, 'partials'));
hbs.registerHelper('eq', (a, b) => a === b);

const app = express();
app.set('views', VIEWS);
app.set('view engine', 'hbs');
app.set('view options', { layout: 'layouts/main' });
app.set('view cache', true);
app.disable('x-powered-by');

// A token of the app's length, so both pages carry the same number of bytes.
const CSRF = 'x'.repeat(128);
const common = { appName: 'TIXNGO Backoffice', csrfToken: CSRF };

app.get('/login', (_req, res) => res.render('auth/login', { ...common, next: '' }));
app.get('/', (_req, res) => {
  const currentUser = { name: 'Bench User 0', email: 'bench0@example.com', isAdmin: false };
  res.render('dashboard', { ...common, title: 'Dashboard', currentUser, pending: false, name: currentUser.name, email: currentUser.email, isAdmin: false });
});

app.listen(port, '127.0.0.1', () => console.log('listening'));
