import { Injectable } from '@nestjs/common';
import { MessageConflictException } from '../common/exceptions';
import { AuditService } from '../audit/audit.service';
import { AppConfig } from '../config/app-config';
import { EntityManager } from 'typeorm';
import { MailQueued, MailService } from '../mail/mail.service';
import { Organizer } from '../organizers/organizer.entity';
import { OrganizersService } from '../organizers/organizers.service';
import { HOUR_MS, OneTimeTokensService } from './one-time-tokens.service';
import { newPasswordErrors } from './password-policy';
import { User } from './user.entity';
import { NewUser, UsersService } from './users.service';

/** An invitation link works once, for 72 hours (PRODUCT.md journey 1). */
export const INVITATION_VALID_MS = 72 * HOUR_MS;

export type LinkStatus = 'done' | 'expired' | 'revoked' | 'unknown';

export interface CreatedAccount {
  user: User;
  /** The invitation link (only when no password was given); the CLI prints it, the admin pages never show it. */
  link?: string;
  /** The invitation email, in the outbox (committed with the account). */
  mail?: MailQueued;
}

export type InvitationOpened = { ok: true; user: User } | { ok: false; status: LinkStatus };

export type InvitationAccepted =
  | { ok: true; user: User }
  | { ok: false; reason: 'unusable'; status: LinkStatus }
  | { ok: false; reason: 'invalid'; user: User; errors: Record<string, string> };

/** Who created the account: an admin, or null for the command line. */
export type Inviter = Pick<User, 'id' | 'name'> | null;

/**
 * Accounts created by an admin (or the CLI) and the invitation that lets the new user
 * choose a password: a 256-bit single-use token, stored only as a keyed hash, valid 72 h.
 */
@Injectable()
export class InvitationsService {
  constructor(
    private readonly users: UsersService,
    private readonly tokens: OneTimeTokensService,
    private readonly organizers: OrganizersService,
    private readonly audit: AuditService,
    private readonly mail: MailService,
    private readonly config: AppConfig,
  ) {}

  /**
   * Creates an account in one transaction with its audit event and, when no password is
   * given, its invitation token and the invitation email (queued in the outbox). A duplicate
   * email is a ConflictException, a weak password a WeakPasswordError.
   */
  async createAccount(input: NewUser, inviter: Inviter, ip: string | null): Promise<CreatedAccount> {
    const organizer = await this.organizers.getById(input.organizerId);
    return this.users.transaction(async (manager) => {
      const user = await this.users.create(input, manager);
      await this.audit.record(
        {
          type: 'account.created',
          organizerId: user.organizerId,
          userId: user.id,
          actorId: inviter?.id ?? null,
          ip,
          detail: {
            role: user.role,
            twoFactorRequired: user.twoFactorRequired,
            ...(inviter ? {} : { via: 'command line' }),
          },
        },
        manager,
      );
      if (input.password !== undefined) return { user };
      const { token } = await this.tokens.issue(
        user.id,
        'invitation',
        INVITATION_VALID_MS,
        inviter?.id ?? null,
        manager,
      );
      const link = this.mail.link(`/invitations/${token}`);
      return { user, link, mail: await this.queueInvitation(user, organizer, link, inviter, manager) };
    });
  }

  /** A new invitation link for a user who has not chosen a password yet; the earlier link stops working. */
  async resendInvitation(user: User, inviter: Inviter, ip: string | null): Promise<CreatedAccount> {
    if (user.passwordHash)
      throw new MessageConflictException({ key: 'adminUsers.refused.alreadyAccepted', values: { email: user.email } });
    const organizer = await this.organizers.getById(user.organizerId);
    return this.users.transaction(async (manager) => {
      const { token } = await this.tokens.issue(
        user.id,
        'invitation',
        INVITATION_VALID_MS,
        inviter?.id ?? null,
        manager,
      );
      await this.audit.record(
        {
          type: 'account.invitation_sent',
          organizerId: user.organizerId,
          userId: user.id,
          actorId: inviter?.id ?? null,
          ip,
        },
        manager,
      );
      const link = this.mail.link(`/invitations/${token}`);
      return { user, link, mail: await this.queueInvitation(user, organizer, link, inviter, manager) };
    });
  }

  /** The invited user of a link that can still be used, or why it cannot. Changes nothing. */
  async open(token: unknown): Promise<InvitationOpened> {
    const found = await this.usable(token);
    return found.ok ? { ok: true, user: found.user } : found;
  }

  /**
   * Sets the invited user's first password (PRODUCT.md rules, checked before anything
   * changes) and spends the link in the same transaction: of two submissions of one
   * link, exactly one sets a password.
   */
  async accept(
    token: unknown,
    newPassword: unknown,
    confirmPassword: unknown,
    ip: string | null,
  ): Promise<InvitationAccepted> {
    const found = await this.usable(token);
    if (!found.ok) return { ok: false, reason: 'unusable', status: found.status };
    const { user, tokenId } = found;
    const errors = newPasswordErrors(newPassword, confirmPassword, { email: user.email, appName: this.config.appName });
    if (errors) return { ok: false, reason: 'invalid', user, errors };

    const spent = await this.users
      .transaction(async (manager) => {
        if (!(await this.tokens.spend(tokenId, manager))) throw new LinkAlreadySpent();
        await this.users.setPassword(user, newPassword as string, manager);
        await this.audit.record(
          { type: 'account.invitation_accepted', organizerId: user.organizerId, userId: user.id, ip },
          manager,
        );
        return true;
      })
      .catch((error) => {
        if (error instanceof LinkAlreadySpent) return false;
        throw error;
      });
    if (!spent) return { ok: false, reason: 'unusable', status: 'done' };
    // Reloaded: setPassword rotated the security stamp, which the new session must carry.
    return { ok: true, user: await this.users.getById(user.id) };
  }

  private async usable(
    token: unknown,
  ): Promise<{ ok: true; user: User; tokenId: string } | { ok: false; status: LinkStatus }> {
    const record = await this.tokens.findUsable(token, 'invitation');
    if (!record) return { ok: false, status: await this.unusableStatus(token) };
    const user = await this.users.findById(record.userId);
    if (!user || !user.isActive) return { ok: false, status: 'revoked' };
    return { ok: true, user, tokenId: record.id };
  }

  private async unusableStatus(token: unknown): Promise<LinkStatus> {
    const status = await this.tokens.describe(token, 'invitation');
    // A link that describe() sees as waiting but findUsable() refused cannot happen; treat it as unknown.
    return status === 'waiting' ? 'unknown' : status;
  }

  private queueInvitation(
    user: User,
    organizer: Organizer,
    link: string,
    inviter: Inviter,
    manager: EntityManager,
  ): Promise<MailQueued> {
    return this.mail.queue(
      {
        to: user.email,
        subject: 'mail.invitation.subject',
        // The admin may have chosen the new user's language; else the admin's own.
        language: user.language,
        template: 'invitation',
        context: {
          name: user.name,
          inviterName: inviter?.name,
          organizerName: organizer.name,
          link,
          validHours: INVITATION_VALID_MS / HOUR_MS,
          twoFactor: user.twoFactorRequired,
        },
        userId: user.id,
        organizerId: user.organizerId,
      },
      manager,
    );
  }
}

class LinkAlreadySpent extends Error {}
