import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { randomBytes } from 'node:crypto';
import { DataSource, EntityManager, EntitySubscriberInterface, Repository } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { Clock } from '../common/clock';
import { KeyRing } from '../common/crypto/key-ring';
import { AppConfig } from '../config/app-config';
import { PreparedSql } from '../database/prepared-sql';
import { MailTransport } from './mail-transport';
import { OutboxMessage } from './outbox-message.entity';
import { afterFailure } from './outbox-schedule';

/** Set on a transaction's query runner when it queued an email: its commit nudges the worker. */
const QUEUED_IN_TRANSACTION = 'tixngo.outboxQueued';
/** How long the SQLite worker waits for another transaction on the one connection to end. */
const SQLITE_WAIT_MS = 10_000;

const DUE = `"state" = 'queued' AND "next_attempt_at" <= ? AND ("claimed_until" IS NULL OR "claimed_until" < ?)`;

/**
 * The claim: one atomic statement that takes the next due email for this instance with a lease.
 * PostgreSQL: the row is locked with SKIP LOCKED, so instances claiming at once take different
 * emails instead of waiting for each other. SQLite has one writer at a time: the UPDATE with
 * its subquery is atomic as it is (and across processes on one file, e.g. the CLI).
 * Parameters in the order of their text: SQLite lease end, instance, now, now; PostgreSQL now, now, lease end, instance.
 */
const CLAIM = {
  sqlite: `UPDATE "outbox_messages" SET "claimed_until" = ?, "claimed_by" = ? WHERE "id" = (SELECT "id" FROM "outbox_messages" WHERE ${DUE} ORDER BY "next_attempt_at", "id" LIMIT 1) RETURNING "id"`,
  postgres: `WITH "next" AS (SELECT "id" FROM "outbox_messages" WHERE ${DUE} ORDER BY "next_attempt_at", "id" LIMIT 1 FOR UPDATE SKIP LOCKED) UPDATE "outbox_messages" SET "claimed_until" = ?, "claimed_by" = ? FROM "next" WHERE "outbox_messages"."id" = "next"."id" RETURNING "outbox_messages"."id"`,
};
const MINE = `"id" = ? AND "claimed_by" = ? AND "state" = 'queued'`;
const MARK_SENT = `UPDATE "outbox_messages" SET "state" = 'sent', "sent_at" = ?, "body_sealed" = NULL, "claimed_until" = NULL, "claimed_by" = NULL WHERE ${MINE}`;
const RETRY_LATER = `UPDATE "outbox_messages" SET "attempts" = ?, "next_attempt_at" = ?, "last_error" = ?, "claimed_until" = NULL, "claimed_by" = NULL WHERE ${MINE}`;

interface SqliteConnection {
  inTransaction: boolean;
}

/**
 * Delivers the outbox (issue 15), in every instance: polls every OUTBOX_POLL_MS and is nudged
 * right after a transaction that queued an email commits. One email at a time: claim it with a
 * lease (OUTBOX_LEASE_MS, 2 min), send it, mark it sent; a failed try is retried on the schedule
 * of outbox-schedule.ts for 24 hours, then the email is marked failed and `mail.failed` audited.
 * A crash after the server accepted an email and before it was marked sent leaves the lease to
 * expire: the email is sent again, with the same Message-ID (at least once, at most twice).
 */
