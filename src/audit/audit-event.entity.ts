import { BeforeInsert, Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { newId, timestampColumn } from '../database/columns';
import type { AuditType } from './security-events';

export type { AuditType } from './security-events';

/** One security event, shown to admins on the user's page. */
@Entity('audit_events')
@Index(['userId', 'createdAt'])
export class AuditEvent {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Index()
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
