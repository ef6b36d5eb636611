import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * How many events of one type an organizer had on one closed UTC day: the security log's
 * chart reads these instead of counting a month of events on every view (issue 16). A day is
 * counted once, when it is first charted after it closed (AuditService.countPerDay), with a
 * row for every charted type, zeros included, so "this day is counted" needs no other table.
 * Events are only ever written at the clock's now, so a closed day's counts never change.
 */
@Entity('audit_day_counts')
export class AuditDayCount {
  @PrimaryColumn({ name: 'organizer_id', type: 'varchar', length: 36 })
  organizerId: string;

  /** Days since 1970-01-01 UTC (security-log/utc-day.ts). */
  @PrimaryColumn({ type: 'integer' })
  day: number;

  @PrimaryColumn({ type: 'varchar', length: 64 })
  type: string;

  @Column({ type: 'integer' })
  count: number;
}
