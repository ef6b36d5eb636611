import { BeforeInsert, Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { newId, timestampColumn } from '../database/columns';

/** One single-use recovery code; only its hash is stored. */
@Entity('recovery_codes')
export class RecoveryCode {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Index()
  @Column({ name: 'user_id', type: 'varchar', length: 36 })
  userId: string;

  /** HMAC-SHA-256 of the normalised code, keyed from APP_SECRET. */
  @Column({ name: 'code_hash', type: 'varchar', length: 64 })
  codeHash: string;

  @Column(timestampColumn({ name: 'used_at', nullable: true }))
  usedAt: Date | null;

  @Column(timestampColumn({ name: 'created_at' }))
  createdAt: Date;

  @BeforeInsert()
  assignId() {
    this.id ??= newId();
  }
}
