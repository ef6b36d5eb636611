import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository, SelectQueryBuilder } from 'typeorm';
import { Clock } from '../common/clock';
import { timeOrderedId } from '../database/columns';
import { PreparedSql } from '../database/prepared-sql';
import { AuditDayCount } from './audit-day-count.entity';
import { AuditEvent } from './audit-event.entity';
import { AuditType, SecurityEventDetails } from './security-events';

const DAY_MS = 86_400_000;
/** How long after its end a UTC day is taken as closed: no event of it can still be committing. */
export const DAY_CLOSED_AFTER_MS = 5 * 60_000;

/** The indexes a read of the log can be pinned to (AddSecurityLogIndexes names them). */
export const AUDIT_INDEXES = {
  person: 'IDX_audit_events_user_created_id',
  type: 'IDX_audit_events_organizer_type_created_id',
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
    @InjectRepository(AuditDayCount) private readonly dayCounts: Repository<AuditDayCount>,
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
   * How many events of each of `types` an organizer had per UTC day, for the days of [from,
   * until) (whole days: `from` and `until` are day starts), newest last. A day that closed
   * (DAY_CLOSED_AFTER_MS past its end: an event is written at the clock's now, and a transaction
   * that read the clock a moment before midnight may still commit after it) is counted once and
   * kept in audit_day_counts; a day still open is counted each time. So the chart of a month
   * reads one day of events, not thirty, however big the organizer (issue 16).
   */
  async countPerDay(
    organizerId: string,
    types: AuditType[],
    from: Date,
    until: Date,
  ): Promise<{ type: AuditType; day: number; count: number }[]> {
    if (!types.length) return [];
    const firstDay = Math.floor(from.getTime() / DAY_MS);
    const endDay = Math.ceil(until.getTime() / DAY_MS);
    const closedBefore = Math.min(endDay, Math.floor((this.clock.nowMs() - DAY_CLOSED_AFTER_MS) / DAY_MS));
    const kept = await this.dayCounts
      .createQueryBuilder('c')
      .where('c.organizerId = :organizerId AND c.day >= :firstDay AND c.day < :closedBefore', {
        organizerId,
        firstDay,
        closedBefore,
      })
      .andWhere('c.type IN (:...types)', { types })
      .getMany();
    const typesKept = new Map<number, number>();
    for (const row of kept) typesKept.set(row.day, (typesKept.get(row.day) ?? 0) + 1);
    const counts = kept.map((row) => ({ type: row.type as AuditType, day: row.day, count: row.count }));
    for (let day = firstDay; day < endDay; day++) {
      if (day < closedBefore && typesKept.get(day) === types.length) continue;
      const counted = await this.countDay(organizerId, types, day);
      counts.push(...counted.filter((row) => row.count > 0));
      if (day < closedBefore) await this.keepDay(organizerId, day, counted);
    }
    return counts.filter((row) => row.count > 0).sort((a, b) => a.day - b.day);
  }

  /** One day's events of `types`, by type (zeros included): a range of the (organizer, type, created_at, id) index per type. */
  private async countDay(organizerId: string, types: AuditType[], day: number) {
    const rows: { type: AuditType; count: string | number }[] = await this.inOrganizer(organizerId)
      .select('e.type', 'type')
      .addSelect('COUNT(*)', 'count')
      .andWhere('e.type IN (:...types)', { types })
      .andWhere('e.createdAt >= :from AND e.createdAt < :until', { from: day * DAY_MS, until: (day + 1) * DAY_MS })
      .groupBy('e.type')
      .getRawMany();
    const found = new Map(rows.map((row) => [row.type, Number(row.count)]));
    return types.map((type) => ({ type, day, count: found.get(type) ?? 0 }));
  }

  /** Keeps a closed day's counts; another request or instance keeping the same day at once is no error. */
  private async keepDay(organizerId: string, day: number, counted: { type: AuditType; count: number }[]) {
    await this.dayCounts
      .createQueryBuilder()
      .insert()
      .values(counted.map(({ type, count }) => ({ organizerId, day, type, count })))
      .orIgnore()
      .execute();
  }

  /** Forgets the kept counts of days before `before` (the pruner: the chart shows the last 30 days only). */
  async pruneDayCounts(before: Date): Promise<number> {
    const result = await this.dayCounts
      .createQueryBuilder()
      .delete()
      .where('day < :day', { day: Math.floor(before.getTime() / DAY_MS) })
      .execute();
    return result.affected ?? 0;
  }
}
