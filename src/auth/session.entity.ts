import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { timestampColumn } from '../database/columns';

/** A server-side session (express-session store). The cookie's id is stored only as a SHA-256. */
@Entity('sessions')
export class SessionRecord {
  @PrimaryColumn({ name: 'id_hash', type: 'varchar', length: 64 })
  idHash: string;

  @Index()
  @Column({ name: 'user_id', type: 'varchar', length: 36, nullable: true })
  userId: string | null;

  @Column({ type: 'text' })
  data: string;

  @Index()
  @Column(timestampColumn({ name: 'expires_at' }))
  expiresAt: Date;
}
