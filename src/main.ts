import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from './app.module';
import { configureApp, migrate } from './app.setup';
import { AuthSessionService } from './auth/auth-session.service';
import { AttemptLimiter } from './attempts/attempt-limiter.service';
import { AppConfig, ConfigError } from './config/app-config';
import { DEMO, seedDemoData } from './seed';

const PRUNE_EVERY_MS = 10 * 60 * 1000;

async function bootstrap(): Promise<void> {
  let config: AppConfig;
  try {
    config = AppConfig.fromEnv();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`Configuration error: ${error.message}`);
      process.exit(1);
    }
    throw error;
  }
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot({ config }), { bodyParser: false });
  configureApp(app);
  await migrate(app);
  const logger = new Logger('Backoffice');
  const seeded = config.seedDemoData && (await seedDemoData(app));

  const prune = async () => {
    await app.get(AuthSessionService).store.prune();
    await app.get(AttemptLimiter).prune();
  };
  const timer = setInterval(() => prune().catch((error) => logger.warn(`Pruning failed: ${error}`)), PRUNE_EVERY_MS);
  timer.unref();

  await app.listen(config.port);
  logger.log(
    `${config.appName} listening on ${config.publicUrl} (${config.databaseKind}${config.databaseKind === 'sqlite' ? `: ${config.sqlitePath}` : ''})`,
  );
  if (seeded) {
    logger.log(
      `Demo data created. Sign in at ${config.publicUrl}/login as ${DEMO.email} / ${DEMO.password} (organizer ${DEMO.organizer}, 2FA on, not yet set up).`,
    );
  }
  if (!config.smtpUrl) logger.log(`Emails are written as .eml files to ${config.mailDir}`);
}

void bootstrap();