@Injectable()
export class OutboxWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Outbox');
  /** This process, in `claimed_by`. */
  readonly instance = `${process.pid}-${randomBytes(6).toString('hex')}`;
  private timer?: NodeJS.Timeout;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private readonly giveUpListeners: (() => void)[] = [];

  constructor(
    @InjectRepository(OutboxMessage) private readonly outbox: Repository<OutboxMessage>,
    private readonly dataSource: DataSource,
    private readonly sql: PreparedSql,
    private readonly keys: KeyRing,
    private readonly transport: MailTransport,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    private readonly config: AppConfig,
  ) {
    const subscriber: EntitySubscriberInterface = {
      afterTransactionCommit: ({ queryRunner }) => {
        // The outermost commit (SQLite nests concurrent transactions on its one connection).
        if (queryRunner.isTransactionActive || !queryRunner.data?.[QUEUED_IN_TRANSACTION]) return;
        delete queryRunner.data[QUEUED_IN_TRANSACTION];
        this.nudge();
      },
      afterTransactionRollback: ({ queryRunner }) => {
        if (!queryRunner.isTransactionActive && queryRunner.data) delete queryRunner.data[QUEUED_IN_TRANSACTION];
      },
    };
    dataSource.subscribers.push(subscriber);
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => this.nudge(), this.config.outboxPollMs);
    this.timer.unref();
    // What an earlier run left (a crash, a restart during an outage).
    this.nudge();
  }

  /** Stops claiming, finishes the email in hand (the database is still open here). */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
    this.transport.close();
  }

  /** Called each time an email is given up on (the metrics count them; mail imports no operations code). */
  onGiveUp(listener: () => void): void {
    this.giveUpListeners.push(listener);
  }

  /** Deliver what is due now, unless a pass is running (it will look again when done). */
  nudge(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.pass().finally(() => {
      this.running = null;
    });
  }

  /** Nudge once `manager`'s transaction commits (at once without a transaction). */
  nudgeAfterCommit(manager: EntityManager): void {
    const runner = manager.queryRunner;
    if (!runner?.isTransactionActive) return this.nudge();
    runner.data ??= {};
    runner.data[QUEUED_IN_TRANSACTION] = true;
  }

  /**
   * Resolves once every email due now has been tried (the pass in flight awaited, then one of its
   * own). Tests call it instead of sleeping; the CLI before it exits.
   */
  async drain(): Promise<void> {
    if (this.running) await this.running;
    if (this.stopped) return;
    if (!this.running) this.nudge();
    await this.running;
  }

  private async pass(): Promise<void> {
    try {
      do {
        this.again = false;
        while (!this.stopped && (await this.deliverNext()));
      } while (this.again && !this.stopped);
    } catch (error) {
      // The database is unreachable (or not migrated yet): the next poll tries again.
      this.logger.warn(`The outbox could not be read: ${shortError(error)}`);
    }
  }

  /** Claims and tries one due email; false when none is due. */
  private async deliverNext(): Promise<boolean> {
    const now = this.clock.now();
    const lease = [now.getTime() + this.config.outboxLeaseMs, this.instance];
    const due = [now.getTime(), now.getTime()];
    const claimed = this.sqlite()
      ? await this.write(CLAIM.sqlite, [...lease, ...due])
      : await this.write(CLAIM.postgres, [...due, ...lease]);
    if (!claimed?.row) return false;
    const message = await this.outbox.findOneBy({ id: String(claimed.row.id) });
    if (message) await this.deliver(message);
    return true;
  }

  private async deliver(message: OutboxMessage): Promise<void> {
    let body: { text: string; html: string };
    try {
      body = JSON.parse(this.keys.decrypt(message.bodySealed ?? '', `outbox:${message.id}`));
    } catch {
      return this.giveUp(message, message.attempts, 'The stored email cannot be read (was APP_SECRET changed?)');
    }
    try {
      await this.transport.deliver({
        to: message.toAddress,
        subject: message.subject,
        text: body.text,
        html: body.html,
        messageId: message.messageId,
        date: message.createdAt,
      });
    } catch (error) {
      return this.tryLater(message, shortError(error));
    }
    const marked = await this.write(MARK_SENT, [this.clock.nowMs(), message.id, this.instance]);
    if (!marked?.changes)
      this.logger.warn(`Email ${message.id} was sent after its lease ended: another instance may send it too`);
  }

  private async tryLater(message: OutboxMessage, error: string): Promise<void> {
    const attempts = message.attempts + 1;
    const next = afterFailure(message.createdAt, attempts, this.clock.now());
    if ('giveUp' in next) return this.giveUp(message, attempts, error);
    this.logger.warn(
      `Email ${message.id} ("${message.subject}") not sent (try ${attempts}): ${error}; next try at ${next.retryAt.toISOString()}`,
    );
    await this.write(RETRY_LATER, [attempts, next.retryAt.getTime(), error, message.id, this.instance]);
  }

  /** Marks it failed, erases the body and audits `mail.failed`, in one transaction. */
  private async giveUp(message: OutboxMessage, attempts: number, error: string): Promise<void> {
    this.logger.error(`Email ${message.id} ("${message.subject}") given up after ${attempts} tries: ${error}`);
    await this.outsideTransaction();
    let gaveUp = false;
    await this.dataSource.transaction(async (manager) => {
      const result = await manager
        .createQueryBuilder()
        .update(OutboxMessage)
        .set({
          state: 'failed',
          failedAt: this.clock.now(),
          bodySealed: null,
          attempts,
          lastError: error,
          claimedUntil: null,
          claimedBy: null,
        })
        .where(`id = :id AND claimed_by = :me AND state = 'queued'`, { id: message.id, me: this.instance })
        .execute();
      if (!result.affected) return;
      gaveUp = true;
      await this.audit.record(
        {
          type: 'mail.failed',
          organizerId: message.organizerId,
          userId: message.userId,
          detail: { template: message.template, error },
        },
        manager,
      );
    });
    if (gaveUp) for (const listener of this.giveUpListeners) listener();
  }

  /**
   * A write outside any transaction. On SQLite every query shares one connection, so a request's
   * open transaction would swallow it (and its rows not yet committed would be visible, an email
   * of an action that may still roll back): wait until none is open, then run the statement in
   * the same tick as the check (better-sqlite3 runs it synchronously).
   */
  private async write(
    sql: string,
    params: unknown[],
  ): Promise<{ row: Record<string, unknown> | null; changes: number } | null> {
    const sqlite = this.sqlite();
    if (sqlite) {
      const until = performance.now() + SQLITE_WAIT_MS;
      while (sqlite.inTransaction) {
        if (performance.now() > until) return null;
        await pause();
      }
      // No await between the check above and the statement below.
    }
    if (sql.includes('RETURNING')) {
      const row = await this.sql.get(sql, params);
      return { row, changes: row ? 1 : 0 };
    }
    return { row: null, changes: await this.sql.run(sql, params) };
  }

  /** SQLite: resolves true once no transaction is open on the connection (false after SQLITE_WAIT_MS). */
  private async outsideTransaction(): Promise<boolean> {
    const sqlite = this.sqlite();
    if (!sqlite) return true;
    const until = performance.now() + SQLITE_WAIT_MS;
    while (sqlite.inTransaction) {
      if (performance.now() > until) return false;
      await pause();
    }
    return true;
  }

  private sqlite(): SqliteConnection | null {
    if (this.dataSource.options.type !== 'better-sqlite3') return null;
    return (this.dataSource.driver as unknown as { databaseConnection: SqliteConnection }).databaseConnection;
  }
}

const pause = () => new Promise((resolve) => setTimeout(resolve, 2));

/** The mail server's answer or the connection error, on one line and short: never the body. */
function shortError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/\s+/g, ' ').trim().slice(0, 300) || 'Unknown error';
}
