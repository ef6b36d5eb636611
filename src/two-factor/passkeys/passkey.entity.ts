import { BeforeInsert, Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { bigintNumber, newId, timestampColumn } from '../../database/columns';
import { User } from '../../users/user.entity';

/** One passkey or security key of a user (a WebAuthn credential): its public key and signature counter. */
@Entity('passkeys')
export class Passkey {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Index()
  @Column({ name: 'user_id', type: 'varchar', length: 36 })
  userId: string;

  /** The foreign key of the migration, declared here too so `migration:generate` sees no change. */
  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id' })
  user?: User;

  /** The credential id (base64url), unique across users: a credential registered to one user is refused for another. */
  @Index({ unique: true })
  @Column({ name: 'credential_id', type: 'varchar', length: 1400 })
  credentialId: string;

  /** The COSE public key (base64url). */
  @Column({ name: 'public_key', type: 'text' })
  publicKey: string;

  /** The last signature counter seen; one that goes backwards means a cloned authenticator (0 = the authenticator keeps none). */
  @Column({ type: 'bigint', transformer: bigintNumber, default: 0 })
  counter: number;

  /** The transports the browser reported (JSON array), handed back as hints. */
  @Column({ type: 'varchar', length: 200, default: '[]' })
  transports: string;

  /** What the person called it ("YubiKey 5", "MacBook"). */
  @Column({ type: 'varchar', length: 64 })
  name: string;

  @Column(timestampColumn({ name: 'created_at' }))
  createdAt: Date;

  @Column(timestampColumn({ name: 'last_used_at', nullable: true }))
  lastUsedAt: Date | null;

  @BeforeInsert()
  assignId() {
    this.id ??= newId();
  }
}
