import { Column, Entity, PrimaryColumn } from 'typeorm';
import { timestampColumn } from '../database/columns';

/**
 * Wrong passwords in a row, per login name, whether or not an account has that email:
 * an unknown email locks exactly like a real one, so the lock tells nothing.
 */
@Entity('login_throttles')
export class LoginThrottle {
  /** HMAC of the lower-cased email. */
  @PrimaryColumn({ name: 'key_hash', type: 'varchar', length: 64 })
  keyHash: string;

  @Column({ name: 'failed_count', type: 'integer', default: 0 })
  failedCount: number;

  @Column(timestampColumn({ name: 'locked_until', nullable: true }))
  lockedUntil: Date | null;

  @Column(timestampColumn({ name: 'updated_at' }))
  updatedAt: Date;
}
