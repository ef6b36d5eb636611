'use strict';
/**
 * The baseline: bare Express + hbs rendering the app's own templates (views/auth/login.hbs
 * and views/dashboard.hbs inside views/layouts/main.hbs, with the same partials and
 * helpers and the view cache on), with no middleware, no session, no CSRF and no database.
 * node bench/baseline-server.js <port>; prints "listening" when ready. 127.0.0.1 only.
 */
const express = require('express');
const { configureViews, COMMON, LOGIN_MODEL } = require('./lib/views');

const port = Number(process.argv[2]);

const app = express();
configureViews(app);

app.get('/login', (_req, res) => res.render('auth/login', LOGIN_MODEL));
app.get('/', (_req, res) => {
  const currentUser = { name: 'Bench User 0', email: 'bench0@example.com', isAdmin: false };
  res.render('dashboard', {
    ...COMMON,
    title: 'layout.nav.dashboard',
    currentPath: '/',
    currentUser,
    pending: false,
    name: currentUser.name,
    email: currentUser.email,
    isAdmin: false,
  });
});

app.listen(port, '127.0.0.1', () => console.log('listening'));
