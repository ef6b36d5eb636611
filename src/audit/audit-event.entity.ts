import { BeforeInsert, Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { newId, timestampColumn } from '../database/columns';
import type { AuditType } from './security-events';

export type { AuditType } from './security-events';

/**
 * One security event, shown to admins on the user's page and in the organizer's security log.
 * Indexes: a person's events (user page, the log's person filter); the organizer's log newest
 * first, keyset-paged on (created_at, id); and an organizer's events of one type by time (the
 * log's kind filter, the chart's counts per day, the organizer page's latest policy change).
 * Each ends with (created_at, id), the order of every read, so no database sorts the events of
 * one instant (AddAuditDayCounts). Named as the migrations name them: the security log pins
 * them by name on SQLite.
 */
@Entity('audit_events')
@Index('IDX_audit_events_user_created_id', ['userId', 'createdAt', 'id'])
@Index('IDX_audit_events_organizer_created_id', ['organizerId', 'createdAt', 'id'])
@Index('IDX_audit_events_organizer_type_created_id', ['organizerId', 'type', 'createdAt', 'id'])
/** Retention: the pruner deletes by age (AddAuditCreatedIndex). */
@Index('IDX_audit_events_created', ['createdAt'])
export class AuditEvent {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Column({ name: 'organizer_id', type: 'varchar', length: 36, nullable: true })
  organizerId: string | null;

  /** The user the event is about. */
  @Column({ name: 'user_id', type: 'varchar', length: 36, nullable: true })
  userId: string | null;

  /** Who did it, when it is someone else (an admin). */
  @Column({ name: 'actor_id', type: 'varchar', length: 36, nullable: true })
  actorId: string | null;

  @Column({ type: 'varchar', length: 64 })
  type: AuditType;

  /** Small JSON object with the details (never a secret). */
  @Column({ type: 'text', nullable: true })
  detail: string | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  ip: string | null;

  @Column(timestampColumn({ name: 'created_at' }))
  createdAt: Date;

  @BeforeInsert()
  assignId() {
    this.id ??= newId();
  }
}
