import { Column, Entity, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { Organizer } from '../../organizers/organizer.entity';

/**
 * The standing counts of an organizer's users for its 2FA adoption (SecondFactors.adoption),
 * one row per organizer. Maintained by database triggers on users (AddAdoptionCounters), in
 * the transaction of every change: never written by the app, only read.
 */
@Entity('organizer_user_counts')
export class OrganizerUserCounts {
  @PrimaryColumn({ name: 'organizer_id', type: 'varchar', length: 36 })
  organizerId: string;

  /** The foreign key of the migration, declared here too so `migration:generate` sees no change. */
  @ManyToOne(() => Organizer, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'organizer_id' })
  organizer?: Organizer;

  @Column({ type: 'integer', default: 0 })
  total: number;

  /** Users with a confirmed second factor (`users.has_second_factor`). */
  @Column({ type: 'integer', default: 0 })
  confirmed: number;

  /** Users without one whom the admin's setting or the policy's deadline requires to set 2FA up. */
  @Column({ name: 'required_unconfirmed', type: 'integer', default: 0 })
  requiredUnconfirmed: number;

  /** Accounts locked by their owner with "This wasn't me". */
  @Column({ name: 'account_locked', type: 'integer', default: 0 })
  accountLocked: number;
}
