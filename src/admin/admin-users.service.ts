import { ConflictException, HttpStatus, Injectable } from '@nestjs/common';
import { In } from 'typeorm';
import { AttemptLimiter } from '../attempts/attempt-limiter.service';
import { describeEvent } from '../audit/security-events';
import { AuditService } from '../audit/audit.service';
import { Clock } from '../common/clock';
import { FormException } from '../common/exceptions';
import { OrganizersService } from '../organizers/organizers.service';
import { TwoFactorAdminService } from '../two-factor/two-factor-admin.service';
import { InvitationsService } from '../users/invitations.service';
import { OneTimeToken } from '../users/one-time-token.entity';
import { OneTimeTokensService } from '../users/one-time-tokens.service';
import { HAS_CONFIRMED_TOTP_SQL, OrganizerPolicyService } from '../users/organizer-policy.service';
import { SecurityNoticesService } from '../users/security-notices.service';
import { Role, TwoFactorState, User } from '../users/user.entity';
import { UsersService } from '../users/users.service';
import { csvRow, fileNamePart } from './csv';
import { CreateUserDto, isChecked } from './dto/create-user.dto';
import { ListUsersQuery, UserFilter } from './dto/list-users.query';

export const USERS_PER_PAGE = 20;

export interface Flash {
  type: 'success' | 'error' | 'info';
  text: string;
}

/** Where to go after an action, and what to tell the admin there. */
export interface Outcome {
  location: string;
  flash: Flash;
}

export type ConfirmedAction = 'resend-qr' | 'enable' | 'disable' | 'unlock';

export interface ConfirmationView {
  title: string;
  heading: string;
  user: { id: string; name: string; email: string };
  consequences: string[];
  action: string;
  fields: { name: string; value: string }[];
  button: string;
  danger?: boolean;
  cancelHref: string;
}

const ROLE_LABELS: Record<Role, string> = { admin: 'Admin', member: 'Member' };



const RESET_STATUS: Record<ReturnType<OneTimeToken['status']>, string> = {
  waiting: 'Waiting: the user has not used the link yet',
  done: 'Done: the user set up their authenticator app again',
  expired: 'Expired: the link was not used in time. Click Resend QR to send a new one',
  revoked: 'Cancelled: replaced by a newer link, or 2FA was turned off',
};

const RESET_BADGES: Record<ReturnType<OneTimeToken['status']>, string> = { waiting: 'warn', done: 'ok', expired: 'danger', revoked: 'muted' };

const SELF_CHANGE = 'You cannot change your own two-factor authentication here. Ask another admin of your organizer.';

/**
 * The admin pages (journeys 1, 4, 5): an admin sees and changes only the users of
 * their own organizer, taken from their session. Every lookup goes through
 * UsersService.getInOrganizer, so another organizer's user is a 404 before anything
 * is read, changed or sent (SECURITY.md 20).
 */
@Injectable()
export class AdminUsersService {
  constructor(
    private readonly users: UsersService,
    private readonly invitations: InvitationsService,
    private readonly twoFactorAdmin: TwoFactorAdminService,
    private readonly tokens: OneTimeTokensService,
    private readonly audit: AuditService,
    private readonly organizers: OrganizersService,
    private readonly policies: OrganizerPolicyService,
    private readonly notices: SecurityNoticesService,
    private readonly clock: Clock,
    private readonly limiter: AttemptLimiter,
  ) {}

