import { ConflictException, Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import { Clock } from '../common/clock';
import { OrganizersService } from '../organizers/organizers.service';
import { SecondFactors } from '../two-factor/factors/second-factors.service';
import { DAY_MS, MAX_GRACE_DAYS, OrganizerPolicyService, PolicyChange } from '../two-factor/organizer-policy.service';
import { User } from '../users/user.entity';
import { UsersService } from '../users/users.service';
import type { Flash, Outcome } from './admin-views';
import { isChecked } from './dto/create-user.dto';
import { OrganizerPolicyDto } from './dto/organizer-policy.dto';

export const ORGANIZER_PAGE = '/admin/organizer';

/**
 * The admin's page about their own organizer (issue 7): the 2FA policy. The rules are
 * OrganizerPolicyService's; this shapes the page and the message after saving.
 */
@Injectable()
export class AdminOrganizerService {
  constructor(
    private readonly policies: OrganizerPolicyService,
    private readonly factors: SecondFactors,
    private readonly organizers: OrganizersService,
    private readonly users: UsersService,
    private readonly audit: AuditService,
    private readonly clock: Clock,
  ) {}

  /** The policy form with the organizer's current values, its adoption and the last change. */
  async page(admin: User) {
    const organizer = await this.organizers.getById(admin.organizerId);
    const [adoption, last] = await Promise.all([
      this.factors.adoption(organizer.id),
      this.audit.latestInOrganizer(organizer.id, 'organizer.policy_changed'),
    ]);
    const names = await this.users.namesIn(organizer.id, [last?.actorId]);
    return {
      title: 'Organizer 2FA policy',
      organizerName: organizer.name,
      input: {
        requireTwoFactor: organizer.requireTwoFactor ? 'on' : '',
        graceDays: String(organizer.twoFactorGraceDays),
      },
      maxGraceDays: MAX_GRACE_DAYS,
      passkeyPolicy: {
        allowPasskeySignIn: organizer.allowPasskeySignIn,
        requireAdminPasskey: organizer.requireAdminPasskey,
        graceDays: organizer.adminPasskeyGraceDays,
      },
      current: {
        on: organizer.requireTwoFactor,
        graceDays: organizer.twoFactorGraceDays,
        adoption,
        lastChange: last
          ? {
              at: last.createdAt,
              by: (last.actorId && names.get(last.actorId)) || (last.actorId ? 'An admin' : 'The command line'),
            }
          : null,
      },
    };
  }

  /** The passkey settings of the admin's organizer (its own form on the page). */
  async savePasskeys(admin: User, body: Record<string, unknown>, ip: string | null): Promise<Outcome> {
    const typed = body.adminPasskeyGraceDays;
    const days =
      typed === undefined || typed === ''
        ? 0
        : typeof typed === 'string' && /^\s*\d{1,3}\s*$/.test(typed)
          ? Number(typed)
          : NaN;
    const checked = (field: string) => isChecked(typeof body[field] === 'string' ? (body[field] as string) : undefined);
    try {
      const changed = await this.policies.updatePasskeys(
        admin.organizerId,
        {
          allowPasskeySignIn: checked('allowPasskeySignIn'),
          requireAdminPasskey: checked('requireAdminPasskey'),
          graceDays: days,
        },
        admin.id,
        ip,
      );
      return {
        location: ORGANIZER_PAGE,
        flash: changed
          ? { type: 'success', text: 'Passkey settings saved.' }
          : { type: 'info', text: 'Nothing changed: the passkey settings were already as you saved them.' },
      };
    } catch (error) {
      if (!(error instanceof ConflictException)) throw error;
      return {
        location: ORGANIZER_PAGE,
        flash: { type: 'error', text: `Passkey settings not saved: ${error.message}` },
      };
    }
  }

  /** Saves the admin's organizer's policy (never another organizer's: the id is the session's). */
  async save(admin: User, dto: OrganizerPolicyDto, ip: string | null): Promise<Outcome> {
    const change = await this.policies.update(
      admin.organizerId,
      { requireTwoFactor: isChecked(dto.requireTwoFactor), graceDays: dto.graceDays },
      admin.id,
      ip,
    );
    return { location: ORGANIZER_PAGE, flash: this.describe(change) };
  }

  private describe(change: PolicyChange): Flash {
    const { previous, policy } = change;
    if (!change.changed) return { type: 'info', text: 'Nothing changed: the policy was already as you saved it.' };
    const days = plural(policy.graceDays, 'day');
    const by =
      new Date(this.clock.now().getTime() + policy.graceDays * DAY_MS).toISOString().replace('T', ' ').slice(0, 16) +
      ' UTC';
    const when = policy.graceDays === 0 ? 'at their next sign-in' : `within ${days} (by ${by})`;
    if (policy.requireTwoFactor && !previous.requireTwoFactor) {
      return {
        type: 'success',
        text:
          `Two-factor authentication is now required for everyone in your organizer. ` +
          `${plural(change.started, 'user')} without an authenticator app must set one up ${when}; Disable 2FA is refused while the policy is on.`,
      };
    }
    if (!policy.requireTwoFactor && previous.requireTwoFactor) {
      return {
        type: 'success',
        text: `Two-factor authentication is no longer required for everyone. ${plural(change.cleared, 'deadline')} removed; each user's own 2FA setting stays as it is.`,
      };
    }
    if (!policy.requireTwoFactor) {
      return {
        type: 'success',
        text: `Grace period saved: ${days}. It applies when you turn on “Require 2FA for everyone in this organizer”.`,
      };
    }
    if (policy.graceDays < previous.graceDays) {
      return {
        type: 'success',
        text: `Grace period shortened to ${days}: ${plural(change.shortened, 'deadline')} brought forward to ${policy.graceDays === 0 ? 'now' : by}, applying at once.`,
      };
    }
    return {
      type: 'success',
      text: `Grace period set to ${days} for people without an authenticator from now on. Deadlines already given stay as they are: a deadline is never extended.`,
    };
  }
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}
