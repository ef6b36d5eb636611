import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppConfig, ConfigError } from './app-config';

describe('AppConfig.fromEnv', () => {
  const dataDir = () => mkdtempSync(join(tmpdir(), 'tixngo-config-'));

  it('applies the documented defaults', () => {
    const dir = dataDir();
    const config = AppConfig.fromEnv({ DATA_DIR: dir });
    expect(config.port).toBe(3000);
    expect(config.publicUrl).toBe('http://localhost:3000');
    expect(config.appName).toBe('TIXNGO Backoffice');
    expect(config.mailFrom).toBe('TIXNGO Backoffice <no-reply@localhost>');
    expect(config.databaseKind).toBe('sqlite');
    expect(config.secureCookies).toBe(false);
    expect(config.seedDemoData).toBe(true);
    expect(config.limits.reset).toEqual({ perAddress: 3, perClient: 10, windowMinutes: 60 });
  });

  it('reads the forgot-password limits and refuses values out of range', () => {
    const config = AppConfig.fromEnv({
      DATA_DIR: dataDir(),
      RESET_MAX_PER_ADDRESS: '5',
      RESET_MAX_PER_CLIENT: '50',
      RESET_WINDOW_MINUTES: '30',
    });
    expect(config.limits.reset).toEqual({ perAddress: 5, perClient: 50, windowMinutes: 30 });
    expect(() => AppConfig.fromEnv({ DATA_DIR: dataDir(), RESET_MAX_PER_ADDRESS: '0' })).toThrow(
      /RESET_MAX_PER_ADDRESS must be between 1 and 100/,
    );
    expect(() => AppConfig.fromEnv({ DATA_DIR: dataDir(), RESET_MAX_PER_CLIENT: 'many' })).toThrow(
      /RESET_MAX_PER_CLIENT must be a whole number/,
    );
    expect(() => AppConfig.fromEnv({ DATA_DIR: dataDir(), RESET_WINDOW_MINUTES: '100000' })).toThrow(
      /RESET_WINDOW_MINUTES/,
    );
  });

  it('generates a development secret once into DATA_DIR', () => {
    const dir = dataDir();
    const first = AppConfig.fromEnv({ DATA_DIR: dir }).appSecret;
    expect(readFileSync(join(dir, 'app-secret'), 'utf8').trim()).toBe(first);
    expect(AppConfig.fromEnv({ DATA_DIR: dir }).appSecret).toBe(first);
  });

  it('refuses to start in production without APP_SECRET, and turns off demo data', () => {
    expect(() => AppConfig.fromEnv({ NODE_ENV: 'production', DATA_DIR: dataDir() })).toThrow(ConfigError);
    const config = AppConfig.fromEnv({ NODE_ENV: 'production', DATA_DIR: dataDir(), APP_SECRET: 'x'.repeat(32) });
    expect(config.seedDemoData).toBe(false);
  });

  it('turns on secure cookies for an https PUBLIC_URL', () => {
    expect(
      AppConfig.fromEnv({ DATA_DIR: dataDir(), PUBLIC_URL: 'https://backoffice.example.com/' }).secureCookies,
    ).toBe(true);
  });

  it('reads the operations settings (issue 15) with their defaults, and refuses bad ones with one line', () => {
    expect(AppConfig.fromEnv({ DATA_DIR: dataDir() }).operations).toEqual({
      logLevel: 'info',
      logFormat: 'pretty',
      logRoutes: false,
      metricsPort: undefined,
      metricsToken: undefined,
      shutdownGraceMs: 10_000,
      auditRetentionDays: 400,
    });
    const token = 'a'.repeat(32);
    const production = AppConfig.fromEnv({
      DATA_DIR: dataDir(),
      NODE_ENV: 'production',
      APP_SECRET: 'x'.repeat(32),
      LOG_LEVEL: 'debug',
      LOG_ROUTES: 'true',
      METRICS_PORT: '9464',
      METRICS_TOKEN: token,
      SHUTDOWN_GRACE_MS: '2500',
      AUDIT_RETENTION_DAYS: '90',
    }).operations;
    expect(production).toEqual({
      logLevel: 'debug',
      logFormat: 'json',
      logRoutes: true,
      metricsPort: 9464,
      metricsToken: token,
      shutdownGraceMs: 2500,
      auditRetentionDays: 90,
    });
    const refused = (env: Record<string, string>) => () => AppConfig.fromEnv({ DATA_DIR: dataDir(), ...env });
    expect(refused({ LOG_LEVEL: 'loud' })).toThrow(
      /^LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent/,
    );
    expect(refused({ LOG_FORMAT: 'xml' })).toThrow(/^LOG_FORMAT must be json or pretty/);
    expect(refused({ LOG_ROUTES: 'yes' })).toThrow(/^LOG_ROUTES must be true or false/);
    expect(refused({ METRICS_PORT: '70000' })).toThrow(/^METRICS_PORT must be between 0 and 65535/);
    expect(refused({ METRICS_PORT: '3000' })).toThrow(/^METRICS_PORT must differ from PORT/);
    expect(refused({ METRICS_TOKEN: 'short' })).toThrow(/^METRICS_TOKEN must be at least 32/);
    expect(refused({ METRICS_TOKEN: `${'b'.repeat(32)} c` })).toThrow(/^METRICS_TOKEN/);
    expect(refused({ SHUTDOWN_GRACE_MS: '-1' })).toThrow(/^SHUTDOWN_GRACE_MS must be a whole number/);
    expect(refused({ AUDIT_RETENTION_DAYS: '7' })).toThrow(/^AUDIT_RETENTION_DAYS must be between 30 and 36500/);
    const bad: Record<string, string>[] = [
      { LOG_LEVEL: 'loud' },
      { METRICS_TOKEN: 'short' },
      { AUDIT_RETENTION_DAYS: '7' },
    ];
    for (const env of bad) {
      expect(() => refused(env)()).toThrow(ConfigError);
      try {
        refused(env)();
      } catch (error) {
        expect((error as Error).message).not.toContain('\n');
      }
    }
  });

  it('refuses bad values with one clear message', () => {
    expect(() => AppConfig.fromEnv({ DATA_DIR: dataDir(), PORT: 'abc' })).toThrow(/PORT/);
    expect(() => AppConfig.fromEnv({ DATA_DIR: dataDir(), DATABASE_URL: 'mysql://x' })).toThrow(/DATABASE_URL/);
    expect(() => AppConfig.fromEnv({ DATA_DIR: dataDir(), APP_SECRET: 'short' })).toThrow(/APP_SECRET/);
    expect(() => AppConfig.fromEnv({ DATA_DIR: dataDir(), SMTP_URL: 'http://x' })).toThrow(/SMTP_URL/);
  });
});
