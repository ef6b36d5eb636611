import { BeforeInsert, Column, Entity, PrimaryColumn } from 'typeorm';
import { newId, timestampColumn } from '../database/columns';

/** The tenant: every user belongs to exactly one organizer. */
@Entity('organizers')
export class Organizer {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Column({ type: 'varchar', length: 200, unique: true })
  name: string;

  /** Organizer-wide policy: everyone must use 2FA (after the grace period). */
  // A SQL literal default, as in user.entity.ts: migration:generate then sees no change on either database.
  @Column({ name: 'require_two_factor', type: 'boolean', default: () => 'false' })
  requireTwoFactor: boolean;

  @Column({ name: 'two_factor_grace_days', type: 'integer', default: 0 })
  twoFactorGraceDays: number;

  /** "Allow sign-in with a passkey alone": a passkey with user verification signs its owner in fully (issue 13). */
  @Column({ name: 'allow_passkey_sign_in', type: 'boolean', default: () => 'true' })
  allowPasskeySignIn: boolean;

  /** "Require a passkey for admins": phishing-resistant sign-in for the accounts that matter most (issue 13). */
  @Column({ name: 'require_admin_passkey', type: 'boolean', default: () => 'false' })
  requireAdminPasskey: boolean;

  @Column({ name: 'admin_passkey_grace_days', type: 'integer', default: 0 })
  adminPasskeyGraceDays: number;

  /** The IANA time zone its people read times in (issue 17): every date of its pages and emails. */
  @Column({ name: 'time_zone', type: 'varchar', length: 64, default: 'UTC' })
  timeZone: string;

  @Column(timestampColumn({ name: 'created_at' }))
  createdAt: Date;

  @BeforeInsert()
  assignId() {
    this.id ??= newId();
  }
}
