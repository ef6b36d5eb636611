import { BeforeInsert, Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { bigintNumber, newId, timestampColumn } from '../database/columns';
import { User } from '../users/user.entity';

/** `pending`: shown on the setup page, not yet confirmed by a code; `active`: the confirmed authenticator. */
export type TotpSlot = 'pending' | 'active';

/**
 * One authenticator app of a user (django-otp's TOTPDevice): its secret, encrypted at rest
 * (AES-256-GCM, bound to the user), and the last accepted time step. A user has at most one
 * active and one pending device (unique slot), so replacing an authenticator keeps the old
 * one working until the new one is confirmed (SECURITY.md 9).
 */
@Entity('totp_devices')
@Index(['userId', 'slot'], { unique: true })
export class TotpDevice {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Column({ name: 'user_id', type: 'varchar', length: 36 })
  userId: string;

  /** The foreign key of the migration, declared here too so `migration:generate` sees no change. */
  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id' })
  user?: User;

  @Column({ type: 'varchar', length: 8 })
  slot: TotpSlot;

  /** Ciphertext of the base32 secret (KeyRing, associated data `totp:<user id>`); never shown once active. */
  @Column({ name: 'secret_enc', type: 'varchar', length: 255 })
  secretEnc: string;

  /** Last accepted TOTP time step: only later steps are accepted (replay protection, SECURITY.md 7). */
  @Column({ name: 'last_step', type: 'bigint', nullable: true, transformer: bigintNumber })
  lastStep: number | null;

  @Column(timestampColumn({ name: 'confirmed_at', nullable: true }))
  confirmedAt: Date | null;

  @Column(timestampColumn({ name: 'created_at' }))
  createdAt: Date;

  @BeforeInsert()
  assignId() {
    this.id ??= newId();
  }
}
