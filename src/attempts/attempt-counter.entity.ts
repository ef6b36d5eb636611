import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { timestampColumn } from '../database/columns';

/**
 * One pool of attempts at a secret (a password, a code), counted in the database so that
 * every instance adds to the same numbers (SECURITY.md 3, 24). `reserved_count` is the
 * failures plus the checks in flight: an attempt is reserved here before its secret is
 * checked, so no more than the limit are ever checked, however many arrive at once.
 */
@Entity('attempt_counters')
export class AttemptCounter {
  /** `<pool>:<subject>`; the subject is a keyed hash (email, device, client) or a user id (code). */
  @PrimaryColumn({ type: 'varchar', length: 100 })
  key: string;

  /** The account the pool belongs to, when there is one: Unlock account clears them all. */
  @Index('IDX_attempt_counters_user_id')
  @Column({ name: 'user_id', type: 'varchar', length: 36, nullable: true })
  userId: string | null;

  @Column({ name: 'reserved_count', type: 'integer', default: 0 })
  reservedCount: number;

  @Column({ name: 'failed_count', type: 'integer', default: 0 })
  failedCount: number;

  /** When the counting began; a window that has passed starts again from zero. */
  @Column(timestampColumn({ name: 'window_started_at' }))
  windowStartedAt: Date;

  /** Partial: only pools that locked once; the adoption counts read the few locked now (AddAdoptionCounters). */
  @Index('IDX_attempt_counters_locked_until', { where: '"locked_until" IS NOT NULL' })
  @Column(timestampColumn({ name: 'locked_until', nullable: true }))
  lockedUntil: Date | null;

  @Column(timestampColumn({ name: 'updated_at' }))
  updatedAt: Date;
}
