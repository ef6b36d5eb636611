import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, In, Repository } from 'typeorm';
import { Clock } from '../common/clock';
import { KeyRing } from '../common/crypto/key-ring';
import { AppConfig } from '../config/app-config';
import { PreparedSql } from '../database/prepared-sql';
import { AttemptCounter } from './attempt-counter.entity';
import { clientGroup } from './client-address';

/**
 * The pools attempts are counted in (SECURITY.md 3, 24, 26):
 * - `password`: wrong passwords for one email from browsers that never signed in to it (the untrusted pool);
 * - `device`: wrong passwords from one browser holding a device cookie for the account;
 * - `client`: wrong passwords from one client address (IPv6 by /64) across every account;
 * - `code`: wrong TOTP or recovery codes of one account;
 * - `reset-address`, `reset-client`: forgot-password requests for one address and from one client
 *   address (IPv6 by /64); every request counts, whether or not an account has the address.
 */
export type AttemptPool = 'password' | 'device' | 'client' | 'code' | 'reset-address' | 'reset-client';

/** One pool an attempt counts in. Made by the limiter's key methods only. */
export interface PoolKey {
  readonly pool: AttemptPool;
  readonly key: string;
  readonly userId: string | null;
}

interface PoolRule {
  maxFailures: number;
  lockMs: number;
  /** Counting starts again from zero once this much time passed since it began. */
  windowMs: number;
  /** `reset`: a right secret clears the failures ("in a row"); `release`: it only gives back its own reservation. */
  onSuccess: 'reset' | 'release';
}

export type Guarded<T> =
  | { checked: false; refusedBy: AttemptPool; retryAt: Date }
  | { checked: true; ok: boolean; value: T; lockedNow: { pool: AttemptPool; until: Date }[] };

const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;
const TABLE = '"attempt_counters"';

/**
 * Reserve, check, settle: the one mechanism for every attempt at a secret. An attempt is
 * reserved with one atomic statement per pool before its secret is checked (a conditional
 * upsert that fails once failures plus checks in flight reach the limit), so that 40
 * requests at once, on one instance or several, get at most the limit checked; then it is
 * settled as a success or a failure. The request whose failure reaches the limit sets the
 * lock, so exactly one request per lock reports it (audit, email).
 */
@Injectable()
export class AttemptLimiter {
  private readonly rules: Record<AttemptPool, PoolRule>;

  constructor(
    @InjectRepository(AttemptCounter) private readonly counters: Repository<AttemptCounter>,
    private readonly sql: PreparedSql,
    private readonly keys: KeyRing,
    private readonly clock: Clock,
    config: AppConfig,
  ) {
    const { password, code, client, reset } = config.limits;
    const inARow = (limit: { maxFailures: number; lockMinutes: number }): PoolRule => ({
      maxFailures: limit.maxFailures,
      lockMs: limit.lockMinutes * MINUTE_MS,
      windowMs: DAY_MS,
      onSuccess: 'reset',
    });
    this.rules = {
      password: inARow(password),
      device: inARow(password),
      code: inARow(code),
      client: {
        maxFailures: client.maxFailures,
        lockMs: client.lockMinutes * MINUTE_MS,
        windowMs: client.lockMinutes * MINUTE_MS,
        onSuccess: 'release',
      },
      // A request that reaches the limit locks for a whole window: at most that many per window.
      'reset-address': perWindow(reset.perAddress, reset.windowMinutes),
      'reset-client': perWindow(reset.perClient, reset.windowMinutes),
    } satisfies Record<AttemptPool, PoolRule>;
  }

  /** The untrusted pool of a login name, whether or not an account has it (an unknown email locks alike). */
  passwordKey(email: string, userId: string | null): PoolKey {
    return { pool: 'password', key: 'password:' + this.keys.hash('attempt-counter', email), userId };
  }

  /** The pool of one browser's device cookie for one account. */
  deviceKey(deviceId: string, userId: string): PoolKey {
    return { pool: 'device', key: 'device:' + this.keys.hash('attempt-counter', `${userId}:${deviceId}`), userId };
  }