  /**
   * The admin's organizer's users, searched by name or email (wildcards typed are literal),
   * optionally only those without an active authenticator, a page at a time; with the
   * organizer's 2FA adoption counted over all its users.
   */
  async list(admin: User, query: ListUsersQuery) {
    const search = (query.q ?? '').trim().slice(0, 100);
    const show = query.show;
    const builder = this.usersQuery(admin, search, show);
    const [total, adoption, organizer] = await Promise.all([builder.getCount(), this.policies.adoption(admin.organizerId), this.organizers.getById(admin.organizerId)]);
    const pages = Math.max(1, Math.ceil(total / USERS_PER_PAGE));
    const page = Math.min(Math.max(1, query.page ?? 1), pages);
    const rows = await builder
      .orderBy('LOWER(u.name)', 'ASC')
      .addOrderBy('u.email', 'ASC')
      .offset((page - 1) * USERS_PER_PAGE)
      .limit(USERS_PER_PAGE)
      .getMany();
    const codeLocks = await this.limiter.codeLocks(rows.map((user) => user.id));
    const now = this.clock.now();
    const filters = { ...(search ? { q: search } : {}), ...(show ? { show } : {}) };
    const href = (target: number) => `/admin/users?${new URLSearchParams({ ...filters, page: String(target) })}`;
    const exportQuery = new URLSearchParams(filters).toString();
    return {
      title: 'Users',
      q: search,
      show,
      notSetUp: show === 'not-set-up',
      filtered: !!(search || show),
      total,
      page,
      pages,
      paginated: pages > 1,
      previousHref: page > 1 ? href(page - 1) : undefined,
      nextHref: page < pages ? href(page + 1) : undefined,
      exportHref: `/admin/users/export.csv${exportQuery ? `?${exportQuery}` : ''}`,
      adoption,
      policyOn: organizer.requireTwoFactor,
      users: rows.map((user) => {
        const state = twoFactorWord(user, now, codeLocks.has(user.id));
        return {
          id: user.id,
          name: user.name,
          email: user.email,
          role: ROLE_LABELS[user.role],
          twoFactor: state,
          twoFactorClass: cssName(state),
          accountLocked: !!user.accountLockedAt,
          invited: !user.passwordHash,
          lastLoginAt: user.lastLoginAt,
          isSelf: user.id === admin.id,
        };
      }),
    };
  }

  /**
   * The list as CSV (same search and filter, every page): only the admin's organizer;
   * columns Name, Email, Role, 2FA (PRODUCT.md's words), Last sign-in and Created (ISO 8601).
   */
  async exportCsv(admin: User, query: ListUsersQuery): Promise<{ filename: string; body: string }> {
    const search = (query.q ?? '').trim().slice(0, 100);
    const [organizer, users] = await Promise.all([
      this.organizers.getById(admin.organizerId),
      this.usersQuery(admin, search, query.show).orderBy('LOWER(u.name)', 'ASC').addOrderBy('u.email', 'ASC').getMany(),
    ]);
    const now = this.clock.now();
    const codeLocks = await this.limiter.codeLocks(users.map((user) => user.id));
    const lines = [csvRow(['Name', 'Email', 'Role', '2FA', 'Last sign-in', 'Created'])];
    for (const user of users) {
      lines.push(
        csvRow([user.name, user.email, ROLE_LABELS[user.role], twoFactorWord(user, now, codeLocks.has(user.id)), user.lastLoginAt?.toISOString() ?? '', user.createdAt.toISOString()]),
      );
    }
    const filename = `users-${fileNamePart(organizer.name)}-${now.toISOString().slice(0, 10)}.csv`;
    // A byte order mark, so that spreadsheet programs read the names as UTF-8.
    return { filename, body: '\uFEFF' + lines.join('') };
  }

  /** The users of the admin's organizer (never another's), matching the search and the filter. */
  private usersQuery(admin: User, search: string, show: UserFilter | undefined) {
    const builder = this.users
      .repository()
      .createQueryBuilder('u')
      .where('u.organizerId = :organizerId', { organizerId: admin.organizerId });
    if (search) {
      builder.andWhere("(LOWER(u.name) LIKE :pattern ESCAPE '\\' OR LOWER(u.email) LIKE :pattern ESCAPE '\\')", {
        pattern: `%${escapeLike(search.toLowerCase())}%`,
      });
    }
    if (show === 'not-set-up') builder.andWhere(`NOT ${HAS_CONFIRMED_TOTP_SQL}`);
    return builder;
  }

