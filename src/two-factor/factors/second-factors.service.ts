import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { AttemptLimiter, codeLockedSql } from '../../attempts/attempt-limiter.service';
import { SecondFactorGate } from '../../auth/second-factor-gate';
import { Clock } from '../../common/clock';
import { PreparedSql } from '../../database/prepared-sql';
import { User } from '../../users/user.entity';
import { RecoveryCodesService } from '../recovery-codes.service';
import { PasskeyFactor } from '../passkeys/passkey.factor';
import { TotpFactor } from '../totp.factor';
import type { FactorKind, FactorKindName } from './second-factor';
import { TwoFactorState, twoFactorState } from './two-factor-state';

/** How an organizer's users stand with 2FA, counted in the database (not a page of the list). */
export interface AdoptionCounts {
  total: number;
  active: number;
  pending: number;
  locked: number;
  off: number;
  /** Users without a confirmed second factor (the list's "Not set up yet"). */
  notSetUp: number;
  /** Accounts locked by their owner with "This wasn't me". */
  accountLocked: number;
}

/**
 * Which second factors a user has, after django-two-factor-auth's method registry: every
 * kind registers here, and the rest of the app asks only this service. It answers "does this
 * user have a confirmed second factor", "what is their 2FA state" (and both in SQL, for lists
 * and counts), and removes every factor in one place (Resend QR, Disable 2FA). It is also the
 * sign-in's SecondFactorGate.
 */
@Injectable()
export class SecondFactors extends SecondFactorGate {
  private readonly kinds: readonly FactorKind[];

  constructor(
    totp: TotpFactor,
    passkeys: PasskeyFactor,
    recoveryCodes: RecoveryCodesService,
    private readonly limiter: AttemptLimiter,
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
    private readonly sql: PreparedSql,
  ) {
    super();
    const registry = { totp, passkey: passkeys, 'recovery-codes': recoveryCodes } satisfies Record<
      FactorKindName,
      FactorKind
    >;
    this.kinds = Object.values(registry);
    this.hasConfirmedSql = `SELECT 1 AS "yes" FROM "users" u WHERE u."id" = ? AND ${this.confirmedSql('u."id"')}`;
  }

  private readonly hasConfirmedSql: string;

  /** SQL true when the user in `userIdColumn` has a confirmed second factor (a kind that stands alone). */
  confirmedSql(userIdColumn: string): string {
    return `(${this.kinds
      .filter((kind) => kind.standsAlone)
      .map((kind) => kind.confirmedSql(userIdColumn))
      .join(' OR ')})`;
  }

  /**
   * The 2FA state in SQL, for the user row aliased `alias`, with the bound parameter `:now`:
   * the same rule as twoFactorState (two-factor-state.ts).
   */
  stateSql(alias: string): string {
    const confirmed = this.confirmedSql(`${alias}.id`);
    return (
      `CASE WHEN NOT ${confirmed} AND NOT ${alias}.two_factor_required AND ${alias}.two_factor_deadline IS NULL THEN 'off' ` +
      `WHEN ${codeLockedSql(`${alias}.id`)} THEN 'locked' WHEN ${confirmed} THEN 'active' ELSE 'pending' END`
    );
  }

  /** Asked at every step of a sign-in: fixed SQL prepared once (database/prepared-sql.ts). */
  async hasConfirmed(user: Pick<User, 'id'>): Promise<boolean> {
    return (await this.sql.get(this.hasConfirmedSql, [user.id])) !== null;
  }

  /** Of these users, the ids of those with a confirmed second factor (one query, for a page of a list). */
  async withConfirmed(userIds: string[]): Promise<Set<string>> {
    if (!userIds.length) return new Set();
    const rows: { id: string }[] = await this.dataSource
      .createQueryBuilder()
      .select('u.id', 'id')
      .from(User, 'u')
      .where(`u.id IN (:...ids) AND ${this.confirmedSql('u.id')}`, { ids: userIds })
      .getRawMany();
    return new Set(rows.map((row) => row.id));
  }

  /**
   * Whether removing the user's factors of `kind` would leave them without a second factor
   * while 2FA is required of them (the admin's setting or the organizer's policy).
   */
  async isLastFactorRequired(user: User, kind: FactorKindName): Promise<boolean> {
    if (!user.twoFactorRequired && user.twoFactorDeadline == null) return false;
    const others = this.kinds.filter((k) => k.standsAlone && k.kind !== kind);
    if (!others.length) return true;
    const row = await this.sql.get(
      `SELECT 1 AS "yes" FROM "users" u WHERE u."id" = ? AND (${others.map((k) => k.confirmedSql('u."id"')).join(' OR ')})`,
      [user.id],
    );
    return row === null;
  }