  /** The pool of one client address (IPv6 by /64) across all accounts. */
  clientKey(address: string | null | undefined): PoolKey {
    return { pool: 'client', key: 'client:' + this.keys.hash('attempt-counter', clientGroup(address)), userId: null };
  }

  /** The forgot-password requests for one login name (keyed hash), whether or not an account has it. */
  resetAddressKey(email: string): PoolKey {
    return { pool: 'reset-address', key: 'reset-address:' + this.keys.hash('attempt-counter', email), userId: null };
  }

  /** The forgot-password requests from one client address (IPv6 by /64), whatever the email. */
  resetClientKey(address: string | null | undefined): PoolKey {
    return {
      pool: 'reset-client',
      key: 'reset-client:' + this.keys.hash('attempt-counter', clientGroup(address)),
      userId: null,
    };
  }

  /** The second-factor pool of an account (TOTP and recovery codes together). */
  codeKey(userId: string): PoolKey {
    return { pool: 'code', key: codeKeyOf(userId), userId };
  }

  /**
   * Runs `check` only once an attempt is reserved in every pool, then settles it: `ok`
   * as a success, anything else as a failure. A pool that is locked or full refuses
   * without running `check` (no hash is computed for a refused attempt: a flood of them
   * costs nothing, and the refusal, the same for every email, tells nothing). If `check`
   * throws, the reservations are given back.
   */
  async guard<T>(keys: PoolKey[], check: () => Promise<{ ok: boolean; value: T }>): Promise<Guarded<T>> {
    const reserved: PoolKey[] = [];
    for (const key of keys) {
      if (await this.reserve(key)) {
        reserved.push(key);
        continue;
      }
      await this.release(reserved);
      return { checked: false, refusedBy: key.pool, retryAt: await this.retryAt(key) };
    }
    let result: { ok: boolean; value: T };
    try {
      result = await check();
    } catch (error) {
      await this.release(reserved);
      throw error;
    }
    if (result.ok) {
      for (const key of reserved) await this.succeeded(key);
      return { checked: true, ok: true, value: result.value, lockedNow: [] };
    }
    const lockedNow: { pool: AttemptPool; until: Date }[] = [];
    for (const key of reserved) {
      const until = await this.failed(key);
      if (until) lockedNow.push({ pool: key.pool, until });
    }
    return { checked: true, ok: false, value: result.value, lockedNow };
  }

  /**
   * Counts one request in every pool, for actions limited however they end (a reset email:
   * nothing is checked, every request counts). Refused without counting when a pool is full.
   */
  async take(keys: PoolKey[]): Promise<{ taken: true } | { taken: false; refusedBy: AttemptPool; retryAt: Date }> {
    const result = await this.guard(keys, async () => ({ ok: false, value: undefined }));
    return result.checked ? { taken: true } : { taken: false, refusedBy: result.refusedBy, retryAt: result.retryAt };
  }

  /** Until when the pool refuses attempts, or null. */
  async lockedUntil(key: PoolKey): Promise<Date | null> {
    const row = await this.sql.get(`SELECT "locked_until" FROM ${TABLE} WHERE "key" = ?`, [key.key]);
    const until = row?.locked_until == null ? null : Number(row.locked_until);
    return until !== null && until > this.clock.nowMs() ? new Date(until) : null;
  }

  /** The users among `userIds` whose second factor is locked now, with until when. */
  async codeLocks(userIds: string[]): Promise<Map<string, Date>> {
    const locks = new Map<string, Date>();
    if (!userIds.length) return locks;
    const rows = await this.counters.findBy({ key: In(userIds.map(codeKeyOf)) });
    for (const row of rows) {
      if (row.userId && row.lockedUntil && row.lockedUntil.getTime() > this.clock.nowMs())
        locks.set(row.userId, row.lockedUntil);
    }
    return locks;
  }

