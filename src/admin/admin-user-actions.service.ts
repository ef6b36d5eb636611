import { ConflictException, HttpStatus, Injectable } from '@nestjs/common';
import type { Message } from '../common/message';
import { messageParts } from '../common/message';
import { MessageConflictException } from '../common/exceptions';
import { isLanguage, Language } from '../i18n/languages';
import { currentLanguage } from '../i18n/request-locale';
import { AttemptLimiter } from '../attempts/attempt-limiter.service';
import { AuditService } from '../audit/audit.service';
import { AuthSessionService } from '../auth/auth-session.service';
import { UserSessionsService } from '../auth/user-sessions.service';
import { FormException } from '../common/exceptions';
import { TwoFactorAdminService } from '../two-factor/two-factor-admin.service';
import { InvitationsService } from '../users/invitations.service';
import { SecurityNoticesService } from '../users/security-notices.service';
import { User } from '../users/user.entity';
import { UsersService } from '../users/users.service';
import { ConfirmationView, ConfirmedAction, confirmationView, NO_LOCKS } from './admin-confirmations';
import { Flash, Outcome, userPath } from './admin-views';
import { CreateUserDto, isChecked } from './dto/create-user.dto';

const SELF_CHANGE = 'adminUsers.refused.selfTwoFactor';

/**
 * The admin's actions on users (journeys 1, 4, 5): an admin changes only the users of
 * their own organizer, taken from their session. Every lookup goes through
 * UsersService.getInOrganizer, so another organizer's user is a 404 before anything
 * is read, changed or sent (SECURITY.md 20). The rules of each change are the services'
 * (invitations, two-factor, attempt limits); this decides who may, and what the admin is told.
 */
@Injectable()
export class AdminUserActionsService {
  constructor(
    private readonly users: UsersService,
    private readonly invitations: InvitationsService,
    private readonly twoFactorAdmin: TwoFactorAdminService,
    private readonly audit: AuditService,
    private readonly notices: SecurityNoticesService,
    private readonly limiter: AttemptLimiter,
    private readonly sessions: AuthSessionService,
    private readonly userSessions: UserSessionsService,
  ) {}

  /** The empty *New user* form: Member, 2FA checked, the admin's own language (the page's). */
  newUserForm() {
    return newUserModel({ role: 'member', twoFactor: 'on', language: currentLanguage() });
  }

  /**
   * Creates an account in the admin's own organizer (never one from the form) and
   * emails the invitation. A duplicate email is the form again with a 409.
   */
  async create(admin: User, dto: CreateUserDto, ip: string | null): Promise<Outcome> {
    try {
      const { user } = await this.invitations.createAccount(
        {
          organizerId: admin.organizerId,
          email: dto.email,
          name: dto.name,
          role: dto.role,
          twoFactorRequired: isChecked(dto.twoFactor),
          // The invitation and every later email speak it (MailService: the recipient's language).
          language: isLanguage(dto.language) ? dto.language : currentLanguage(),
        },
        admin,
        ip,
      );
      const flash: Flash = {
        type: 'success',
        key: 'adminUsers.flash.created',
        values: { name: user.name, email: user.email },
      };
      return { location: userPath(user), flash };
    } catch (error) {
      if (!(error instanceof ConflictException)) throw error;
      throw new FormException('admin/users/new', newUserModel(dto), { email: refusal(error) }, HttpStatus.CONFLICT);
    }
  }

  /**
   * The confirmation step of a button on the user's page: what will happen, or why it
   * cannot (shown on the user's page). Changes nothing.
   */
  async confirmation(
    admin: User,
    id: string,
    action: ConfirmedAction,
  ): Promise<{ confirm: ConfirmationView } | { refused: Outcome }> {
    const user = await this.users.getInOrganizer(admin.organizerId, id);
    try {
      await this.refuseUnlessAllowed(admin, user, action);
    } catch (error) {
      if (!(error instanceof ConflictException)) throw error;
      return { refused: { location: userPath(user), flash: { type: 'error', ...messageParts(refusal(error)) } } };
    }
    return {
      confirm: confirmationView(
        user,
        action,
        action === 'unlock' ? await this.limiter.locksOf(user.id, user.email) : NO_LOCKS,
        action === 'sign-out-everywhere' ? await this.userSessions.count(user) : 0,
      ),
    };
  }

  /**
   * Sign out everywhere: every session of a user of the admin's organizer ends on every
   * instance (a new security stamp, the rows deleted), pending sign-ins included. Audited
   * with the admin as actor and the number of active sessions ended, and the email to the user
   * queued, in one transaction.
   */
  async signOutEverywhere(admin: User, id: string, ip: string | null): Promise<Outcome> {
    const user = await this.users.getInOrganizer(admin.organizerId, id);
    return this.guarded(user, async () => {
      await this.refuseUnlessAllowed(admin, user, 'sign-out-everywhere');
      const count = await this.userSessions.count(user);
      await this.users.transaction(async (manager) => {
        await this.sessions.endAllForUser(user.id, manager);
        await this.audit.record(
          {
            type: 'session.ended_all',
            organizerId: user.organizerId,
            userId: user.id,
            actorId: admin.id,
            ip,
            detail: { count },
          },
          manager,
        );
        await this.notices.send(user, 'session.ended_all', { adminName: admin.name, count }, admin.id, manager);
      });
      return {
        type: 'success',
        key: 'adminUsers.flash.signedOut',
        values: { name: user.name, email: user.email, count },
      };
    });
  }

