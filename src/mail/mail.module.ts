import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from '../audit/audit.module';
import { MailService } from './mail.service';
import { MailTransport } from './mail-transport';
import { OutboxMessage } from './outbox-message.entity';
import { OutboxWorker } from './outbox.worker';

/** The outbox (issue 15): MailService queues, OutboxWorker delivers. A leaf: it knows no feature (audit is a leaf too). */
@Global()
@Module({
  imports: [TypeOrmModule.forFeature([OutboxMessage]), AuditModule],
  providers: [MailService, MailTransport, OutboxWorker],
  exports: [MailService, OutboxWorker],
})
export class MailModule {}
