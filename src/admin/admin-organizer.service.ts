import { ConflictException, Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import { BY_ADMIN, BY_COMMAND_LINE } from '../audit/security-events';
import { Clock } from '../common/clock';
import { FormException, MessageConflictException } from '../common/exceptions';
import { messageParts } from '../common/message';
import { formatDateTime, isTimeZone, timeZoneChoices } from '../i18n/format';
import { I18n } from '../i18n/i18n.service';
import { currentLanguage } from '../i18n/request-locale';
import { OrganizersService } from '../organizers/organizers.service';
import { SecondFactors } from '../two-factor/factors/second-factors.service';
import { DAY_MS, MAX_GRACE_DAYS, OrganizerPolicyService, PolicyChange } from '../two-factor/organizer-policy.service';
import { User } from '../users/user.entity';
import { UsersService } from '../users/users.service';
import type { Flash, Outcome } from './admin-views';
import { isChecked } from './dto/create-user.dto';
import { OrganizerPolicyDto } from './dto/organizer-policy.dto';

export const ORGANIZER_PAGE = '/admin/organizer';
export const ORGANIZER_VIEW = 'admin/organizer';

/**
 * The admin's page about their own organizer (issue 7): the 2FA policy, the passkey settings
 * and the time zone (issue 17). The rules are OrganizerPolicyService's; this shapes the page
 * and the message after saving (message keys with their values).
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
    private readonly i18n: I18n,
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
      title: 'organizer.title',
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
      timeZones: timeZoneChoices().map((value) => ({ value, selected: value === organizer.timeZone })),
      current: {
        on: organizer.requireTwoFactor,
        graceDays: organizer.twoFactorGraceDays,
        adoption,
        lastChange: last
          ? {
              at: last.createdAt,
              // A name is data; who else did it is a message key.
              by: (last.actorId && names.get(last.actorId)) || undefined,
              byKey: last.actorId ? BY_ADMIN : BY_COMMAND_LINE,
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
          ? { type: 'success', key: 'organizer.passkeys.saved' }
          : { type: 'info', key: 'organizer.passkeys.unchanged' },
      };
    } catch (error) {
      if (!(error instanceof ConflictException)) throw error;
      // The refusal in the admin's language, inside the flash's own sentence.
      const { key, values } = messageParts(
        error instanceof MessageConflictException ? error.userMessage : error.message,
      );
      return {
        location: ORGANIZER_PAGE,
        flash: { type: 'error', key: 'organizer.passkeys.refused', values: { reason: this.i18n.t(key, values) } },
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
    return { location: ORGANIZER_PAGE, flash: await this.describe(change, admin.organizerId) };
  }

  /** The organizer's time zone (issue 17): every date and time of its pages and emails is shown in it. */
  async saveTimeZone(admin: User, body: Record<string, unknown>, ip: string | null): Promise<Outcome> {
    const zone = typeof body.timeZone === 'string' ? body.timeZone.trim() : '';
    if (!isTimeZone(zone)) {
      const model = await this.page(admin);
      throw new FormException(ORGANIZER_VIEW, model, { timeZone: 'organizer.timeZone.invalid' });
    }
    const previous = await this.organizers.setTimeZone(admin.organizerId, zone);
    if (previous === undefined)
      return {
        location: ORGANIZER_PAGE,
        flash: { type: 'info', key: 'organizer.timeZone.unchanged', values: { zone } },
      };
    await this.audit.record({
      type: 'organizer.time_zone_changed',
      organizerId: admin.organizerId,
      actorId: admin.id,
      ip,
      detail: { timeZone: zone, previous },
    });
    return { location: ORGANIZER_PAGE, flash: { type: 'success', key: 'organizer.timeZone.saved', values: { zone } } };
  }

  /** The message after saving the policy: keys with the counts (ICU plurals) and the deadline in the admin's language. */
  private async describe(change: PolicyChange, organizerId: string): Promise<Flash> {
    const { previous, policy } = change;
    if (!change.changed) return { type: 'info', key: 'organizer.policy.unchanged' };
    const days = policy.graceDays;
    const { timeZone } = await this.organizers.getById(organizerId);
    const by = formatDateTime(new Date(this.clock.now().getTime() + days * DAY_MS), currentLanguage(), timeZone);
    if (policy.requireTwoFactor && !previous.requireTwoFactor) {
      return {
        type: 'success',
        key: days === 0 ? 'organizer.policy.onNextSignIn' : 'organizer.policy.onWithin',
        values: { users: change.started, days, by },
      };
    }
    if (!policy.requireTwoFactor && previous.requireTwoFactor) {
      return { type: 'success', key: 'organizer.policy.off', values: { deadlines: change.cleared } };
    }
    if (!policy.requireTwoFactor) {
      return { type: 'success', key: 'organizer.policy.graceSaved', values: { days } };
    }
    if (policy.graceDays < previous.graceDays) {
      return {
        type: 'success',
        key: days === 0 ? 'organizer.policy.shortenedToNow' : 'organizer.policy.shortened',
        values: { days, deadlines: change.shortened, by },
      };
    }
    return { type: 'success', key: 'organizer.policy.lengthened', values: { days } };
  }
}