  /** Resend QR for a user of the admin's organizer (the rules are TwoFactorAdminService's). */
  async resendQr(admin: User, id: string, ip: string | null): Promise<Outcome> {
    const user = await this.users.getInOrganizer(admin.organizerId, id);
    return this.guarded(user, async () => {
      await this.refuseUnlessAllowed(admin, user, 'resend-qr');
      await this.twoFactorAdmin.resendQr(user, admin, ip);
      return { type: 'success', key: 'adminUsers.flash.qrReset', values: { name: user.name, email: user.email } };
    });
  }

  /** Enable 2FA / Disable 2FA for a user of the admin's organizer. */
  async setTwoFactor(admin: User, id: string, which: 'enable' | 'disable', ip: string | null): Promise<Outcome> {
    const user = await this.users.getInOrganizer(admin.organizerId, id);
    return this.guarded(user, async (): Promise<Flash> => {
      await this.refuseUnlessAllowed(admin, user, which);
      const result =
        which === 'enable'
          ? await this.twoFactorAdmin.enable(user, admin, ip)
          : await this.twoFactorAdmin.disable(user, admin, ip);
      if (!result.changed)
        return {
          type: 'info',
          key: which === 'enable' ? 'adminUsers.flash.alreadyOn' : 'adminUsers.flash.alreadyOff',
          values: { name: user.name },
        };
      return {
        type: 'success',
        key: which === 'enable' ? 'adminUsers.flash.enabled' : 'adminUsers.flash.disabled',
        values: { name: user.name, email: user.email },
      };
    });
  }

  /** A new invitation link for a user who has not chosen a password yet. */
  async resendInvitation(admin: User, id: string, ip: string | null): Promise<Outcome> {
    const user = await this.users.getInOrganizer(admin.organizerId, id);
    return this.guarded(user, async () => {
      await this.invitations.resendInvitation(user, admin, ip);
      return { type: 'success', key: 'adminUsers.flash.invitationResent', values: { email: user.email } };
    });
  }

  /**
   * Unlock account lifts every lock of the account: the one the user set with "This wasn't
   * me", the password locks (untrusted pool and every device) and the code lock. Audited
   * with the admin as actor; an email to the user (with a new "This wasn't me" link) is queued.
   */
  async unlock(admin: User, id: string, ip: string | null): Promise<Outcome> {
    const user = await this.users.getInOrganizer(admin.organizerId, id);
    return this.guarded(user, async () => {
      await this.refuseUnlessAllowed(admin, user, 'unlock');
      const lockedSince = user.accountLockedAt;
      // Conditional: of two admins unlocking at once, one unlocks and audits, the other is told.
      const accountUnlocked = await this.users.unlock(user);
      const locks = await this.limiter.clearAccount(user.id, user.email);
      if (!accountUnlocked && !locks.password && !locks.code) throw new MessageConflictException(nothingToUnlock(user));
      const lifted = [accountUnlocked && 'account', locks.password && 'password', locks.code && 'code'].filter(
        (name): name is string => !!name,
      );
      await this.audit.record({
        type: 'account.unlocked',
        organizerId: user.organizerId,
        userId: user.id,
        actorId: admin.id,
        ip,
        detail: { lifted, lockedSince: accountUnlocked ? lockedSince?.toISOString() : undefined },
      });
      await this.notices.send(user, 'account.unlocked', { adminName: admin.name }, admin.id);
      return { type: 'success', key: 'adminUsers.flash.unlocked', values: { name: user.name, email: user.email } };
    });
  }

  /**
   * An admin changes other people's factors here, not their own: a borrowed session cannot
   * weaken its own account. Disable 2FA is refused while the organizer requires 2FA of everyone.
   */
  private async refuseUnlessAllowed(admin: User, user: User, action: ConfirmedAction): Promise<void> {
    if (user.id === admin.id)
      throw new MessageConflictException(
        action === 'unlock'
          ? 'adminUsers.refused.selfUnlock'
          : action === 'sign-out-everywhere'
            ? 'adminUsers.refused.selfSignOut'
            : SELF_CHANGE,
      );
    const problem =
      action === 'resend-qr'
        ? await this.twoFactorAdmin.resendQrProblem(user)
        : action === 'disable'
          ? await this.twoFactorAdmin.disableProblem(user)
          : action === 'unlock' && !user.accountLockedAt && !(await this.isAttemptLocked(user))
            ? nothingToUnlock(user)
            : null;
    if (problem) throw new MessageConflictException(problem);
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
      return { location: userPath(user), flash: { type: 'error', ...messageParts(refusal(error)) } };
    }
  }
}

/** The New user form's model; also used to show it again with the input kept. */
export function newUserModel(
  input: { email?: string; name?: string; role?: string; twoFactor?: string; language?: string } = {},
) {
  const chosen: Language = isLanguage(input.language) ? input.language : currentLanguage();
  return {
    title: 'dashboard.newUser',
    input: {
      email: input.email ?? '',
      name: input.name ?? '',
      role: input.role ?? 'member',
      twoFactor: input.twoFactor ?? '',
      // The Language select (the layout's languageMenu, each language named in itself).
      language: chosen,
    },
  };
}

function nothingToUnlock(user: User): Message {
  return { key: 'adminUsers.refused.nothingToUnlock', values: { email: user.email } };
}

/**
 * What a refusal (409) tells the admin: a MessageConflictException's key and values; a plain
 * ConflictException's message is a key (UsersService's EMAIL_TAKEN).
 */
function refusal(error: ConflictException): Message {
  return error instanceof MessageConflictException ? error.userMessage : error.message;
}