  /** The account's locks now: its untrusted and device password pools, and its code pool. */
  async locksOf(userId: string, email: string): Promise<{ password: Date | null; code: Date | null }> {
    const rows = await this.counters.find({ where: [{ userId }, { key: this.passwordKey(email, userId).key }] });
    const now = this.clock.nowMs();
    const latest = (pools: AttemptPool[]) =>
      rows
        .filter(
          (row) =>
            pools.some((pool) => row.key.startsWith(pool + ':')) && row.lockedUntil && row.lockedUntil.getTime() > now,
        )
        .map((row) => row.lockedUntil!)
        .sort((a, b) => b.getTime() - a.getTime())[0] ?? null;
    return { password: latest(['password', 'device']), code: latest(['code']) };
  }

  /**
   * Lifts every lock and count of an account (an admin's Unlock account): its untrusted
   * password pool, every device pool, its code pool. Returns the locks it lifted.
   */
  async clearAccount(userId: string, email: string): Promise<{ password: Date | null; code: Date | null }> {
    const lifted = await this.locksOf(userId, email);
    await this.counters.delete({ userId });
    await this.counters.delete({ key: this.passwordKey(email, userId).key });
    return lifted;
  }

  /**
   * Clears an account's password pools, untrusted and every device, but not its code pool: the
   * owner proved the mailbox and chose a new password (a reset link); a 2FA lock still holds.
   */
  async clearPasswords(userId: string, email: string, manager?: EntityManager): Promise<void> {
    const counters = manager ? manager.getRepository(AttemptCounter) : this.counters;
    await counters.delete({ key: this.passwordKey(email, userId).key });
    await counters
      .createQueryBuilder()
      .delete()
      .where('"user_id" = :userId AND "key" LIKE :device', { userId, device: 'device:%' })
      .execute();
  }

  /** Clears an account's code pool (its authenticator was reset or removed: old failures mean nothing now). */
  async clearCodes(userId: string, manager?: EntityManager): Promise<void> {
    await (manager ? manager.getRepository(AttemptCounter) : this.counters).delete({ key: codeKeyOf(userId) });
  }

  /** Forgets rows that neither lock nor count anymore (called by the pruner). */
  async prune(): Promise<number> {
    const now = this.clock.nowMs();
    const result = await this.counters
      .createQueryBuilder()
      .delete()
      .where('window_started_at < :dayAgo AND (locked_until IS NULL OR locked_until < :now)', {
        dayAgo: now - DAY_MS,
        now,
      })
      .execute();
    return result.affected ?? 0;
  }

  /**
   * One atomic upsert: a new pool starts with this reservation; an existing one takes it
   * only while unlocked and while failures plus checks in flight are under the limit. A
   * window or lock that has passed starts the count again.
   */
  private async reserve(key: PoolKey): Promise<boolean> {
    const rule = this.rules[key.pool];
    const now = this.clock.nowMs();
    const windowStart = now - rule.windowMs;
    const c = (column: string) => `${TABLE}."${column}"`;
    const restart = `(${c('window_started_at')} < ? OR (${c('locked_until')} IS NOT NULL AND ${c('locked_until')} <= ?))`;
    const changed = await this.sql.run(
      `INSERT INTO ${TABLE} ("key", "user_id", "reserved_count", "failed_count", "window_started_at", "locked_until", "updated_at") ` +
        `VALUES (?, ?, 1, 0, ?, NULL, ?) ON CONFLICT ("key") DO UPDATE SET ` +
        `"reserved_count" = CASE WHEN ${restart} THEN 1 ELSE ${c('reserved_count')} + 1 END, ` +
        `"failed_count" = CASE WHEN ${restart} THEN 0 ELSE ${c('failed_count')} END, ` +
        `"window_started_at" = CASE WHEN ${restart} THEN ? ELSE ${c('window_started_at')} END, ` +
        `"locked_until" = CASE WHEN ${restart} THEN NULL ELSE ${c('locked_until')} END, ` +
        `"user_id" = COALESCE(${c('user_id')}, excluded."user_id"), "updated_at" = ? ` +
        `WHERE (${c('locked_until')} IS NULL OR ${c('locked_until')} <= ?) AND (${restart} OR ${c('reserved_count')} < ?)`,
      [
        key.key,
        key.userId,
        now,
        now,
        ...restartParams(),
        ...restartParams(),
        ...restartParams(),
        now,
        ...restartParams(),
        now,
        now,
        ...restartParams(),
        rule.maxFailures,
      ],
    );
    return changed === 1;

    function restartParams() {
      return [windowStart, now];
    }
  }