  /** The empty *New user* form: Member, 2FA checked. */
  newUserForm() {
    return newUserModel({ role: 'member', twoFactor: 'on' });
  }

  /**
   * Creates an account in the admin's own organizer (never one from the form) and
   * emails the invitation. A duplicate email is the form again with a 409.
   */
  async create(admin: User, dto: CreateUserDto, ip: string | null): Promise<Outcome> {
    try {
      const { user, mail } = await this.invitations.createAccount(
        {
          organizerId: admin.organizerId,
          email: dto.email,
          name: dto.name,
          role: dto.role,
          twoFactorRequired: isChecked(dto.twoFactor),
        },
        admin,
        ip,
      );
      const flash: Flash = mail?.sent
        ? { type: 'success', text: `Account created for ${user.name}. An invitation to choose a password, valid 72 hours, was emailed to ${user.email}.` }
        : {
            type: 'error',
            text: `Account created for ${user.name}, but the invitation email could not be sent. Check the mail settings, then click Resend invitation on this page.`,
          };
      return { location: userPath(user), flash };
    } catch (error) {
      if (!(error instanceof ConflictException)) throw error;
      throw new FormException('admin/users/new', newUserModel(dto), { email: error.message }, HttpStatus.CONFLICT);
    }
  }

  /** One user of the admin's organizer: details, 2FA state, the latest reset, the last 20 events. */
  async userPage(admin: User, id: string) {
    const user = await this.users.getInOrganizer(admin.organizerId, id);
    const now = this.clock.now();
    const [events, reset, invitation, policyOn] = await Promise.all([
      this.audit.recentForUser(user.id, 20),
      this.tokens.latest(user.id, 'totp-reset'),
      user.passwordHash ? Promise.resolve(null) : this.tokens.latest(user.id, 'invitation'),
      this.policies.requiresTwoFactor(admin.organizerId),
    ]);
    const names = await this.namesOf(admin, [...events.map((event) => event.actorId), reset?.createdById ?? null]);
    const locks = await this.limiter.locksOf(user.id, user.email);
    const state = twoFactorWord(user, now, locks.code !== null);
    // Resend QR follows the user's own setting (a policy-only user has no authenticator to replace).
    const ownState = user.twoFactorState(now, locks.code !== null);
    const isSelf = user.id === admin.id;
    const invited = !user.passwordHash;
    return {
      title: user.name,
      user: {
        id: user.id,
        name: user.name,
        email: user.email,
        role: ROLE_LABELS[user.role],
        createdAt: user.createdAt,
        lastLoginAt: user.lastLoginAt,
        active: user.isActive,
      },
      twoFactor: state,
      twoFactorClass: cssName(state),
      lockedUntil: state === 'Locked' ? locks.code : null,
      invited,
      accountLock: user.accountLockedAt ? { since: user.accountLockedAt } : null,
      attemptLocks: locks.password || locks.code ? locks : null,
      anyLock: !!user.accountLockedAt || !!locks.password || !!locks.code,
      canUnlock: (!!user.accountLockedAt || !!locks.password || !!locks.code) && !isSelf,
      deadline: user.twoFactorDeadline && !user.hasConfirmedTotp ? { at: user.twoFactorDeadline, passed: user.twoFactorDeadline.getTime() <= now.getTime() } : null,
      policyOn,
      invitation: invitation
        ? { sentAt: invitation.createdAt, expiresAt: invitation.expiresAt, status: invitation.status(now), usable: invitation.status(now) === 'waiting' }
        : null,
      reset: reset
        ? {
            at: reset.createdAt,
            by: reset.createdById ? names.get(reset.createdById) ?? 'An admin' : 'The command line',
            status: reset.status(now),
            statusText: RESET_STATUS[reset.status(now)],
            badge: RESET_BADGES[reset.status(now)],
            expiresAt: reset.expiresAt,
            usedAt: reset.usedAt,
          }
        : null,
      isSelf,
      canResendQr: !isSelf && ownState !== 'Off' && !invited,
      canEnable: !isSelf && !user.twoFactorRequired,
      canDisable: !isSelf && ownState !== 'Off' && !policyOn,
      canResendInvitation: invited,
      events: events.map((event) => describeEvent(event, (id) => names.get(id))),
    };
  }

