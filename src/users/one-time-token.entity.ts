import { BeforeInsert, Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { User } from './user.entity';
import { newId, timestampColumn } from '../database/columns';

/** What an emailed single-use link is for. */
export type TokenPurpose = 'invitation' | 'totp-reset' | 'not-me' | 'password-reset';

/** A single-use, expiring link token. Only its SHA-256 is stored. */
@Entity('one_time_tokens')
export class OneTimeToken {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Index()
  @Column({ name: 'user_id', type: 'varchar', length: 36 })
  userId: string;

  /** The foreign key of the migration, declared here too so `migration:generate` sees no change. */
  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id' })
  user?: User;

  @Column({ type: 'varchar', length: 32 })
  purpose: TokenPurpose;

  @Column({ name: 'token_hash', type: 'varchar', length: 64, unique: true })
  tokenHash: string;

  @Column(timestampColumn({ name: 'expires_at' }))
  expiresAt: Date;

  @Column(timestampColumn({ name: 'used_at', nullable: true }))
  usedAt: Date | null;

  /** Set when a newer token of the same purpose replaced it, or the reset was undone. */
  @Column(timestampColumn({ name: 'revoked_at', nullable: true }))
  revokedAt: Date | null;

  @Column({ name: 'created_by_id', type: 'varchar', length: 36, nullable: true })
  createdById: string | null;

  @Column(timestampColumn({ name: 'created_at' }))
  createdAt: Date;

  @BeforeInsert()
  assignId() {
    this.id ??= newId();
  }

  status(now: Date): 'waiting' | 'done' | 'expired' | 'revoked' {
    if (this.usedAt) return 'done';
    if (this.revokedAt) return 'revoked';
    return this.expiresAt.getTime() <= now.getTime() ? 'expired' : 'waiting';
  }
}
