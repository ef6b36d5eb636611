import { INestApplicationContext, Logger, ValidationError, ValidationPipe } from '@nestjs/common';
import { NestExpressApplication } from '@nestjs/platform-express';
import cookieParser from 'cookie-parser';
import express, { NextFunction, Request, Response } from 'express';
import session from 'express-session';
import helmet from 'helmet';
import hbs from 'hbs';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { DataSource } from 'typeorm';
import { AttemptLimiter } from './attempts/attempt-limiter.service';
import { AuditService } from './audit/audit.service';
import { CHART_DAYS } from './admin/security-log/security-chart';
import { AuthSessionService } from './auth/auth-session.service';
import { Clock } from './common/clock';
import { SESSION_IDLE_MS, sessionCookie } from './auth/session-store';
import { AppConfig } from './config/app-config';
import { KeyRing } from './common/crypto/key-ring';
import { MailService } from './mail/mail.service';
import { OutboxWorker } from './mail/outbox.worker';
import { isDatabaseUnavailable } from './database/database-errors';
import { runPendingMigrations } from './database/migrate';
import { FieldErrorsException } from './common/exceptions';
import { ERROR_TITLES } from './common/app-exception.filter';
import { registerViewHelpers } from './common/view-helpers';
import { Catalogue } from './i18n/catalogue';
import { registerI18nHelpers } from './i18n/i18n-helpers';
import { requestLanguage } from './i18n/request-locale';
import { languageSwitch } from './i18n/language-switch';
import { renderGuard } from './common/render-guard';
import { LayoutLocals } from './common/layout-locals';
import { AppLogger, labelRoute, requestLogging } from './operations/logging';
import { metricsOnMainPort } from './operations/metrics-endpoint';
import { MetricsService } from './operations/metrics.service';
import { PrunerService } from './operations/pruner.service';
import { GracefulShutdown } from './operations/shutdown';

export const ROOT_DIR = join(__dirname, '..');
export const VIEWS_DIR = join(ROOT_DIR, 'views');
export const PUBLIC_DIR = join(ROOT_DIR, 'public');
const SIMPLEWEBAUTHN_BROWSER_DIR = join(dirname(require.resolve('@simplewebauthn/browser')), '..', 'dist', 'bundle');

/**
 * Permissions-Policy: the browser features the pages never use are off, for the site and any
 * frame; passkeys (WebAuthn, next) and the Copy buttons (clipboard-write) stay for the site itself.
 * `clipboard-read` keeps the browser's default (the site itself, behind the browser's own
 * prompt): the browser tests read back what Copy put there.
 */
const PERMISSIONS_POLICY = [
  ...['publickey-credentials-get', 'publickey-credentials-create', 'clipboard-write'].map(
    (feature) => `${feature}=(self)`,
  ),
  ...[
    'accelerometer',
    'ambient-light-sensor',
    'attribution-reporting',
    'autoplay',
    'bluetooth',
    'browsing-topics',
    'camera',
    'display-capture',
    'document-domain',
    'encrypted-media',
    'fullscreen',
    'gamepad',
    'geolocation',
    'gyroscope',
    'hid',
    'identity-credentials-get',
    'idle-detection',
    'local-fonts',
    'magnetometer',
    'microphone',
    'midi',
    'otp-credentials',
    'payment',
    'picture-in-picture',
    'screen-wake-lock',
    'serial',
    'storage-access',
    'sync-xhr',
    'usb',
    'web-share',
    'window-management',
    'xr-spatial-tracking',
  ].map((feature) => `${feature}=()`),
].join(', ');

const DAY_MS = 86_400_000;

/**
 * Everything around the routes, shared by main.ts and the tests so they run the same app:
 * logs and metrics, headers, body parsing, sessions, views, validation, the pruner's steps.
 * Call before app.init()/listen(). Returns the graceful shutdown, which main.ts arms.
 */
