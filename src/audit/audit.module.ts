import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditDayCount } from './audit-day-count.entity';
import { AuditEvent } from './audit-event.entity';
import { AuditService } from './audit.service';

@Module({
  imports: [TypeOrmModule.forFeature([AuditEvent, AuditDayCount])],
  providers: [AuditService],
  exports: [AuditService],
})
export class AuditModule {}
