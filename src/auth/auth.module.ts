import { Module } from '@nestjs/common';
import { PassportModule } from '@nestjs/passport';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AttemptsModule } from '../attempts/attempts.module';
import { AuditModule } from '../audit/audit.module';
import { OrganizersModule } from '../organizers/organizers.module';
import { User } from '../users/user.entity';
import { UsersModule } from '../users/users.module';
import { AuthSessionService } from './auth-session.service';
import { AuthController, DashboardController } from './auth.controller';
import { DeviceCookies } from './device-cookies';
import { LocalStrategy } from './local.strategy';
import { LoginService } from './login.service';
import { SessionGuard } from './session.guard';
import { SignedInLayout } from './signed-in-layout';
import { SessionRecord } from './session.entity';
import { UserSessionsService } from './user-sessions.service';

@Module({
  imports: [
    TypeOrmModule.forFeature([SessionRecord, User]),
    PassportModule,
    OrganizersModule,
    UsersModule,
    AuditModule,
    AttemptsModule,
  ],
  controllers: [AuthController, DashboardController],
  providers: [
    AuthSessionService,
    LoginService,
    LocalStrategy,
    SessionGuard,
    DeviceCookies,
    SignedInLayout,
    UserSessionsService,
  ],
  exports: [AuthSessionService, LoginService, SessionGuard, UserSessionsService],
})
export class AuthModule {}