  /**
   * The confirmation step of a button on the user's page: what will happen, or why it
   * cannot (shown on the user's page). Changes nothing.
   */
  async confirmation(admin: User, id: string, action: ConfirmedAction): Promise<{ confirm: ConfirmationView } | { refused: Outcome }> {
    const user = await this.users.getInOrganizer(admin.organizerId, id);
    try {
      await this.refuseUnlessAllowed(admin, user, action);
    } catch (error) {
      if (!(error instanceof ConflictException)) throw error;
      return { refused: { location: userPath(user), flash: { type: 'error', text: error.message } } };
    }
    return { confirm: confirmationView(user, action, action === 'unlock' ? await this.limiter.locksOf(user.id, user.email) : NO_LOCKS) };
  }

  /** Resend QR for a user of the admin's organizer (the rules are TwoFactorAdminService's). */
  async resendQr(admin: User, id: string, ip: string | null): Promise<Outcome> {
    const user = await this.users.getInOrganizer(admin.organizerId, id);
    return this.guarded(user, async () => {
      await this.refuseUnlessAllowed(admin, user, 'resend-qr');
      const { mail } = await this.twoFactorAdmin.resendQr(user, admin, ip);
      return mail.sent
        ? { type: 'success', text: `QR reset for ${user.name}: their old authenticator and recovery codes no longer work, they are signed out, and a link valid 24 hours was emailed to ${user.email}.` }
        : {
            type: 'error',
            text: `QR reset for ${user.name}: their old authenticator and recovery codes no longer work and they are signed out, but the email could not be sent. Check the mail settings, then click Resend QR again.`,
          };
    });
  }

  /** Enable 2FA / Disable 2FA for a user of the admin's organizer. */
  async setTwoFactor(admin: User, id: string, which: 'enable' | 'disable', ip: string | null): Promise<Outcome> {
    const user = await this.users.getInOrganizer(admin.organizerId, id);
    return this.guarded(user, async () => {
      await this.refuseUnlessAllowed(admin, user, which);
      const result = which === 'enable' ? await this.twoFactorAdmin.enable(user, admin, ip) : await this.twoFactorAdmin.disable(user, admin, ip);
      const done = which === 'enable' ? `Two-factor authentication is now required for ${user.name}.` : `Two-factor authentication is off for ${user.name}.`;
      if (!result.changed) return { type: 'info', text: `Nothing changed: two-factor authentication was already ${which === 'enable' ? 'on' : 'off'} for ${user.name}.` };
      return result.mail?.sent
        ? { type: 'success', text: `${done} They were signed out and told by email.` }
        : { type: 'error', text: `${done} They were signed out, but the email to ${user.email} could not be sent.` };
    });
  }

  /** A new invitation link for a user who has not chosen a password yet. */
  async resendInvitation(admin: User, id: string, ip: string | null): Promise<Outcome> {
    const user = await this.users.getInOrganizer(admin.organizerId, id);
    return this.guarded(user, async () => {
      const { mail } = await this.invitations.resendInvitation(user, admin, ip);
      return mail?.sent
        ? { type: 'success', text: `A new invitation, valid 72 hours, was emailed to ${user.email}. Earlier links no longer work.` }
        : { type: 'error', text: `A new invitation was made for ${user.email}, but the email could not be sent. Check the mail settings and try again.` };
    });
  }

