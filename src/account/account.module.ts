import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { AuthModule } from '../auth/auth.module';
import { TwoFactorModule } from '../two-factor/two-factor.module';
import { UsersModule } from '../users/users.module';
import { AccountController } from './account.controller';
import { AccountService } from './account.service';
import { InvitationsController } from './invitations.controller';
import { LanguageController } from './language.controller';
import { NotMeController } from './not-me.controller';
import { NotMeService } from './not-me.service';
import { SessionsController } from './sessions.controller';

/** /account: every signed-in user's own password, authenticator, recovery codes and sessions; /not-me links; the invitation link. */
@Module({
  imports: [AuthModule, TwoFactorModule, UsersModule, AuditModule],
  controllers: [AccountController, SessionsController, NotMeController, InvitationsController, LanguageController],
  providers: [AccountService, NotMeService],
})
export class AccountModule {}
