import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';

/** Thrown at start when the environment is not usable; main prints the message and exits. */
export class ConfigError extends Error {}

/**
 * The whole configuration, validated once at start (PRODUCT.md, Configuration).
 * Nothing else in the app reads process.env.
 */
export class AppConfig {
  readonly port: number;
  readonly dataDir: string;
  /** `postgres://…` or undefined for SQLite in dataDir. */
  readonly databaseUrl?: string;
  readonly appSecret: string;
  readonly publicUrl: string;
  readonly smtpUrl?: string;
  readonly mailFrom: string;
  readonly appName: string;
  readonly production: boolean;
  /** Serve cookies as `__Host-…; Secure` because the public address is https. */
  readonly secureCookies: boolean;
  readonly dbPoolSize: number;
  readonly dbStatementTimeoutMs: number;
  /** Express `trust proxy` setting (hops or a list), for X-Forwarded-For behind a reverse proxy. */
  readonly trustProxy: string | number | false;
  /** Seed the demo organizer and admin on an empty database. */
  readonly seedDemoData: boolean;
  /** How many wrong passwords, codes and sign-ins from one client lock, and for how long. */
  readonly limits: AttemptLimits;
  /** Logs, metrics, shutdown and retention (issue 15). */
  readonly operations: OperationsConfig;
  /** The mail outbox (issue 15): how often each instance looks for due emails, and how long a claim holds. */
  readonly outboxPollMs: number;
  readonly outboxLeaseMs: number;

  constructor(values: Omit<AppConfig, never>) {
    Object.assign(this, values);
  }

  /**
   * The WebAuthn relying party: its id is PUBLIC_URL's host and the only origin accepted is
   * PUBLIC_URL's, never anything the request says (SECURITY.md 29).
   */
  get webauthn(): { rpId: string; origin: string } {
    const url = new URL(this.publicUrl);
    return { rpId: url.hostname, origin: url.origin };
  }

  get databaseKind(): 'sqlite' | 'postgres' {
    return this.databaseUrl ? 'postgres' : 'sqlite';
  }

  get sqlitePath(): string {
    return join(this.dataDir, 'backoffice.sqlite');
  }

  get mailDir(): string {
    return join(this.dataDir, 'mail');
  }

  /** Reads and checks the environment; throws ConfigError with one clear line on bad input. */
  static fromEnv(env: NodeJS.ProcessEnv = process.env): AppConfig {
    const nodeEnv = env.NODE_ENV ?? 'development';
    const production = nodeEnv === 'production';
    const port = integer(env.PORT, 3000, 'PORT', 0, 65535);
    const dataDirRaw = env.DATA_DIR || './var';
    const dataDir = isAbsolute(dataDirRaw) ? dataDirRaw : resolve(process.cwd(), dataDirRaw);

    const databaseUrl = env.DATABASE_URL || undefined;
    if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
      throw new ConfigError('DATABASE_URL must start with postgres:// (leave it unset for SQLite)');
    }

    const publicUrlRaw = env.PUBLIC_URL || `http://localhost:${port}`;
    let publicUrl: URL;
    try {
      publicUrl = new URL(publicUrlRaw);
    } catch {
      throw new ConfigError(`PUBLIC_URL is not a URL: ${publicUrlRaw}`);
    }
    if (publicUrl.protocol !== 'http:' && publicUrl.protocol !== 'https:') {
      throw new ConfigError('PUBLIC_URL must be http:// or https://');
    }

    const smtpUrl = env.SMTP_URL || undefined;
    if (smtpUrl && !/^smtps?:\/\//.test(smtpUrl)) {
      throw new ConfigError('SMTP_URL must start with smtp:// or smtps://');
    }

    let appSecret = env.APP_SECRET || '';
    if (!appSecret) {
      if (production) throw new ConfigError('APP_SECRET is required when NODE_ENV=production');
      appSecret = developmentSecret(dataDir);
    }
    if (appSecret.length < 32) {
      throw new ConfigError('APP_SECRET must be at least 32 characters (e.g. `openssl rand -hex 32`)');
    }

    const appName = env.APP_NAME || 'TIXNGO Backoffice';
    const trustProxyRaw = env.TRUST_PROXY;
    let trustProxy: string | number | false = false;
    if (trustProxyRaw) trustProxy = /^\d+$/.test(trustProxyRaw) ? Number(trustProxyRaw) : trustProxyRaw;

