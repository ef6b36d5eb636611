import { MigrationInterface, QueryRunner, Table } from 'typeorm';

/**
 * The mail outbox (issue 15): every email is a row written in the transaction of the action that
 * causes it, delivered by each instance's OutboxWorker with a lease, retried for 24 hours.
 */
export class AddMailOutbox1764900000000 implements MigrationInterface {
  name = 'AddMailOutbox1764900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'outbox_messages',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'user_id', type: 'varchar', length: '36', isNullable: true },
          { name: 'organizer_id', type: 'varchar', length: '36', isNullable: true },
          { name: 'to_address', type: 'varchar', length: '320' },
          { name: 'subject', type: 'varchar', length: '300' },
          { name: 'template', type: 'varchar', length: '64' },
          { name: 'message_id', type: 'varchar', length: '200', isUnique: true },
          { name: 'body_sealed', type: 'text', isNullable: true },
          { name: 'state', type: 'varchar', length: '16' },
          { name: 'attempts', type: 'integer', default: 0 },
          { name: 'next_attempt_at', type: 'bigint' },
          { name: 'claimed_until', type: 'bigint', isNullable: true },
          { name: 'claimed_by', type: 'varchar', length: '64', isNullable: true },
          { name: 'last_error', type: 'varchar', length: '300', isNullable: true },
          { name: 'created_at', type: 'bigint' },
          { name: 'sent_at', type: 'bigint', isNullable: true },
          { name: 'failed_at', type: 'bigint', isNullable: true },
        ],
        indices: [
          { name: 'IDX_outbox_messages_state_next', columnNames: ['state', 'next_attempt_at'] },
          { name: 'IDX_outbox_messages_user_created', columnNames: ['user_id', 'created_at'] },
        ],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('outbox_messages');
  }
}