  /** Of these users, which kinds of second factor each has (kinds that stand alone), in one query. */
  async kindsOf(userIds: string[]): Promise<Map<string, FactorKindName[]>> {
    const kinds = new Map<string, FactorKindName[]>(userIds.map((id) => [id, []]));
    if (!userIds.length) return kinds;
    const standing = this.kinds.filter((kind) => kind.standsAlone);
    const query = this.dataSource
      .createQueryBuilder()
      .select('u.id', 'id')
      .from(User, 'u')
      .where('u.id IN (:...ids)', { ids: userIds });
    standing.forEach((kind, i) => query.addSelect(`CASE WHEN ${kind.confirmedSql('u.id')} THEN 1 ELSE 0 END`, `k${i}`));
    for (const row of await query.getRawMany<Record<string, string | number>>()) {
      kinds.set(
        String(row.id),
        standing.filter((_, i) => Number(row[`k${i}`]) === 1).map((kind) => kind.kind),
      );
    }
    return kinds;
  }

  async owed(user: User, now: Date): Promise<boolean> {
    return (await this.secondStep(user, now)) !== null;
  }

  async secondStep(user: User, now: Date): Promise<'verify' | 'setup' | null> {
    if (await this.hasConfirmed(user)) return 'verify';
    return user.twoFactorRequired || deadlinePassed(user, now) ? 'setup' : null;
  }

  async setupOverdue(user: User, now: Date): Promise<boolean> {
    if (!user.twoFactorRequired && !deadlinePassed(user, now)) return false;
    return !(await this.hasConfirmed(user));
  }

  async passkeyOverdue(user: User, now: Date): Promise<boolean> {
    // Most requests stop here, on the row already read: only an admin with a passed deadline asks the database.
    if (user.role !== 'admin' || !user.passkeyDeadline || user.passkeyDeadline.getTime() > now.getTime()) return false;
    return !(await this.sql.get(`SELECT 1 AS "yes" WHERE ${this.passkeyKind().confirmedSql('?')}`, [user.id]));
  }

  private passkeyKind(): FactorKind {
    return this.kinds.find((kind) => kind.kind === 'passkey')!;
  }

  /** The user's 2FA state (the one rule, twoFactorState). */
  async state(user: User): Promise<TwoFactorState> {
    const [confirmed, lockedUntil] = await Promise.all([
      this.hasConfirmed(user),
      this.limiter.lockedUntil(this.limiter.codeKey(user.id)),
    ]);
    return twoFactorState({
      required: user.twoFactorRequired,
      hasDeadline: user.twoFactorDeadline != null,
      confirmed,
      locked: lockedUntil !== null,
    });
  }

  /** The states of a page of users, in two queries whatever the page's size. */
  async states(users: User[]): Promise<Map<string, TwoFactorState>> {
    const ids = users.map((user) => user.id);
    const [confirmed, locks] = await Promise.all([this.withConfirmed(ids), this.limiter.codeLocks(ids)]);
    return new Map(
      users.map((user) => [
        user.id,
        twoFactorState({
          required: user.twoFactorRequired,
          hasDeadline: user.twoFactorDeadline != null,
          confirmed: confirmed.has(user.id),
          locked: locks.has(user.id),
        }),
      ]),
    );
  }

  /** The organizer's users by 2FA state, in one query over all of them (stateSql: the same rule as every page). */
  async adoption(organizerId: string): Promise<AdoptionCounts> {
    const row = await this.dataSource
      .createQueryBuilder()
      .select('COUNT(*)', 'total')
      .addSelect(`SUM(CASE WHEN s.state = 'active' THEN 1 ELSE 0 END)`, 'active')
      .addSelect(`SUM(CASE WHEN s.state = 'pending' THEN 1 ELSE 0 END)`, 'pending')
      .addSelect(`SUM(CASE WHEN s.state = 'locked' THEN 1 ELSE 0 END)`, 'locked')
      .addSelect(`SUM(CASE WHEN s.state = 'off' THEN 1 ELSE 0 END)`, 'off')
      .addSelect('SUM(s.not_set_up)', 'notSetUp')
      .addSelect('SUM(s.account_locked)', 'accountLocked')
      .from(
        (sub) =>
          sub
            .select(this.stateSql('u'), 'state')
            .addSelect(`CASE WHEN ${this.confirmedSql('u.id')} THEN 0 ELSE 1 END`, 'not_set_up')
            .addSelect('CASE WHEN u.account_locked_at IS NOT NULL THEN 1 ELSE 0 END', 'account_locked')
            .from(User, 'u')
            .where('u.organizer_id = :organizerId'),
        's',
      )
      .setParameters({ organizerId, now: this.clock.nowMs() })
      .getRawOne<Record<keyof AdoptionCounts, string | number | null>>();
    const count = (key: keyof AdoptionCounts) => Number(row?.[key] ?? 0);
    return {
      total: count('total'),
      active: count('active'),
      pending: count('pending'),
      locked: count('locked'),
      off: count('off'),
      notSetUp: count('notSetUp'),
      accountLocked: count('accountLocked'),
    };
  }

  /**
   * Removes every second factor of the user, of every kind, and the lock of their codes:
   * the one entry for Resend QR and Disable 2FA.
   */
  async removeAll(userId: string, manager: EntityManager): Promise<void> {
    for (const kind of this.kinds) await kind.removeAll(userId, manager);
    await this.limiter.clearCodes(userId, manager);
  }
}

function deadlinePassed(user: User, now: Date): boolean {
  return user.twoFactorDeadline != null && user.twoFactorDeadline.getTime() <= now.getTime();
}
