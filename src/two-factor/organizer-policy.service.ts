import { Injectable, NotFoundException } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { Clock } from '../common/clock';
import { MessageConflictException } from '../common/exceptions';
import { Organizer } from '../organizers/organizer.entity';
import { OrganizersService } from '../organizers/organizers.service';
import { UsersService } from '../users/users.service';
import { SecondFactors } from './factors/second-factors.service';
import { PasskeyFactor } from './passkeys/passkey.factor';

/** The longest grace period an admin can give (issue 7: 0 to 30 days). */
export const MAX_GRACE_DAYS = 30;

/** The grace period's range, as a message (the admin's form says the same). */
export const GRACE_RANGE = { key: 'twoFactor.policy.graceRange', values: { max: MAX_GRACE_DAYS } };

export const DAY_MS = 24 * 60 * 60 * 1000;

/** "Require 2FA for everyone in this organizer", and how long people have to set it up. */
export interface OrganizerPolicy {
  requireTwoFactor: boolean;
  graceDays: number;
}

/** The organizer's passkey settings (issue 13). */
export interface PasskeyPolicy {
  /** "Allow sign-in with a passkey alone". */
  allowPasskeySignIn: boolean;
  /** "Require a passkey for admins", with a grace period like the 2FA policy's. */
  requireAdminPasskey: boolean;
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

/**
 * The organizer-wide 2FA policy (issue 7). The deadlines live on the users
 * (`twoFactorDeadline`); sign-in reads them through `User.secondFactorOwed`. Rules:
 * turning the policy on gives every user without an active authenticator one deadline
 * (now + grace); a deadline is never pushed back, neither by the user nor by a longer
 * grace period, but a shorter one applies at once; users created while the policy is on
 * get a deadline too (OrganizersService.twoFactorDeadlineForNewUser); turning it off removes
 * every deadline of the organizer. It lives in two-factor: it asks which users have a factor.
 */
@Injectable()
export class OrganizerPolicyService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly organizers: OrganizersService,
    private readonly users: UsersService,
    private readonly factors: SecondFactors,
    private readonly passkeys: PasskeyFactor,
    private readonly audit: AuditService,
    private readonly clock: Clock,
  ) {}

  /**
   * Saves the passkey settings. "Require a passkey for admins" follows the 2FA policy's grace
   * rules: turning it on gives every admin without a passkey one deadline (now + grace), a
   * shorter grace applies at once, a longer one never pushes a deadline back, admins created
   * while it is on get one (OrganizersService.passkeyDeadlineForNewAdmin), and turning it off
   * removes them. False when nothing changed.
   */
  async updatePasskeys(
    organizerId: string,
    wanted: PasskeyPolicy,
    actorId: string | null,
    ip: string | null,
  ): Promise<boolean> {
    if (!Number.isInteger(wanted.graceDays) || wanted.graceDays < 0 || wanted.graceDays > MAX_GRACE_DAYS) {
      throw new MessageConflictException(GRACE_RANGE);
    }
    return this.dataSource.transaction(async (manager) => {
      const organizer = await this.organizers.readForPolicy(organizerId, manager, true, 'for_no_key_update');
      if (!organizer) throw new NotFoundException('errors.noSuchOrganizer');
      if (
        organizer.allowPasskeySignIn === wanted.allowPasskeySignIn &&
        organizer.requireAdminPasskey === wanted.requireAdminPasskey &&
        organizer.adminPasskeyGraceDays === wanted.graceDays
      ) {
        return false;
      }
      await manager.getRepository(Organizer).update(
        { id: organizerId },
        {
          allowPasskeySignIn: wanted.allowPasskeySignIn,
          requireAdminPasskey: wanted.requireAdminPasskey,
          adminPasskeyGraceDays: wanted.graceDays,
        },
      );
      let started = 0;
      if (wanted.requireAdminPasskey) {
        const deadline = deadlineFrom(this.clock.now(), wanted.graceDays);
        const noPasskey = `NOT ${this.passkeys.confirmedSql('"users"."id"')}`;
        started = await this.users.startPasskeyDeadlines(organizerId, deadline, noPasskey, manager);
      } else {
        await this.users.clearPasskeyDeadlines(organizerId, manager);
      }
      await this.audit.record(
        { type: 'organizer.passkey_policy_changed', organizerId, actorId, ip, detail: { ...wanted, started } },
        manager,
      );
      return true;
    });
  }

  /**
   * Saves the policy and applies it to the organizer's users in one transaction with its
   * audit event (see the class comment for the rules). `graceDays` must be a whole
   * number from 0 to MAX_GRACE_DAYS (the form checks it first; this is the last line).
   */
  async update(
    organizerId: string,
    policy: OrganizerPolicy,
    actorId: string | null,
    ip: string | null,
  ): Promise<PolicyChange> {
    if (!Number.isInteger(policy.graceDays) || policy.graceDays < 0 || policy.graceDays > MAX_GRACE_DAYS) {
      throw new MessageConflictException(GRACE_RANGE);
    }
    const wanted: OrganizerPolicy = { requireTwoFactor: policy.requireTwoFactor, graceDays: policy.graceDays };
    return this.dataSource.transaction(async (manager) => {
      const organizer = await this.organizers.readForPolicy(organizerId, manager, true, 'for_no_key_update');
      if (!organizer) throw new NotFoundException('errors.noSuchOrganizer');
      const previous = policyOf(organizer);
      const change: PolicyChange = { changed: false, previous, policy: wanted, started: 0, shortened: 0, cleared: 0 };
      if (previous.requireTwoFactor === wanted.requireTwoFactor && previous.graceDays === wanted.graceDays)
        return change;

      await manager
        .getRepository(Organizer)
        .update(
          { id: organizerId },
          { requireTwoFactor: wanted.requireTwoFactor, twoFactorGraceDays: wanted.graceDays },
        );
      if (wanted.requireTwoFactor) {
        const deadline = deadlineFrom(this.clock.now(), wanted.graceDays);
        // A shorter grace period applies at once; a longer one never moves a deadline later.
        change.shortened = await this.users.bringTwoFactorDeadlinesForward(organizerId, deadline, manager);
        // One deadline per user who has no confirmed second factor and none yet (the first save turning it on).
        change.started = await this.users.startTwoFactorDeadlines(
          organizerId,
          deadline,
          `NOT ${this.factors.confirmedSql('"users"."id"')}`,
          manager,
        );
      } else {
        change.cleared = await this.users.clearTwoFactorDeadlines(organizerId, manager);
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
}

function policyOf(organizer: Organizer): OrganizerPolicy {
  return { requireTwoFactor: organizer.requireTwoFactor, graceDays: organizer.twoFactorGraceDays };
}

function deadlineFrom(now: Date, graceDays: number): Date {
  return new Date(now.getTime() + graceDays * DAY_MS);
}
