import { MigrationInterface, QueryRunner, Table, TableIndex } from 'typeorm';

/**
 * Issue 16, the security log at any size:
 * - `audit_day_counts`, the chart's counts of closed days (AuditDayCount), so a view counts
 *   today's events only, not the month's;
 * - the person's and the type's indexes end with `id` too, like the organizer's: every read
 *   orders by (created_at, id), and without the id a database sorts the rows of each instant
 *   (SQLite's temp B-tree "for right part of ORDER BY", PostgreSQL's Incremental Sort).
 */
export class AddAuditDayCounts1765400000000 implements MigrationInterface {
  name = 'AddAuditDayCounts1765400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'audit_day_counts',
        columns: [
          { name: 'organizer_id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'day', type: 'integer', isPrimary: true },
          { name: 'type', type: 'varchar', length: '64', isPrimary: true },
          { name: 'count', type: 'integer' },
        ],
      }),
    );
    await replaceIndex(q, 'IDX_audit_events_user_created', 'IDX_audit_events_user_created_id', [
      'user_id',
      'created_at',
      'id',
    ]);
    await replaceIndex(q, 'IDX_audit_events_organizer_type_created', 'IDX_audit_events_organizer_type_created_id', [
      'organizer_id',
      'type',
      'created_at',
      'id',
    ]);
  }

  async down(q: QueryRunner): Promise<void> {
    await replaceIndex(q, 'IDX_audit_events_organizer_type_created_id', 'IDX_audit_events_organizer_type_created', [
      'organizer_id',
      'type',
      'created_at',
    ]);
    await replaceIndex(q, 'IDX_audit_events_user_created_id', 'IDX_audit_events_user_created', [
      'user_id',
      'created_at',
    ]);
    await q.dropTable('audit_day_counts');
  }
}

/** The new index first, then the old one dropped: reads always have one of them. */
async function replaceIndex(q: QueryRunner, from: string, to: string, columnNames: string[]): Promise<void> {
  await q.createIndex('audit_events', new TableIndex({ name: to, columnNames }));
  await q.dropIndex('audit_events', from);
}
