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
import { OrganizerUserCounts } from './organizer-user-counts.entity';
import { TwoFactorState, twoFactorState } from './two-factor-state';

/** How an organizer's users stand with 2FA, over all of them (not a page of the list). */
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
 * user have a confirmed second factor" (also in SQL, for lists), "what is their 2FA state",
 * "how do an organizer's users stand" (adoption), and removes every factor in one place
 * (Resend QR, Disable 2FA). It is also the sign-in's SecondFactorGate.
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

  /** Asked at every step of a sign-in: fixed SQL prepared once (database/prepared-sql.ts). */
  async hasConfirmed(user: Pick<User, 'id'>): Promise<boolean> {
    return (await this.sql.get(this.hasConfirmedSql, [user.id])) !== null;
  }

  /** Of these users, the ids of those with a confirmed second factor (one select per kind that stands alone). */
  async withConfirmed(userIds: string[]): Promise<Set<string>> {
    const confirmed = new Set<string>();
    for (const ids of (await this.confirmedByKind(userIds)).values()) for (const id of ids) confirmed.add(id);
    return confirmed;
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

  /** Of these users, which kinds of second factor each has (kinds that stand alone), one select per kind. */
  async kindsOf(userIds: string[]): Promise<Map<string, FactorKindName[]>> {
    const kinds = new Map<string, FactorKindName[]>(userIds.map((id) => [id, []]));
    for (const [kind, ids] of await this.confirmedByKind(userIds)) for (const id of ids) kinds.get(id)?.push(kind);
    return kinds;
  }

  /**
   * Each kind that stands alone, with those of these users who have one: each kind reads its
   * own table by its user_id index (FactorKind.confirmedAmong), in the kinds' order.
   */
  private async confirmedByKind(userIds: string[]): Promise<Map<FactorKindName, Set<string>>> {
    const standing = this.kinds.filter((kind) => kind.standsAlone);
    const found = await Promise.all(standing.map((kind) => kind.confirmedAmong(userIds, this.dataSource.manager)));
    return new Map(standing.map((kind, i) => [kind.kind, found[i]]));
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

  /**
   * The organizer's users by 2FA state, without reading them: the standing counts are one row
   * that database triggers keep (OrganizerUserCounts), and the code locks, which end by the
   * clock, are read as the few users locked now (a range of the locked_until index), each put
   * through the one rule (twoFactorState). Users who are not off are counted once in
   * `confirmed` or in `requiredUnconfirmed`; the locked ones among them move to `locked`.
   */
  async adoption(organizerId: string): Promise<AdoptionCounts> {
    const [counts, lockedUsers] = await Promise.all([
      this.dataSource.getRepository(OrganizerUserCounts).findOneBy({ organizerId }),
      this.dataSource
        .getRepository(User)
        .createQueryBuilder('u')
        .select(['u.id', 'u.hasSecondFactor', 'u.twoFactorRequired', 'u.twoFactorDeadline'])
        .where('u.organizerId = :organizerId', { organizerId })
        // The pools locked now (a range of the partial locked_until index; a code pool carries its user's id),
        // then of those the code pool (the limiter's definition).
        .andWhere('u.id IN (SELECT ac.user_id FROM "attempt_counters" ac WHERE ac.locked_until > :now)')
        .andWhere(codeLockedSql('u.id'))
        .setParameter('now', this.clock.nowMs())
        .getMany(),
    ]);
    let lockedConfirmed = 0;
    let lockedUnconfirmed = 0;
    for (const user of lockedUsers) {
      const state = twoFactorState({
        required: user.twoFactorRequired,
        hasDeadline: user.twoFactorDeadline != null,
        confirmed: user.hasSecondFactor,
        locked: true,
      });
      if (state === 'locked' && user.hasSecondFactor) lockedConfirmed++;
      else if (state === 'locked') lockedUnconfirmed++;
    }
    const total = counts?.total ?? 0;
    const confirmed = counts?.confirmed ?? 0;
    const requiredUnconfirmed = counts?.requiredUnconfirmed ?? 0;
    return {
      total,
      active: confirmed - lockedConfirmed,
      pending: requiredUnconfirmed - lockedUnconfirmed,
      locked: lockedConfirmed + lockedUnconfirmed,
      off: total - confirmed - requiredUnconfirmed,
      notSetUp: total - confirmed,
      accountLocked: counts?.accountLocked ?? 0,
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
