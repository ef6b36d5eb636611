import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import { Clock } from '../common/clock';
import { PreparedSql } from '../database/prepared-sql';
import { AuditEvent } from './audit-event.entity';
import { AuditType, SecurityEventDetails } from './security-events';

/** One event to record; its detail has the shape SECURITY_EVENTS defines for its type. */
export type AuditEntry = {
  [T in AuditType]: {
    type: T;
    organizerId?: string | null;
    userId?: string | null;
    actorId?: string | null;
    ip?: string | null;
    detail?: SecurityEventDetails[T];
  };
}[AuditType];

/** Writes and reads the security audit log. Never given a secret, code or password. */
@Injectable()
export class AuditService {
  constructor(
    @InjectRepository(AuditEvent) private readonly events: Repository<AuditEvent>,
    private readonly clock: Clock,
    private readonly sql: PreparedSql,
  ) {}

  /**
   * Records one event; pass the transaction's manager to commit it with the change it
   * describes. Outside a transaction (every sign-in) it is one prepared INSERT.
   */
  async record(entry: AuditEntry, manager?: EntityManager): Promise<void> {
    const event = this.events.create({
      type: entry.type,
      organizerId: entry.organizerId ?? null,
      userId: entry.userId ?? null,
      actorId: entry.actorId ?? null,
      ip: entry.ip ?? null,
      detail: entry.detail && Object.keys(entry.detail).length ? JSON.stringify(entry.detail) : null,
      createdAt: this.clock.now(),
    });
    event.assignId();
    if (manager) {
      await manager.getRepository(AuditEvent).insert(event);
      return;
    }
    await this.sql.run(
      'INSERT INTO "audit_events" ("id", "organizer_id", "user_id", "actor_id", "type", "detail", "ip", "created_at") VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      [
        event.id,
        event.organizerId,
        event.userId,
        event.actorId,
        event.type,
        event.detail,
        event.ip,
        event.createdAt.getTime(),
      ],
    );
  }

  /** The newest event of one type in an organizer (e.g. its last policy change), or null. */
  latestInOrganizer(organizerId: string, type: AuditType): Promise<AuditEvent | null> {
    return this.events.findOne({ where: { organizerId, type }, order: { createdAt: 'DESC' } });
  }

  /** The latest events about one user, newest first. */
  recentForUser(userId: string, limit = 20): Promise<AuditEvent[]> {
    return this.events.find({ where: { userId }, order: { createdAt: 'DESC' }, take: limit });
  }
}
