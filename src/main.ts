import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { AddressInfo } from 'node:net';
import { AppModule } from './app.module';
import { configureApp, migrate } from './app.setup';
import { AppConfig, ConfigError } from './config/app-config';
import { MetricsServer } from './operations/metrics-endpoint';
import { PrunerService } from './operations/pruner.service';
import { DEMO, seedDemoData } from './seed';

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
  // Nest's start-up lines wait for the app's logger (pino), which configureApp installs.
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot({ config }), {
    bodyParser: false,
    bufferLogs: true,
  });
  const { shutdown } = configureApp(app);
  await migrate(app);
  const logger = new Logger('Backoffice');
  const seeded = config.seedDemoData && (await seedDemoData(app));

  app.get(PrunerService).start();
  await app.listen(config.port);
  // SIGTERM/SIGINT: stop accepting, finish the requests in flight, close the app, exit 0.
  shutdown.listen();
  await app.get(MetricsServer).start();
  const port = (app.getHttpServer().address() as AddressInfo).port;
  logger.log(
    `${config.appName} listening on port ${port}, ${config.publicUrl} (${config.databaseKind}${config.databaseKind === 'sqlite' ? `: ${config.sqlitePath}` : ''})`,
  );
  if (seeded) {
    logger.log(
      `Demo data created. Sign in at ${config.publicUrl}/login as ${DEMO.email} / ${DEMO.password} (organizer ${DEMO.organizer}, 2FA on, not yet set up).`,
    );
  }
  if (!config.smtpUrl) logger.log(`Emails are written as .eml files to ${config.mailDir}`);
}

void bootstrap();