  /**
   * Unlock account lifts every lock of the account: the one the user set with "This wasn't
   * me", the password locks (untrusted pool and every device) and the code lock. Audited
   * with the admin as actor; the user is told by email (with a new "This wasn't me" link).
   */
  async unlock(admin: User, id: string, ip: string | null): Promise<Outcome> {
    const user = await this.users.getInOrganizer(admin.organizerId, id);
    return this.guarded(user, async () => {
      await this.refuseUnlessAllowed(admin, user, 'unlock');
      const lockedSince = user.accountLockedAt;
      // Conditional: of two admins unlocking at once, one unlocks and audits, the other is told.
      const accountUnlocked = await this.users.unlock(user);
      const locks = await this.limiter.locksOf(user.id, user.email);
      await this.limiter.clearAccount(user.id, user.email);
      if (!accountUnlocked && !locks.password && !locks.code) throw new ConflictException(nothingToUnlock(user));
      const lifted = [accountUnlocked && 'account', locks.password && 'password', locks.code && 'code'].filter((name): name is string => !!name);
      await this.audit.record({
        type: 'account.unlocked',
        organizerId: user.organizerId,
        userId: user.id,
        actorId: admin.id,
        ip,
        detail: { lifted, lockedSince: accountUnlocked ? lockedSince?.toISOString() : undefined },
      });
      const mail = await this.notices.send(user, 'account.unlocked', { adminName: admin.name }, admin.id);
      return mail.sent
        ? { type: 'success', text: `The account of ${user.name} is unlocked: they can sign in again. They were told by email.` }
        : { type: 'error', text: `The account of ${user.name} is unlocked: they can sign in again, but the email to ${user.email} could not be sent.` };
    });
  }

  /**
   * An admin changes other people's factors here, not their own: a borrowed session cannot
   * weaken its own account. Disable 2FA is refused while the organizer requires 2FA of everyone.
   */
  private async refuseUnlessAllowed(admin: User, user: User, action: ConfirmedAction): Promise<void> {
    if (user.id === admin.id) throw new ConflictException(action === 'unlock' ? 'You cannot unlock your own account. Ask another admin of your organizer.' : SELF_CHANGE);
    const problem =
      action === 'resend-qr'
        ? this.twoFactorAdmin.resendQrProblem(user)
        : action === 'disable'
          ? await this.twoFactorAdmin.disableProblem(user)
          : action === 'unlock' && !user.accountLockedAt && !(await this.isAttemptLocked(user))
            ? nothingToUnlock(user)
            : null;
    if (problem) throw new ConflictException(problem);
  }

  private async isAttemptLocked(user: User): Promise<boolean> {
    const locks = await this.limiter.locksOf(user.id, user.email);
    return !!locks.password || !!locks.code;
  }

  /** Runs an action; a refusal (409) becomes a message on the user's page instead of an error page. */
  private async guarded(user: User, action: () => Promise<Flash>): Promise<Outcome> {
    try {
      return { location: userPath(user), flash: await action() };
    } catch (error) {
      if (!(error instanceof ConflictException)) throw error;
      return { location: userPath(user), flash: { type: 'error', text: error.message } };
    }
  }

  /** Names of the admins who acted, from the same organizer only. */
  private async namesOf(admin: User, ids: (string | null)[]): Promise<Map<string, string>> {
    const unique = [...new Set(ids.filter((id): id is string => !!id))];
    if (!unique.length) return new Map();
    const actors = await this.users.repository().findBy({ id: In(unique), organizerId: admin.organizerId });
    return new Map(actors.map((actor) => [actor.id, actor.name]));
  }

}

/** The New user form's model; also used to show it again with the input kept. */
export function newUserModel(input: { email?: string; name?: string; role?: string; twoFactor?: string } = {}) {
  return { title: 'New user', input: { email: input.email ?? '', name: input.name ?? '', role: input.role ?? 'member', twoFactor: input.twoFactor ?? '' } };
}

/** LIKE wildcards typed in the search box match themselves (`\` is the escape character). */
export function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (char) => `\\${char}`);
}

