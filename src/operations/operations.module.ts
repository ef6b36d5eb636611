import { DynamicModule, Global, Module, Provider } from '@nestjs/common';
import { AppLogger, LOG_DESTINATION, LogDestination } from './logging';
import { MetricsServer } from './metrics-endpoint';
import { MetricsService } from './metrics.service';
import { PrunerService } from './pruner.service';

/**
 * Logs, metrics and the pruner (issue 15): global, so any feature can record a metric, and a
 * leaf: it imports no feature (the pruner's steps are registered by app.setup.ts).
 */
@Global()
@Module({})
export class OperationsModule {
  static forRoot(options: { logDestination?: LogDestination } = {}): DynamicModule {
    const providers: Provider[] = [AppLogger, MetricsService, MetricsServer, PrunerService];
    if (options.logDestination) providers.push({ provide: LOG_DESTINATION, useValue: options.logDestination });
    return {
      module: OperationsModule,
      providers,
      exports: [AppLogger, MetricsService, MetricsServer, PrunerService],
    };
  }
}
