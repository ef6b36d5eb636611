import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { OneTimeToken } from './one-time-token.entity';
import { OneTimeTokensService } from './one-time-tokens.service';
import { PasswordHasher } from './password-hasher';
import { User } from './user.entity';
import { UsersService } from './users.service';

@Module({
  imports: [TypeOrmModule.forFeature([User, OneTimeToken])],
  providers: [UsersService, OneTimeTokensService, PasswordHasher],
  exports: [UsersService, OneTimeTokensService, PasswordHasher],
})
export class UsersModule {}