    return new AppConfig({
      port,
      dataDir,
      databaseUrl,
      appSecret,
      publicUrl: publicUrl.origin + publicUrl.pathname.replace(/\/$/, ''),
      smtpUrl,
      mailFrom: env.MAIL_FROM || 'TIXNGO Backoffice <no-reply@localhost>',
      appName,
      production,
      secureCookies: publicUrl.protocol === 'https:',
      dbPoolSize: integer(env.DB_POOL_SIZE, 10, 'DB_POOL_SIZE', 1, 1000),
      dbStatementTimeoutMs: integer(env.DB_STATEMENT_TIMEOUT_MS, 5000, 'DB_STATEMENT_TIMEOUT_MS', 0, 600000),
      trustProxy,
      seedDemoData: !production && env.SEED_DEMO_DATA !== 'false',
      limits: attemptLimits(env),
      operations: operationsConfig(env, production, port),
      outboxPollMs: integer(env.OUTBOX_POLL_MS, 2000, 'OUTBOX_POLL_MS', 100, 600_000),
      // Longer than an SMTP try can take (the transport's timeouts: ~40 s), or two instances may send one email.
      outboxLeaseMs: integer(env.OUTBOX_LEASE_MS, 120_000, 'OUTBOX_LEASE_MS', 1000, 3_600_000),
    } as AppConfig);
  }
}

/**
 * The numbers of every attempt limit (SECURITY.md 3, 24, 26), in one place. Each pool counts
 * failures and locks for `lockMinutes` when `maxFailures` is reached; the per-client pool
 * counts within a window of `lockMinutes` and is not cleared by a right password.
 */
export interface AttemptLimits {
  /** Wrong passwords in a row per account, in the untrusted pool and per device cookie (PRODUCT.md journey 6: 10). */
  password: { maxFailures: number; lockMinutes: number };
  /** Wrong codes (TOTP or recovery) in a row per account (PRODUCT.md journey 6: 5). */
  code: { maxFailures: number; lockMinutes: number };
  /** Wrong sign-ins from one client address (IPv6 by /64) across all accounts, browsers without a device cookie for the account. */
  client: { maxFailures: number; lockMinutes: number };
  /** How long a device cookie (a browser that signed in before) is trusted. */
  deviceCookieDays: number;
  /**
   * Forgot password: requests per address and per client address (IPv6 by /64) within a window
   * of `windowMinutes`, counted whether or not an account has the address (issue 14).
   */
  reset: { perAddress: number; perClient: number; windowMinutes: number };
}

/** SECURITY.md 3: never more than 100 failed passwords per account and hour. */
const MAX_FAILURES_PER_HOUR = 100;

