import { BeforeInsert, Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { Organizer } from '../organizers/organizer.entity';
import { newId, timestampColumn } from '../database/columns';

export type Role = 'admin' | 'member';
export const ROLES: readonly Role[] = ['admin', 'member'];

@Entity('users')
/**
 * The users list's and its CSV's order, (LOWER(name), email) within an organizer: an expression
 * index made by its migration (AddUserListOrderIndex), which TypeORM cannot describe, so it is
 * declared here only to be left alone by schema checks.
 */
@Index('IDX_users_organizer_name_email', { synchronize: false })
/**
 * The list's search and filter (AddUserSearch, AddSearchStartIndexes): on PostgreSQL pg_trgm GIN
 * indexes on LOWER(name) and LOWER(email); on both, the first 1 or 2 characters of the name and
 * of the email, and "Not set up yet", each in the list's order. Made by the migrations
 * (expressions, operator classes), left alone by schema checks.
 */
@Index('IDX_users_organizer_factor_name_email', { synchronize: false })
@Index('IDX_users_name_trgm', { synchronize: false })
@Index('IDX_users_email_trgm', { synchronize: false })
@Index('IDX_users_name_start1', { synchronize: false })
@Index('IDX_users_name_start2', { synchronize: false })
@Index('IDX_users_email_start1', { synchronize: false })
@Index('IDX_users_email_start2', { synchronize: false })
export class User {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Index()
  @Column({ name: 'organizer_id', type: 'varchar', length: 36 })
  organizerId: string;

  /** The foreign key of the migration, declared here too so `migration:generate` sees no change. */
  @ManyToOne(() => Organizer)
  @JoinColumn({ name: 'organizer_id' })
  organizer?: Organizer;

  /** Lower-cased at the edge; unique across organizers because it is the login name. */
  @Column({ type: 'varchar', length: 254, unique: true })
  email: string;

  @Column({ type: 'varchar', length: 200 })
  name: string;

  @Column({ type: 'varchar', length: 16 })
  role: Role;

  /** argon2id PHC string; null until the invitation is accepted. */
  @Column({ name: 'password_hash', type: 'varchar', length: 255, nullable: true })
  passwordHash: string | null;

  // Boolean defaults as SQL literals: SQLite and PostgreSQL report them back alike, so migration:generate sees no change.
  @Column({ name: 'is_active', type: 'boolean', default: () => 'true' })
  isActive: boolean;

  /** Whether this user must pass a second factor (the admin's checkbox). */
  @Column({ name: 'two_factor_required', type: 'boolean', default: () => 'true' })
  twoFactorRequired: boolean;

  /**
   * Whether the user has a confirmed second factor: maintained by database triggers from the
   * factor tables (AddAdoptionCounters), never written by the app, so that lists and counts
   * read it from the row instead of probing every factor table.
   */
  @Column({ name: 'has_second_factor', type: 'boolean', default: () => 'false', insert: false, update: false })
  hasSecondFactor: boolean;

  /** Set by Resend QR (two-factor writes it): a new second factor can then be set up only through the emailed link. */
  @Column(timestampColumn({ name: 'second_factor_reset_at', nullable: true }))
  secondFactorResetAt: Date | null;

  /** Changes whenever every session of the user must end (password, 2FA reset, deactivation). */
  @Column({ name: 'security_stamp', type: 'varchar', length: 64 })
  securityStamp: string;

  /** Set when the owner clicked "This wasn't me": no sign-in until an admin unlocks the account. */
  @Column(timestampColumn({ name: 'account_locked_at', nullable: true }))
  accountLockedAt: Date | null;

  /** Organizer policy: the user must have 2FA active by then (issue 7). */
  @Column(timestampColumn({ name: 'two_factor_deadline', nullable: true }))
  twoFactorDeadline: Date | null;

  /** Organizer policy: this admin must have a passkey by then (issue 13). */
  @Column(timestampColumn({ name: 'passkey_deadline', nullable: true }))
  passkeyDeadline: Date | null;

  /** The language the person chose (/account, the language menu while signed in, or the admin at New user); null: the browser's. */
  @Column({ type: 'varchar', length: 8, nullable: true })
  language: string | null;

  @Column(timestampColumn({ name: 'last_login_at', nullable: true }))
  lastLoginAt: Date | null;

  @Column(timestampColumn({ name: 'created_at' }))
  createdAt: Date;

  @BeforeInsert()
  assignId() {
    this.id ??= newId();
  }

  /** Whether the account may sign in and keep sessions at all. */
  get canSignIn(): boolean {
    return this.isActive && this.accountLockedAt == null;
  }
}
