import { AttemptsModule } from '../attempts/attempts.module';
import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { AuthModule } from '../auth/auth.module';
import { OrganizersModule } from '../organizers/organizers.module';
import { TwoFactorModule } from '../two-factor/two-factor.module';
import { UsersModule } from '../users/users.module';
import { AdminOrganizerController } from './admin-organizer.controller';
import { AdminOrganizerService } from './admin-organizer.service';
import { AdminUsersController } from './admin-users.controller';
import { AdminUserActionsService } from './admin-user-actions.service';
import { AdminUserListService } from './admin-user-list.service';
import { AdminUserPageService } from './admin-user-page.service';
import { SecurityLogController } from './security-log/security-log.controller';
import { SecurityLogService } from './security-log/security-log.service';

/** The admin pages: they drive users and two-factor, which know nothing of admin. */
@Module({
  imports: [OrganizersModule, UsersModule, AuthModule, TwoFactorModule, AuditModule, AttemptsModule],
  controllers: [AdminUsersController, AdminOrganizerController, SecurityLogController],
  providers: [
    AdminUserListService,
    AdminUserPageService,
    AdminUserActionsService,
    AdminOrganizerService,
    SecurityLogService,
  ],
})
export class AdminModule {}
