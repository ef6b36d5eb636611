import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository, SelectQueryBuilder } from 'typeorm';
import { Clock } from '../common/clock';
import { timeOrderedId } from '../database/columns';
import { PreparedSql } from '../database/prepared-sql';
import { AuditEvent } from './audit-event.entity';
import { AuditType, SecurityEventDetails } from './security-events';

const DAY_MS = 86_400_000;

/** The indexes a read of the log can be pinned to (AddSecurityLogIndexes names them). */
export const AUDIT_INDEXES = {
  person: 'IDX_audit_events_user_created',
  type: 'IDX_audit_events_organizer_type_created',
} as const;
export type AuditIndex = keyof typeof AUDIT_INDEXES;

/** One event to record; its detail has the shape SECURITY_EVENTS defines for its type. */
export type AuditEntry = {
  [T in AuditType]: {
    type: T;
    organizerId?: string | null;
    userId?: string | null;
    actorId?: string | null;
    ip?: string | null;
    detail?: SecurityEventDetails[T];
  };
}[AuditType];

/** Writes and reads the security audit log. Never given a secret, code or password. */
@Injectable()
export class AuditService {
  constructor(
    @InjectRepository(AuditEvent) private readonly events: Repository<AuditEvent>,
    private readonly clock: Clock,
    private readonly sql: PreparedSql,
  ) {}

  /**
   * Records one event; pass the transaction's manager to commit it with the change it
   * describes. Outside a transaction (every sign-in) it is one prepared INSERT.
   */
  async record(entry: AuditEntry, manager?: EntityManager): Promise<void> {
    const event = this.events.create({
      type: entry.type,
      organizerId: entry.organizerId ?? null,
      userId: entry.userId ?? null,
      actorId: entry.actorId ?? null,
      ip: entry.ip ?? null,
      detail: entry.detail && Object.keys(entry.detail).length ? JSON.stringify(entry.detail) : null,
      createdAt: this.clock.now(),
    });
    // Time-ordered: events of the same millisecond read back in the order they happened.
    event.id = timeOrderedId(event.createdAt.getTime());
    if (manager) {
      await manager.getRepository(AuditEvent).insert(event);
      return;
    }
    await this.sql.run(
      'INSERT INTO "audit_events" ("id", "organizer_id", "user_id", "actor_id", "type", "detail", "ip", "created_at") VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      [
        event.id,
        event.organizerId,
        event.userId,
        event.actorId,
        event.type,
        event.detail,
        event.ip,
        event.createdAt.getTime(),
      ],
    );
  }

  /**
   * Deletes the events older than `before` (AUDIT_RETENTION_DAYS, run by the pruner), in
   * batches of `batchSize` read on the created_at index (AddAuditCreatedIndex), with a turn of
   * the event loop between them: on SQLite each batch is synchronous, so a backlog (the first
   * run after upgrading) is spread out rather than one long stall. Returns how many went.
   */
  async prune(before: Date, batchSize = 500): Promise<number> {
    let total = 0;
    for (;;) {
      const deleted = await this.sql.run(
        'DELETE FROM "audit_events" WHERE "id" IN (SELECT "id" FROM "audit_events" WHERE "created_at" < ? LIMIT ?)',
        [before.getTime(), batchSize],
      );
      total += deleted;
      if (deleted < batchSize) return total;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** The newest event of one type in an organizer (e.g. its last policy change), or null. */
  latestInOrganizer(organizerId: string, type: AuditType): Promise<AuditEvent | null> {
    return this.events.findOne({ where: { organizerId, type }, order: { createdAt: 'DESC', id: 'DESC' } });
  }

  /** The latest events about one user, newest first. */
  recentForUser(userId: string, limit = 20): Promise<AuditEvent[]> {
    return this.events.find({ where: { userId }, order: { createdAt: 'DESC', id: 'DESC' }, take: limit });
  }

  /** A read-only query of one organizer's events (aliased `e`), for the security log to filter and page. */
  inOrganizer(organizerId: string): SelectQueryBuilder<AuditEvent> {
    return this.events.createQueryBuilder('e').where('e.organizerId = :organizerId', { organizerId });
  }

  /**
   * The raw rows of a read of the log (a query of `inOrganizer`) on `index`, when the database
   * is SQLite. Without statistics (nothing runs ANALYZE) its planner takes the index that gives
   * the ORDER BY without a sort, the organizer's, and would scan it for a rare person's or a
   * rare type's events; INDEXED BY names the right one (and fails, rather than scans, if it
   * ever cannot be used). PostgreSQL's planner chooses well from its statistics: as it is.
   */
  async rawRows<T>(query: SelectQueryBuilder<AuditEvent>, index: AuditIndex): Promise<T[]> {
    if (this.events.manager.dataSource.options.type !== 'better-sqlite3') return query.getRawMany<T>();
    const [sql, parameters] = query.getQueryAndParameters();
    const from = 'FROM "audit_events" "e"';
    if (!sql.includes(from)) throw new Error(`A read of the audit log without ${from}`);
    return this.events.query(sql.replace(from, `${from} INDEXED BY "${AUDIT_INDEXES[index]}"`), parameters);
  }

  /**
   * How many events of each of `types` an organizer had per UTC day in [from, until): the
   * day is the number of days since 1970-01-01, integer division of the epoch-ms column on
   * both databases (BIGINT / integer truncates, and the instants are positive). Counted in
   * SQL on the (organizer_id, type, created_at) index alone, never loaded row by row.
   */
  async countPerDay(
    organizerId: string,
    types: AuditType[],
    from: Date,
    until: Date,
  ): Promise<{ type: AuditType; day: number; count: number }[]> {
    if (!types.length) return [];
    const day = `e.createdAt / ${DAY_MS}`;
    const rows: { type: AuditType; day: string | number; count: string | number }[] = await this.inOrganizer(
      organizerId,
    )
      .select('e.type', 'type')
      .addSelect(day, 'day')
      .addSelect('COUNT(*)', 'count')
      .andWhere('e.type IN (:...types)', { types })
      .andWhere('e.createdAt >= :from AND e.createdAt < :until', { from: from.getTime(), until: until.getTime() })
      .groupBy('e.type')
      .addGroupBy(day)
      .getRawMany();
    return rows.map((row) => ({ type: row.type, day: Number(row.day), count: Number(row.count) }));
  }
}
