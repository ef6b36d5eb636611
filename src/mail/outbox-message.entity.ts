import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { timestampColumn } from '../database/columns';
import type { MailTemplate } from './mail.service';

/** Where an email is: waiting (first try or a retry), accepted by the mail server, or given up on. */
export type OutboxState = 'queued' | 'sent' | 'failed';

/**
 * One email in the outbox (issue 15), written in the transaction of the action that causes it
 * and delivered by OutboxWorker. The rendered body is sealed (KeyRing, AES-256-GCM bound to the
 * row's id): its links carry single-use tokens. It is erased once the email is sent or failed;
 * the rest stays for the admin's user page until pruned.
 * Indexes: the worker's due messages (state, next_attempt_at) and a person's emails (user page).
 */
@Entity('outbox_messages')
@Index('IDX_outbox_messages_state_next', ['state', 'nextAttemptAt'])
@Index('IDX_outbox_messages_user_created', ['userId', 'createdAt'])
export class OutboxMessage {
  /** Time-ordered (UUIDv7 layout), so messages of one instant leave in the order they were queued. */
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  /** The recipient's account, when the email is to a user (it shows on their admin page). */
  @Column({ name: 'user_id', type: 'varchar', length: 36, nullable: true })
  userId: string | null;

  @Column({ name: 'organizer_id', type: 'varchar', length: 36, nullable: true })
  organizerId: string | null;

  @Column({ name: 'to_address', type: 'varchar', length: 320 })
  toAddress: string;

  @Column({ type: 'varchar', length: 300 })
  subject: string;

  @Column({ type: 'varchar', length: 64 })
  template: MailTemplate;

  /** The `Message-ID` header, the same on every try: `<uuid@host of PUBLIC_URL>`. */
  @Column({ name: 'message_id', type: 'varchar', length: 200, unique: true })
  messageId: string;

  /** `{ text, html }` as JSON, sealed with KeyRing.encrypt (associated data `outbox:<id>`); NULL once sent or failed. */
  @Column({ name: 'body_sealed', type: 'text', nullable: true })
  bodySealed: string | null;

  @Column({ type: 'varchar', length: 16 })
  state: OutboxState;

  /** Failed tries so far. */
  @Column({ type: 'integer', default: 0 })
  attempts: number;

  @Column(timestampColumn({ name: 'next_attempt_at' }))
  nextAttemptAt: Date;

  /** The lease of the instance delivering it: another instance may claim it once this has passed. */
  @Column(timestampColumn({ name: 'claimed_until', nullable: true }))
  claimedUntil: Date | null;

  @Column({ name: 'claimed_by', type: 'varchar', length: 64, nullable: true })
  claimedBy: string | null;

  /** Why the last try failed: the mail server's answer or the connection error, short, never the body. */
  @Column({ name: 'last_error', type: 'varchar', length: 300, nullable: true })
  lastError: string | null;

  @Column(timestampColumn({ name: 'created_at' }))
  createdAt: Date;

  @Column(timestampColumn({ name: 'sent_at', nullable: true }))
  sentAt: Date | null;

  /** When it was given up on (24 hours of retries, or a body that cannot be read). */
  @Column(timestampColumn({ name: 'failed_at', nullable: true }))
  failedAt: Date | null;
}