export function configureApp(app: NestExpressApplication): { shutdown: GracefulShutdown } {
  const config = app.get(AppConfig);
  const keys = app.get(KeyRing);
  const sessionService = app.get(AuthSessionService);
  const expressApp = app.getHttpAdapter().getInstance() as express.Express;
  const logger = app.get(AppLogger);
  const metrics = app.get(MetricsService);
  const shutdown = new GracefulShutdown(app, app.getHttpServer(), logger, config.operations.shutdownGraceMs);

  // Nest's own log lines (every `new Logger(…)`) go through pino from now on.
  app.useLogger(logger);
  // First: every request is timed and gets its one log line, error pages before routing included.
  app.use(requestLogging(logger, (finished) => metrics.request(finished)));
  app.use(shutdown.middleware());
  registerPruning(app);
  // The outbox's depth at each scrape, and each email it gives up on.
  metrics.watchOutbox(app.get(MailService));
  app.get(OutboxWorker).onGiveUp(() => metrics.outboxFailed());

  app.set('trust proxy', config.trustProxy);
  app.disable('x-powered-by');
  // Every page is Cache-Control: no-store (helmet + ours): an ETag would be a SHA-1 of each body for nothing.
  app.set('etag', false);
  app.use(
    helmet({
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'"],
          imgSrc: ["'self'", 'data:'],
          fontSrc: ["'self'"],
          connectSrc: ["'self'"],
          formAction: ["'self'"],
          frameAncestors: ["'none'"],
          baseUri: ["'none'"],
          objectSrc: ["'none'"],
          ...(config.secureCookies ? { upgradeInsecureRequests: [] } : {}),
        },
      },
      strictTransportSecurity: config.secureCookies,
      referrerPolicy: { policy: 'same-origin' },
    }),
  );
  // Helmet 8 sets no Permissions-Policy; here, before anything can answer, so error pages have it too.
  app.use((_req: Request, res: Response, next: NextFunction) => {
    res.setHeader('Permissions-Policy', PERMISSIONS_POLICY);
    next();
  });
  // Before cookies and sessions are read: a scrape never makes a session or a CSRF cookie.
  app.use(metricsOnMainPort(config, metrics));
  // Every render, the error pages before routing included: request data never becomes render options.
  app.use(renderGuard(app.get(LayoutLocals)));
  app.use('/assets/', (req: Request, _res: Response, next: NextFunction) => {
    labelRoute(req, '/assets/*');
    next();
  });
  app.useStaticAssets(PUBLIC_DIR, { prefix: '/assets/', maxAge: '1h', index: false });
  // The browser half of @simplewebauthn, served from our own origin (no CDN: the CSP stays 'self').
  app.useStaticAssets(SIMPLEWEBAUTHN_BROWSER_DIR, {
    prefix: '/assets/vendor/simplewebauthn/',
    maxAge: '1h',
    index: false,
  });

  // Nothing dynamic is cacheable: pages show personal data, secrets or recovery codes.
  app.use((_req: Request, res: Response, next: NextFunction) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  });
  // Cookies before the body: a body the parser refuses still gets its error page in the language menu's language.
  app.use(cookieParser());
  app.use(express.urlencoded({ extended: false, limit: '32kb', parameterLimit: 100 }));
  app.use(languageSwitch);
  const cookie = sessionCookie(config);
  const sessions = session({
    name: cookie.name,
    secret: keys.key('session-cookie').toString('hex'),
    store: sessionService.store,
    resave: false,
    saveUninitialized: false,
    rolling: true,
    unset: 'destroy',
    cookie: { ...cookie.options, maxAge: SESSION_IDLE_MS },
  });
  // A visitor without a session cookie reading a page cannot need one (no session is
  // made before it is changed, and no GET changes one): skip express-session's per-request
  // set-up for them, a sixth of the login page's cost (bench, issue 6).
  app.use((req: Request, res: Response, next: NextFunction) =>
    (req.method === 'GET' || req.method === 'HEAD') && !sessionService.hasSessionCookie(req)
      ? next()
      : sessions(req, res, next),
  );

  // Errors of the middleware above (bad body, database down while reading the session).
  expressApp.locals.appName = config.appName;
  expressApp.use(middlewareErrorPage(app.get(Catalogue)));

  app.setBaseViewsDir(VIEWS_DIR);
  app.setViewEngine('hbs');
  app.set('view options', { layout: 'layouts/main' });
  app.set('view cache', true);
  registerPartials();
  registerViewHelpers(hbs);
  registerI18nHelpers(hbs, app.get(Catalogue));

  app.useGlobalPipes(
    new ValidationPipe({
      whitelist: true,
      transform: true,
      stopAtFirstError: true,
      exceptionFactory: (errors: ValidationError[]) => new FieldErrorsException(fieldErrors(errors)),
    }),
  );
  return { shutdown };
}

