'use strict';
/**
 * The framework's floor: bare NestJS (Express adapter) + helmet with its defaults,
 * rendering the same views/auth/login.hbs in the same layout as bench/baseline-server.js,
 * with no session, no CSRF token, no guard, no interceptor and no database. The bench
 * measures it beside the app's GET /login, so the table shows how much of the gap to
 * bare Express is the framework's and how much the app's.
 * node bench/nest-baseline-server.js <port>; prints "listening" when ready. 127.0.0.1 only.
 */
require('reflect-metadata');
const { NestFactory } = require('@nestjs/core');
const { Controller, Get, Module, Res } = require('@nestjs/common');
const helmet = require('helmet');
const { configureViews, LOGIN_MODEL, VIEWS } = require('./lib/views');

const port = Number(process.argv[2]);

class LoginController {
  login(res) {
    res.render('auth/login', LOGIN_MODEL);
  }
}
// The decorators, applied by hand (this file is plain JavaScript).
Res()(LoginController.prototype, 'login', 0);
Reflect.decorate(
  [Get('login')],
  LoginController.prototype,
  'login',
  Object.getOwnPropertyDescriptor(LoginController.prototype, 'login'),
);
Controller()(LoginController);

class BaselineModule {}
Module({ controllers: [LoginController] })(BaselineModule);

async function main() {
  const app = await NestFactory.create(BaselineModule, { logger: ['error'], bodyParser: false });
  app.use((helmet.default ?? helmet)());
  app.setBaseViewsDir(VIEWS);
  configureViews(app);
  await app.listen(port, '127.0.0.1');
  console.log('listening');
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
