import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Server } from 'node:http';
import { AppModule } from '../../src/app.module';
import { configureApp, migrate } from '../../src/app.setup';
import { AppConfig } from '../../src/config/app-config';
import type { LogDestination } from '../../src/operations/logging';
import { ManualClock } from './manual-clock';
import { OrganizersService } from '../../src/organizers/organizers.service';
import { Role, User } from '../../src/users/user.entity';
import { UsersService } from '../../src/users/users.service';
import { resetPostgresSchema } from './postgres';

export const TEST_SECRET = 'test-app-secret-0123456789abcdef0123456789abcdef';
/** A fixed start so time-dependent tests repeat: 2026-01-15 09:00:00 UTC. */
export const TEST_START = Date.UTC(2026, 0, 15, 9, 0, 0);

/** The environment of a test app (and of the CLI run against it): PostgreSQL when TEST_DATABASE_URL is set. */
export function testEnv(dataDir: string): NodeJS.ProcessEnv {
  return {
    NODE_ENV: 'test',
    DATA_DIR: dataDir,
    APP_SECRET: TEST_SECRET,
    PUBLIC_URL: 'http://localhost:3000',
    SEED_DEMO_DATA: 'false',
    // Every test signs in from 127.0.0.1: the per-client limit is tested on its own, with its default (attempt-limits.e2e-spec.ts).
    CLIENT_MAX_FAILURES: '100000',
    ...(process.env.TEST_DATABASE_URL ? { DATABASE_URL: process.env.TEST_DATABASE_URL } : {}),
  };
}

export interface TestApp {
  app: NestExpressApplication;
  server: Server;
  clock: ManualClock;
  config: AppConfig;
  dataDir: string;
  get<T>(type: abstract new (...args: never[]) => T): T;
  close(): Promise<void>;
}

export interface TestAppOptions {
  env?: Record<string, string>;
  clock?: ManualClock;
  /** Keep the database as it is (a second instance on the same database). */
  keepDatabase?: boolean;
  dataDir?: string;
  /**
   * Where the app's log lines go (default: stdout, errors only; set LOG_LEVEL in `env` for
   * more). A test that reads the logs passes a stream of its own.
   */
  logDestination?: LogDestination;
}

/**
 * The real app (same setup as main.ts) on a fresh SQLite file in a temp folder, or on
 * PostgreSQL when TEST_DATABASE_URL is set (npm run test:postgres), with a manual clock.
 */
export async function createTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'tixngo-test-'));
  const databaseUrl = process.env.TEST_DATABASE_URL;
  if (databaseUrl && !options.keepDatabase) await resetPostgresSchema(databaseUrl);
  const config = AppConfig.fromEnv({ ...testEnv(dataDir), LOG_LEVEL: 'error', ...options.env });
  const clock = options.clock ?? new ManualClock(TEST_START);
  const app = await NestFactory.create<NestExpressApplication>(
    AppModule.forRoot({ config, clock, logDestination: options.logDestination }),
    { bodyParser: false, bufferLogs: true },
  );
  configureApp(app);
  await migrate(app);
  await app.init();
  return {
    app,
    server: app.getHttpServer(),
    clock,
    config,
    dataDir,
    get: (type) => app.get(type as never),
    close: async () => {
      await app.close();
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export const DEFAULT_PASSWORD = 'correct horse battery staple';

let counter = 0;

/** Creates an organizer and a user in it through the services (not the UI). */
export async function createUser(
  t: TestApp,
  options: {
    email?: string;
    name?: string;
    role?: Role;
    twoFactor?: boolean;
    password?: string | null;
    organizer?: string;
  } = {},
): Promise<User> {
  const organizers = t.get(OrganizersService);
  const organizerName = options.organizer ?? 'Acme Events';
  const organizer = (await organizers.findByName(organizerName)) ?? (await organizers.create(organizerName));
  counter += 1;
  return t.get(UsersService).create({
    organizerId: organizer.id,
    email: options.email ?? `user${counter}-${Date.now()}@example.com`,
    name: options.name ?? `User ${counter}`,
    role: options.role ?? 'member',
    twoFactorRequired: options.twoFactor ?? true,
    password: options.password === null ? undefined : (options.password ?? DEFAULT_PASSWORD),
  });
}