function attemptLimits(env: NodeJS.ProcessEnv): AttemptLimits {
  const password = {
    maxFailures: integer(env.PASSWORD_MAX_FAILURES, 10, 'PASSWORD_MAX_FAILURES', 3, 100),
    lockMinutes: integer(env.PASSWORD_LOCK_MINUTES, 15, 'PASSWORD_LOCK_MINUTES', 1, 24 * 60),
  };
  if ((password.maxFailures * 60) / password.lockMinutes > MAX_FAILURES_PER_HOUR) {
    throw new ConfigError(
      `PASSWORD_MAX_FAILURES=${password.maxFailures} with PASSWORD_LOCK_MINUTES=${password.lockMinutes} allows more than ${MAX_FAILURES_PER_HOUR} wrong passwords an hour; lower the first or raise the second`,
    );
  }
  return {
    password,
    code: {
      maxFailures: integer(env.CODE_MAX_FAILURES, 5, 'CODE_MAX_FAILURES', 3, 20),
      lockMinutes: integer(env.CODE_LOCK_MINUTES, 15, 'CODE_LOCK_MINUTES', 1, 24 * 60),
    },
    client: {
      maxFailures: integer(env.CLIENT_MAX_FAILURES, 20, 'CLIENT_MAX_FAILURES', 5, 1_000_000),
      lockMinutes: integer(env.CLIENT_LOCK_MINUTES, 15, 'CLIENT_LOCK_MINUTES', 1, 24 * 60),
    },
    deviceCookieDays: integer(env.DEVICE_COOKIE_DAYS, 180, 'DEVICE_COOKIE_DAYS', 1, 400),
    reset: {
      perAddress: integer(env.RESET_MAX_PER_ADDRESS, 3, 'RESET_MAX_PER_ADDRESS', 1, 100),
      perClient: integer(env.RESET_MAX_PER_CLIENT, 10, 'RESET_MAX_PER_CLIENT', 1, 1_000_000),
      windowMinutes: integer(env.RESET_WINDOW_MINUTES, 60, 'RESET_WINDOW_MINUTES', 1, 24 * 60),
    },
  };
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevelName = (typeof LOG_LEVELS)[number];

/** Logs, metrics, graceful shutdown and retention (issue 15, README "Operating it"). */
export interface OperationsConfig {
  /** LOG_LEVEL: the lowest level written (default info). */
  logLevel: LogLevelName;
  /** LOG_FORMAT: one JSON object a line (production's default) or readable lines (development's). */
  logFormat: 'json' | 'pretty';
  /** LOG_ROUTES=true: write Nest's start-up route map (hidden by default). */
  logRoutes: boolean;
  /** METRICS_PORT: a second listener serving only /metrics, without a token (unset: none). */
  metricsPort?: number;
  /** METRICS_TOKEN: /metrics on the main port for `Authorization: Bearer <token>` (unset: 404 there). */
  metricsToken?: string;
  /** SHUTDOWN_GRACE_MS: how long requests in flight may take after SIGTERM before their connections are closed. */
  shutdownGraceMs: number;
  /** AUDIT_RETENTION_DAYS: audit events older than this are deleted by the pruner. */
  auditRetentionDays: number;
}

function operationsConfig(env: NodeJS.ProcessEnv, production: boolean, port: number): OperationsConfig {
  const logLevel = (env.LOG_LEVEL || 'info') as LogLevelName;
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${env.LOG_LEVEL}"`);
  }
  const logFormat = env.LOG_FORMAT || (production ? 'json' : 'pretty');
  if (logFormat !== 'json' && logFormat !== 'pretty') {
    throw new ConfigError(`LOG_FORMAT must be json or pretty, got "${env.LOG_FORMAT}"`);
  }
  const metricsPort =
    env.METRICS_PORT === undefined || env.METRICS_PORT === ''
      ? undefined
      : integer(env.METRICS_PORT, 0, 'METRICS_PORT', 0, 65535);
  if (metricsPort !== undefined && metricsPort !== 0 && metricsPort === port) {
    throw new ConfigError('METRICS_PORT must differ from PORT (or leave it unset and use METRICS_TOKEN)');
  }
  const metricsToken = env.METRICS_TOKEN || undefined;
  if (metricsToken !== undefined && (metricsToken.length < 32 || !/^[\x21-\x7e]+$/.test(metricsToken))) {
    throw new ConfigError(
      'METRICS_TOKEN must be at least 32 printable characters without spaces (e.g. `openssl rand -hex 32`)',
    );
  }
  return {
    logLevel,
    logFormat,
    logRoutes: boolean(env.LOG_ROUTES, false, 'LOG_ROUTES'),
    metricsPort,
    metricsToken,
    shutdownGraceMs: integer(env.SHUTDOWN_GRACE_MS, 10_000, 'SHUTDOWN_GRACE_MS', 0, 600_000),
    auditRetentionDays: integer(env.AUDIT_RETENTION_DAYS, 400, 'AUDIT_RETENTION_DAYS', 30, 36_500),
  };
}

function boolean(raw: string | undefined, fallback: boolean, name: string): boolean {
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  throw new ConfigError(`${name} must be true or false, got "${raw}"`);
}

function integer(raw: string | undefined, fallback: number, name: string, min: number, max: number): number {
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(`${name} must be a whole number, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(`${name} must be between ${min} and ${max}`);
  return value;
}

/** Development only: a random secret generated once and kept in DATA_DIR, so sessions survive restarts. */
function developmentSecret(dataDir: string): string {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, 'app-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const secret = randomBytes(32).toString('hex');
  writeFileSync(file, secret + '\n', { mode: 0o600 });
  return secret;
}
