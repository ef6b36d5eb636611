import { AttemptsModule } from '../attempts/attempts.module';
import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from '../audit/audit.module';
import { AuthModule } from '../auth/auth.module';
import { UsersModule } from '../users/users.module';
import { RecoveryCode } from './recovery-code.entity';
import { RecoveryCodesService } from './recovery-codes.service';
import { TwoFactorAdminService } from './two-factor-admin.service';
import { TwoFactorController } from './two-factor.controller';
import { TwoFactorBanner } from './two-factor-banner';
import { TwoFactorService } from './two-factor.service';

@Module({
  imports: [TypeOrmModule.forFeature([RecoveryCode]), AuthModule, UsersModule, AuditModule, AttemptsModule],
  controllers: [TwoFactorController],
  providers: [TwoFactorService, RecoveryCodesService, TwoFactorAdminService, TwoFactorBanner],
  exports: [TwoFactorService, RecoveryCodesService, TwoFactorAdminService],
})
export class TwoFactorModule {}
