import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import { Clock } from '../common/clock';
import { AuditEvent, AuditType } from './audit-event.entity';

export interface AuditEntry {
  type: AuditType;
  organizerId?: string | null;
  userId?: string | null;
  actorId?: string | null;
  ip?: string | null;
  detail?: Record<string, unknown>;
}

/** Writes and reads the security audit log. Never given a secret, code or password. */
@Injectable()
export class AuditService {
  constructor(
    @InjectRepository(AuditEvent) private readonly events: Repository<AuditEvent>,
    private readonly clock: Clock,
  ) {}

  /** Records one event; pass the transaction's manager to commit it with the change it describes. */
  async record(entry: AuditEntry, manager?: EntityManager): Promise<void> {
    const repository = manager ? manager.getRepository(AuditEvent) : this.events;
    await repository.insert(
      repository.create({
        type: entry.type,
        organizerId: entry.organizerId ?? null,
        userId: entry.userId ?? null,
        actorId: entry.actorId ?? null,
        ip: entry.ip ?? null,
        detail: entry.detail ? JSON.stringify(entry.detail) : null,
        createdAt: this.clock.now(),
      }),
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
