import { MigrationInterface, QueryRunner, TableIndex } from 'typeorm';

/** CreateSchema's indexes, by TypeORM's generated names: the organizer's (the first composite below covers it) and the person's (named now). */
const ORGANIZER_INDEX = new TableIndex({ name: 'IDX_860e6d7e1cd59f18de323f676e', columnNames: ['organizer_id'] });
const PERSON_INDEX = new TableIndex({ name: 'IDX_7287743eba71c4f62ee4136532', columnNames: ['user_id', 'created_at'] });

/**
 * The organizer's security log (issue 14): its pages newest first, keyset-paged on
 * (created_at, id) without OFFSET; and an organizer's events of one type by time, for the
 * log's kind filter and the chart's counts per day (and the organizer page's latest policy
 * change). A person's events keep the (user_id, created_at) index of CreateSchema, under a name
 * of ours: the log names its indexes on SQLite (AuditService.rawRows).
 */
export class AddSecurityLogIndexes1764800000000 implements MigrationInterface {
  name = 'AddSecurityLogIndexes1764800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createIndex(
      'audit_events',
      new TableIndex({
        name: 'IDX_audit_events_organizer_created_id',
        columnNames: ['organizer_id', 'created_at', 'id'],
      }),
    );
    await q.createIndex(
      'audit_events',
      new TableIndex({
        name: 'IDX_audit_events_organizer_type_created',
        columnNames: ['organizer_id', 'type', 'created_at'],
      }),
    );
    await q.createIndex(
      'audit_events',
      new TableIndex({ name: 'IDX_audit_events_user_created', columnNames: ['user_id', 'created_at'] }),
    );
    await q.dropIndex('audit_events', PERSON_INDEX.name!);
    await q.dropIndex('audit_events', ORGANIZER_INDEX.name!);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.createIndex('audit_events', ORGANIZER_INDEX);
    await q.createIndex('audit_events', PERSON_INDEX);
    await q.dropIndex('audit_events', 'IDX_audit_events_user_created');
    await q.dropIndex('audit_events', 'IDX_audit_events_organizer_type_created');
    await q.dropIndex('audit_events', 'IDX_audit_events_organizer_created_id');
  }
}
