import { I18nModule } from './i18n/i18n.module';
import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_INTERCEPTOR } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AdminModule } from './admin/admin.module';
import { AccountModule } from './account/account.module';
import { AuditModule } from './audit/audit.module';
import { AuthModule } from './auth/auth.module';
import { SessionGuard } from './auth/session.guard';
import { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { AppExceptionFilter } from './common/app-exception.filter';
import { Clock, SystemClock } from './common/clock';
import { CryptoModule } from './common/crypto/crypto.module';
import { CsrfGuard } from './common/csrf';
import { HealthController } from './common/health.controller';
import { NotFoundModule } from './common/not-found.module';
import { FormViewInterceptor } from './common/form-view.interceptor';
import { LayoutModule } from './common/layout-locals';
import { dataSourceOptions } from './database/data-source-options';
import { DatabaseModule } from './database/database.module';
import { ENTITIES } from './entities';
import { MailModule } from './mail/mail.module';
import type { LogDestination } from './operations/logging';
import { OperationsModule } from './operations/operations.module';
import { OrganizersModule } from './organizers/organizers.module';
import { PasswordResetModule } from './password-reset/password-reset.module';
import { TwoFactorModule } from './two-factor/two-factor.module';
import { UsersModule } from './users/users.module';

export interface AppModuleOptions {
  config: AppConfig;
  /** Tests pass a clock they can move. */
  clock?: Clock;
  /** Where log lines go instead of stdout (tests read them). */
  logDestination?: LogDestination;
}

@Module({})
export class AppModule {
  static forRoot({ config, clock = new SystemClock(), logDestination }: AppModuleOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        TypeOrmModule.forRoot(dataSourceOptions(config, ENTITIES)),
        DatabaseModule,
        ClockModule.forRoot(clock),
        OperationsModule.forRoot({ logDestination }),
        CryptoModule,
        I18nModule,
        LayoutModule,
        MailModule,
        AuditModule,
        OrganizersModule,
        UsersModule,
        AuthModule,
        TwoFactorModule,
        AdminModule,
        AccountModule,
        PasswordResetModule,
        // Last: its catch-all route must come after every other route.
        NotFoundModule,
      ],
      controllers: [HealthController],
      providers: [
        // Order matters: CSRF first (nothing changes without a token), then the sign-in state.
        { provide: APP_GUARD, useClass: CsrfGuard },
        { provide: APP_GUARD, useExisting: SessionGuard },
        { provide: APP_INTERCEPTOR, useClass: FormViewInterceptor },
        { provide: APP_FILTER, useClass: AppExceptionFilter },
      ],
    };
  }
}

@Module({})
class ClockModule {
  static forRoot(clock: Clock): DynamicModule {
    return { module: ClockModule, global: true, providers: [{ provide: Clock, useValue: clock }], exports: [Clock] };
  }
}