  /**
   * A failure keeps its reservation and counts; the failure that reaches the limit sets
   * the lock and starts the count again. Returns the lock's end for that one request.
   */
  private async failed(key: PoolKey): Promise<Date | null> {
    const rule = this.rules[key.pool];
    const now = this.clock.nowMs();
    const until = now + rule.lockMs;
    const reaches = `"failed_count" + 1 >= ?`;
    const row = await this.sql.get(
      `UPDATE ${TABLE} SET ` +
        `"locked_until" = CASE WHEN ${reaches} THEN ? ELSE "locked_until" END, ` +
        `"reserved_count" = CASE WHEN ${reaches} THEN 0 ELSE "reserved_count" END, ` +
        `"failed_count" = CASE WHEN ${reaches} THEN 0 ELSE "failed_count" + 1 END, ` +
        `"window_started_at" = CASE WHEN ${reaches} THEN ? ELSE "window_started_at" END, ` +
        `"updated_at" = ? WHERE "key" = ? RETURNING "failed_count", "locked_until"`,
      [rule.maxFailures, until, rule.maxFailures, rule.maxFailures, rule.maxFailures, now, now, key.key],
    );
    // Only the statement that reached the limit leaves the count at zero with this lock.
    return row && Number(row.failed_count) === 0 && Number(row.locked_until) === until ? new Date(until) : null;
  }

  /** A right secret: the "in a row" pools forget their failures, the per-client pool gives back this reservation. */
  private async succeeded(key: PoolKey): Promise<void> {
    if (this.rules[key.pool].onSuccess === 'release') return this.release([key]);
    // Most sign-ins find a pool with only their own reservation: forget it.
    const deleted = await this.sql.run(
      `DELETE FROM ${TABLE} WHERE "key" = ? AND "reserved_count" <= 1 AND "failed_count" = 0 AND "locked_until" IS NULL`,
      [key.key],
    );
    if (deleted) return;
    await this.sql.run(
      `UPDATE ${TABLE} SET "reserved_count" = CASE WHEN "reserved_count" - "failed_count" > 1 THEN "reserved_count" - "failed_count" - 1 ELSE 0 END, ` +
        `"failed_count" = 0, "updated_at" = ? WHERE "key" = ?`,
      [this.clock.nowMs(), key.key],
    );
  }

  private async release(keys: PoolKey[]): Promise<void> {
    for (const key of keys) {
      await this.sql.run(
        `UPDATE ${TABLE} SET "reserved_count" = CASE WHEN "reserved_count" > 0 THEN "reserved_count" - 1 ELSE 0 END WHERE "key" = ?`,
        [key.key],
      );
    }
  }

  /** When a refused attempt may try again: the lock's end, or (a pool full of checks in flight) one lock from now. */
  private async retryAt(key: PoolKey): Promise<Date> {
    return (await this.lockedUntil(key)) ?? new Date(this.clock.nowMs() + this.rules[key.pool].lockMs);
  }
}

function perWindow(max: number, windowMinutes: number): PoolRule {
  return {
    maxFailures: max,
    lockMs: windowMinutes * MINUTE_MS,
    windowMs: windowMinutes * MINUTE_MS,
    onSuccess: 'release',
  };
}

function codeKeyOf(userId: string): string {
  return 'code:' + userId;
}

/**
 * SQL that is true while the code pool of the user in `userIdColumn` is locked at the
 * bound parameter `:now` (for the admin pages' counts and filters).
 */
export function codeLockedSql(userIdColumn: string): string {
  return `EXISTS (SELECT 1 FROM ${TABLE} ac WHERE ac."key" = 'code:' || ${userIdColumn} AND ac."locked_until" > :now)`;
}
