import { ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { codeLockedSql } from '../attempts/attempt-limiter.service';
import { AuditService } from '../audit/audit.service';
import { Clock } from '../common/clock';
import { Organizer } from '../organizers/organizer.entity';
import { User } from './user.entity';

/** The longest grace period an admin can give (issue 7: 0 to 30 days). */
export const MAX_GRACE_DAYS = 30;
export const DAY_MS = 24 * 60 * 60 * 1000;

/** "Require 2FA for everyone in this organizer", and how long people have to set it up. */
export interface OrganizerPolicy {
  requireTwoFactor: boolean;
  graceDays: number;
}

/** What saving the policy did. */
export interface PolicyChange {
  /** False when the form was saved with the policy as it already was: nothing was written or audited. */
  changed: boolean;
  previous: OrganizerPolicy;
  policy: OrganizerPolicy;
  /** Users without an active authenticator who got their first deadline. */
  started: number;
  /** Users whose deadline was brought forward by a shorter grace period. */
  shortened: number;
  /** Users whose deadline was removed because the policy was turned off. */
  cleared: number;
}

/** How an organizer's users stand with 2FA, counted in the database (not a page of the list). */
export interface AdoptionCounts {
  total: number;
  active: number;
  pending: number;
  locked: number;
  off: number;
  /** Users without an active authenticator (the list's "Not set up yet"). */
  notSetUp: number;
  /** Accounts locked by their owner with "This wasn't me". */
  accountLocked: number;
}

/** SQL for "has an active (confirmed) authenticator", as User.hasConfirmedTotp. */
export const HAS_CONFIRMED_TOTP_SQL = '(totp_secret_enc IS NOT NULL AND totp_confirmed_at IS NOT NULL)';

/**
 * The organizer-wide 2FA policy (issue 7). The deadlines live on the users
 * (`twoFactorDeadline`); sign-in reads them through `User.secondFactorOwed`. Rules:
 * turning the policy on gives every user without an active authenticator one deadline
 * (now + grace); a deadline is never pushed back, neither by the user nor by a longer
 * grace period, but a shorter one applies at once; users created while the policy is on
 * get a deadline too; turning it off removes every deadline of the organizer.
 * It lives beside the users because it changes their rows; organizers know nothing of users.
 */
@Injectable()
export class OrganizerPolicyService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly clock: Clock,
  ) {}

  async policyOf(organizerId: string): Promise<OrganizerPolicy> {
    const organizer = await this.dataSource.getRepository(Organizer).findOneBy({ id: organizerId });
    if (!organizer) throw new NotFoundException('No such organizer.');
    return policyOf(organizer);
  }

  /**
   * Whether the organizer requires 2FA of everyone: Disable 2FA is then refused for its
   * users. With a transaction's manager the row is share-locked on PostgreSQL, as below.
   */
  async requiresTwoFactor(organizerId: string, manager?: EntityManager): Promise<boolean> {
    const organizer = await this.readOrganizer(organizerId, manager ?? this.dataSource.manager, !!manager);
    return organizer?.requireTwoFactor ?? false;
  }

  /**
   * The deadline of a user created now in this organizer: now + grace while the policy
   * is on, none otherwise. Pass the creating transaction's manager: on PostgreSQL the
   * organizer row is then read with a share lock, so a policy change saved at the same
   * moment waits for the new user (and applies to them) or is seen by it.
   */
  async deadlineForNewUser(organizerId: string, manager?: EntityManager): Promise<Date | null> {
    const organizer = await this.readOrganizer(organizerId, manager ?? this.dataSource.manager, !!manager);
    if (!organizer?.requireTwoFactor) return null;
    return deadlineFrom(this.clock.now(), organizer.twoFactorGraceDays);
  }

  /**
   * Saves the policy and applies it to the organizer's users in one transaction with its
   * audit event (see the class comment for the rules). `graceDays` must be a whole
   * number from 0 to MAX_GRACE_DAYS (the form checks it first; this is the last line).
   */
  async update(organizerId: string, policy: OrganizerPolicy, actorId: string | null, ip: string | null): Promise<PolicyChange> {
    if (!Number.isInteger(policy.graceDays) || policy.graceDays < 0 || policy.graceDays > MAX_GRACE_DAYS) {
      throw new ConflictException(`The grace period is a whole number of days from 0 to ${MAX_GRACE_DAYS}.`);
    }
    const wanted: OrganizerPolicy = { requireTwoFactor: policy.requireTwoFactor, graceDays: policy.graceDays };
    return this.dataSource.transaction(async (manager) => {
      const organizer = await this.readOrganizer(organizerId, manager, true, 'pessimistic_write');
      if (!organizer) throw new NotFoundException('No such organizer.');
      const previous = policyOf(organizer);
      const change: PolicyChange = { changed: false, previous, policy: wanted, started: 0, shortened: 0, cleared: 0 };
      if (previous.requireTwoFactor === wanted.requireTwoFactor && previous.graceDays === wanted.graceDays) return change;

      await manager.getRepository(Organizer).update({ id: organizerId }, { requireTwoFactor: wanted.requireTwoFactor, twoFactorGraceDays: wanted.graceDays });
      const users = manager.getRepository(User);
      if (wanted.requireTwoFactor) {
        const deadline = deadlineFrom(this.clock.now(), wanted.graceDays);
        // A shorter grace period applies at once; a longer one never moves a deadline later.
        const shortened = await users
          .createQueryBuilder()
          .update()
          .set({ twoFactorDeadline: deadline })
          .where('organizer_id = :organizerId AND two_factor_deadline > :deadline', { organizerId, deadline: deadline.getTime() })
          .execute();
        // One deadline per user who has no active authenticator and none yet (the first save turning it on).
        const started = await users
          .createQueryBuilder()
          .update()
          .set({ twoFactorDeadline: deadline })
          .where(`organizer_id = :organizerId AND two_factor_deadline IS NULL AND NOT ${HAS_CONFIRMED_TOTP_SQL}`, { organizerId })
          .execute();
        change.shortened = shortened.affected ?? 0;
        change.started = started.affected ?? 0;
      } else {
        const cleared = await users
          .createQueryBuilder()
          .update()
          .set({ twoFactorDeadline: null })
          .where('organizer_id = :organizerId AND two_factor_deadline IS NOT NULL', { organizerId })
          .execute();
        change.cleared = cleared.affected ?? 0;
      }
      await this.audit.record(
        {
          type: 'organizer.policy_changed',
          organizerId,
          actorId,
          ip,
          detail: {
            requireTwoFactor: wanted.requireTwoFactor ? 'on' : 'off',
            graceDays: wanted.graceDays,
            previous: { requireTwoFactor: previous.requireTwoFactor ? 'on' : 'off', graceDays: previous.graceDays },
            started: change.started,
            shortened: change.shortened,
            cleared: change.cleared,
          },
        },
        manager,
      );
      change.changed = true;
      return change;
    });
  }

  /**
   * The organizer's users by 2FA state, in one query over all of them. The words are
   * PRODUCT.md's; a user without 2FA of their own but with a policy deadline counts as
   * `Pending setup` (the policy requires it), as on the admin pages.
   */
  async adoption(organizerId: string): Promise<AdoptionCounts> {
    const now = this.clock.now().getTime();
    const off = `(two_factor_required = :no AND NOT ${HAS_CONFIRMED_TOTP_SQL} AND two_factor_deadline IS NULL)`;
    const locked = `(NOT ${off} AND ${codeLockedSql('u.id')})`;
    const row = await this.dataSource
      .getRepository(User)
      .createQueryBuilder('u')
      .select('COUNT(*)', 'total')
      .addSelect(`SUM(CASE WHEN ${off} THEN 1 ELSE 0 END)`, 'off')
      .addSelect(`SUM(CASE WHEN ${locked} THEN 1 ELSE 0 END)`, 'locked')
      .addSelect(`SUM(CASE WHEN NOT ${off} AND NOT ${locked} AND ${HAS_CONFIRMED_TOTP_SQL} THEN 1 ELSE 0 END)`, 'active')
      .addSelect(`SUM(CASE WHEN NOT ${off} AND NOT ${locked} AND NOT ${HAS_CONFIRMED_TOTP_SQL} THEN 1 ELSE 0 END)`, 'pending')
      .addSelect(`SUM(CASE WHEN NOT ${HAS_CONFIRMED_TOTP_SQL} THEN 1 ELSE 0 END)`, 'notSetUp')
      .addSelect('SUM(CASE WHEN account_locked_at IS NOT NULL THEN 1 ELSE 0 END)', 'accountLocked')
      .where('u.organizer_id = :organizerId', { organizerId, now, no: false })
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

  /** The organizer row; inside a transaction on PostgreSQL, locked (share or update) against a concurrent policy change. */
  private readOrganizer(
    organizerId: string,
    manager: EntityManager,
    inTransaction: boolean,
    mode: 'pessimistic_read' | 'pessimistic_write' = 'pessimistic_read',
  ): Promise<Organizer | null> {
    const query = manager.getRepository(Organizer).createQueryBuilder('o').where('o.id = :organizerId', { organizerId });
    // SQLite has no row locks: its writers are serialized by the database lock instead.
    if (inTransaction && manager.connection.options.type === 'postgres') query.setLock(mode);
    return query.getOne();
  }
}

function policyOf(organizer: Organizer): OrganizerPolicy {
  return { requireTwoFactor: organizer.requireTwoFactor, graceDays: organizer.twoFactorGraceDays };
}

function deadlineFrom(now: Date, graceDays: number): Date {
  return new Date(now.getTime() + graceDays * DAY_MS);
}