/** What a confirmation page says and posts. */
function confirmationView(user: User, action: ConfirmedAction, locks: AttemptLocks): ConfirmationView {
  const who = `${user.name} (${user.email})`;
  const base = { user: { id: user.id, name: user.name, email: user.email }, cancelHref: userPath(user) };
  switch (action) {
    case 'resend-qr':
      return {
        ...base,
        title: 'Resend QR',
        heading: `Resend QR for ${who}?`,
        consequences: [
          'Their current authenticator app entry and all their recovery codes stop working at once.',
          'They are signed out everywhere.',
          'They get an email with a single-use link, valid 24 hours. After their password, it shows a new QR code to scan.',
          'You never see the new QR code or secret.',
        ],
        action: `${userPath(user)}/resend-qr`,
        fields: [],
        button: 'Resend QR',
      };
    case 'enable':
      return {
        ...base,
        title: 'Enable 2FA',
        heading: `Enable two-factor authentication for ${who}?`,
        consequences: [
          'They must enter a code from an authenticator app at every sign-in.',
          'They are signed out everywhere now, and set up the app at their next sign-in.',
          'They get an email about this change.',
        ],
        action: `${userPath(user)}/two-factor`,
        fields: [{ name: 'twoFactor', value: 'enable' }],
        button: 'Enable 2FA',
      };
    case 'disable':
      return {
        ...base,
        title: 'Disable 2FA',
        heading: `Disable two-factor authentication for ${who}?`,
        consequences: [
          'They will sign in with their password alone: their authenticator app entry and recovery codes stop working.',
          'Any Resend QR link sent to them stops working.',
          'They are signed out everywhere.',
          'They get an email about this change.',
        ],
        action: `${userPath(user)}/two-factor`,
        fields: [{ name: 'twoFactor', value: 'disable' }],
        button: 'Disable 2FA',
        danger: true,
      };
    case 'unlock':
      return {
        ...base,
        title: 'Unlock account',
        heading: `Unlock the account of ${who}?`,
        consequences: [
          ...(user.accountLockedAt
            ? [
                `${user.name} locked it on ${utcMinute(user.accountLockedAt)} with “This wasn't me”: they reported a change to their account that they did not make. Talk to them first, by a way you trust (not by replying to an email).`,
              ]
            : []),
          ...(locks.password ? [`Sign-in is locked until ${utcMinute(locks.password)} after wrong passwords: make sure it was them who mistyped, not someone guessing.`] : []),
          ...(locks.code ? [`2FA is locked until ${utcMinute(locks.code)} after wrong codes.`] : []),
          'They can sign in again with their password and, if 2FA is on, their authenticator app.',
          'If their password or authenticator may be known to someone else: after unlocking, click Resend QR and ask them to change their password.',
          'They get an email about this.',
        ],
        action: `${userPath(user)}/unlock`,
        fields: [],
        button: 'Unlock account',
      };
  }
}

/**
 * PRODUCT.md's 2FA word for the admin pages and the export. A user whose organizer policy
 * gave them a deadline must set up 2FA even without the per-user setting: `Pending setup`
 * (as counted by OrganizerPolicyService.adoption), not `Off`.
 */
export function twoFactorWord(user: User, now: Date, codeLocked = false): TwoFactorState {
  const state = user.twoFactorState(now, codeLocked);
  return state === 'Off' && user.twoFactorDeadline != null ? 'Pending setup' : state;
}

type AttemptLocks = { password: Date | null; code: Date | null };
const NO_LOCKS: AttemptLocks = { password: null, code: null };

function nothingToUnlock(user: User): string {
  return `The account of ${user.email} is not locked: there is nothing to unlock.`;
}

function utcMinute(at: Date): string {
  return `${at.toISOString().replace('T', ' ').slice(0, 16)} UTC`;
}

/** `Pending setup` → `pending-setup`, for the state's CSS class. */
function cssName(state: string): string {
  return state.toLowerCase().replace(/\s+/g, '-');
}

function userPath(user: User): string {
  return `/admin/users/${user.id}`;
}
