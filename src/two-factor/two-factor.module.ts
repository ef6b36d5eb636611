import { Module } from '@nestjs/common';
import { AttemptsModule } from '../attempts/attempts.module';
import { AuditModule } from '../audit/audit.module';
import { AuthModule } from '../auth/auth.module';
import { OrganizersModule } from '../organizers/organizers.module';
import { UsersModule } from '../users/users.module';
import { FactorsModule } from './factors/factors.module';
import { OrganizerPolicyService } from './organizer-policy.service';
import { PasskeySignInController } from './passkeys/passkey-sign-in.controller';
import { PasskeysService } from './passkeys/passkeys.service';
import { TwoFactorAdminService } from './two-factor-admin.service';
import { TwoFactorBanner } from './two-factor-banner';
import { TwoFactorController } from './two-factor.controller';
import { TwoFactorService } from './two-factor.service';

/** The second step of sign-in and everything about second factors: setup, verification, the admin's changes, the organizer policy. */
@Module({
  imports: [FactorsModule, AuthModule, UsersModule, OrganizersModule, AuditModule, AttemptsModule],
  controllers: [TwoFactorController, PasskeySignInController],
  providers: [TwoFactorService, TwoFactorAdminService, TwoFactorBanner, OrganizerPolicyService, PasskeysService],
  exports: [TwoFactorService, TwoFactorAdminService, OrganizerPolicyService, PasskeysService, FactorsModule],
})
export class TwoFactorModule {}
