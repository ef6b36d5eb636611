import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AttemptCounter } from './attempt-counter.entity';
import { AttemptLimiter } from './attempt-limiter.service';

/** Attempt limits: a leaf like audit and mail, used by the password and second-factor steps. */
@Module({
  imports: [TypeOrmModule.forFeature([AttemptCounter])],
  providers: [AttemptLimiter],
  exports: [AttemptLimiter],
})
export class AttemptsModule {}
