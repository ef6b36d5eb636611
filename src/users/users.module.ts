import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from '../audit/audit.module';
import { OrganizersModule } from '../organizers/organizers.module';
import { InvitationsService } from './invitations.service';
import { OneTimeToken } from './one-time-token.entity';
import { OneTimeTokensService } from './one-time-tokens.service';
import { PasswordHasher } from './password-hasher';
import { SecurityNoticesService } from './security-notices.service';
import { User } from './user.entity';
import { UsersService } from './users.service';

@Module({
  imports: [TypeOrmModule.forFeature([User, OneTimeToken]), AuditModule, OrganizersModule],
  providers: [UsersService, OneTimeTokensService, PasswordHasher, InvitationsService, SecurityNoticesService],
  exports: [UsersService, OneTimeTokensService, PasswordHasher, InvitationsService, SecurityNoticesService],
})
export class UsersModule {}