/**
 * What the pruner deletes (operations/pruner.service.ts runs it every 10 minutes): expired
 * sessions, old attempt counters, and audit events older than AUDIT_RETENTION_DAYS.
 */
function registerPruning(app: NestExpressApplication): void {
  const pruner = app.get(PrunerService);
  const clock = app.get(Clock);
  const retentionMs = app.get(AppConfig).operations.auditRetentionDays * DAY_MS;
  pruner.register('expired sessions', () => app.get(AuthSessionService).store.prune());
  pruner.register('attempt counters', () => app.get(AttemptLimiter).prune());
  pruner.register('audit events', () => app.get(AuditService).prune(new Date(clock.nowMs() - retentionMs)));
  // The chart's kept day counts: a month past the chart's first day, in case the clock is set back.
  pruner.register('security log day counts', () =>
    app.get(AuditService).pruneDayCounts(new Date(clock.nowMs() - 2 * CHART_DAYS * DAY_MS)),
  );
  pruner.register('sent and failed emails', () => app.get(MailService).prune());
}

/** Partials are registered once, synchronously, so the first request can use them. */
function registerPartials(dir = join(VIEWS_DIR, 'partials')): void {
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) registerPartials(path);
    else if (entry.endsWith('.hbs')) {
      hbs.registerPartial(
        relative(join(VIEWS_DIR, 'partials'), path).replace(/\.hbs$/, ''),
        readFileSync(path, 'utf8'),
      );
    }
  }
}

function fieldErrors(errors: ValidationError[]): Record<string, string> {
  const result: Record<string, string> = {};
  for (const error of errors) {
    const messages = Object.values(error.constraints ?? {});
    if (messages.length) result[error.property] = messages[0];
  }
  return result;
}

/** The error page of a request refused before routing (a body the parser refused), in the language the request asks for. */
function middlewareErrorPage(catalogue: Catalogue) {
  return (
    error: { status?: number; statusCode?: number; type?: string },
    req: Request,
    res: Response,
    _next: NextFunction,
  ) => {
    const status = error.status ?? error.statusCode ?? (isDatabaseUnavailable(error) ? 503 : 500);
    const code = status >= 400 && status < 600 ? status : 500;
    if (code >= 500) {
      const failure = error as Error;
      new Logger('Request').error(`Request failed before routing: ${failure.message ?? String(error)}`, failure.stack);
    }
    const message =
      code === 413 ? 'errors.body.tooLarge' : code >= 500 ? 'errors.body.unavailable' : 'errors.body.unreadable';
    const text = catalogue.format(requestLanguage(req), message);
    // The error page in the layout (no session, no user: nothing here needs the database); plain text if even that fails.
    const title = ERROR_TITLES[code === 413 ? 413 : code >= 500 ? 503 : 400];
    if (req.path === '/healthz' || req.accepts(['html', 'json']) === 'json') {
      res.status(code).json({ status: 'error', statusCode: code, message: text });
      return;
    }
    res.status(code).render('errors/error', { title, status: code, message, signedOut: true }, (renderError, html) => {
      if (renderError) res.type('text/plain').send(text);
      else res.type('html').send(html);
    });
  };
}

/**
 * Runs pending migrations: the schema is only ever changed by them (synchronize is off).
 * Instances starting together on PostgreSQL take turns (database/migrate.ts).
 */
export async function migrate(app: INestApplicationContext): Promise<void> {
  await runPendingMigrations(app.get(DataSource));
}
