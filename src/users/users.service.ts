import type { Language } from '../i18n/languages';
import { BadRequestException, ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { randomBytes } from 'node:crypto';
import { DataSource, EntityManager, In, Repository, SelectQueryBuilder } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { Clock } from '../common/clock';
import { isUniqueViolation } from '../database/database-errors';
import { EntityLookup, PreparedSql } from '../database/prepared-sql';
import { emailAddressProblem, normaliseEmail } from './email-address';
import { PasswordHasher } from './password-hasher';
import { OrganizersService } from '../organizers/organizers.service';
import { passwordProblem } from './password-policy';
import { Role, User } from './user.entity';

export interface NewUser {
  organizerId: string;
  email: string;
  name: string;
  role: Role;
  twoFactorRequired: boolean;
  password?: string;
  /** The person's language (issue 17: the admin chooses it at New user); none: the browser's. */
  language?: Language | null;
}

/** Thrown when a new password breaks the policy; the message is for the user. */
/** A new password the policy refuses; its message is the policy's message key (PASSWORD_MESSAGES). */
export class WeakPasswordError extends Error {}

/** The refusal of a second account with one address (a message key). */
export const EMAIL_TAKEN = 'users.emailTaken';

// Kept here too for the callers that import it from the users service; defined in email-address.ts.
export { normaliseEmail };

/** Accounts: creation, lookup within an organizer, passwords, and the security stamp. */
@Injectable()
export class UsersService {
  /** Every signed-in request reads its user, every sign-in looks one up by email: prepared once. */
  private readonly byId: EntityLookup<User>;
  private readonly byEmail: EntityLookup<User>;

  constructor(
    @InjectRepository(User) private readonly users: Repository<User>,
    private readonly dataSource: DataSource,
    private readonly hasher: PasswordHasher,
    private readonly config: AppConfig,
    private readonly clock: Clock,
    private readonly organizers: OrganizersService,
    private readonly prepared: PreparedSql,
  ) {
    this.byId = prepared.lookup(User, 'id');
    this.byEmail = prepared.lookup(User, 'email');
  }

  /**
   * Creates an account; an address the app cannot store is a BadRequestException (SECURITY.md 27,
   * whoever calls: forms and the command line check it first), a duplicate email a ConflictException,
   * a weak password a WeakPasswordError.
   */
  async create(input: NewUser, manager?: EntityManager): Promise<User> {
    const repository = manager ? manager.getRepository(User) : this.users;
    const emailProblem = emailAddressProblem(input.email);
    if (emailProblem) throw new BadRequestException(emailProblem);
    const email = normaliseEmail(input.email);
    if (await repository.existsBy({ email })) throw new ConflictException(EMAIL_TAKEN);
    let passwordHash: string | null = null;
    if (input.password !== undefined) {
      const problem = passwordProblem(input.password, { email, appName: this.config.appName });
      if (problem) throw new WeakPasswordError(problem);
      passwordHash = await this.hasher.hash(input.password);
    }
    const user = repository.create({
      organizerId: input.organizerId,
      email,
      name: input.name.trim(),
      role: input.role,
      passwordHash,
      isActive: true,
      twoFactorRequired: input.twoFactorRequired,
      secondFactorResetAt: null,
      securityStamp: newSecurityStamp(),
      accountLockedAt: null,
      language: input.language ?? null,
      // The organizer may require 2FA of everyone: a new user gets the same grace period (issue 7).
      twoFactorDeadline: await this.organizers.twoFactorDeadlineForNewUser(input.organizerId, manager),
      passkeyDeadline:
        input.role === 'admin' ? await this.organizers.passkeyDeadlineForNewAdmin(input.organizerId, manager) : null,
      lastLoginAt: null,
      createdAt: this.clock.now(),
    });
    try {
      return await repository.save(user);
    } catch (error) {
      // Two admins creating the same email at once (maybe on two instances): the unique index
      // decides. Read from the error: on PostgreSQL the transaction is aborted, no query can ask.
      if (isUniqueViolation(error)) throw new ConflictException(EMAIL_TAKEN);
      throw error;
    }
  }

  findById(id: string): Promise<User | null> {
    return this.byId.find(id);
  }

  /** The user, or 404; with a transaction's manager, read inside it. */
  async getById(id: string, manager?: EntityManager): Promise<User> {
    const user = manager ? await manager.getRepository(User).findOneBy({ id }) : await this.findById(id);
    if (!user) throw new NotFoundException();
    return user;
  }

  findByEmail(email: string): Promise<User | null> {
    return this.byEmail.find(normaliseEmail(email));
  }

  /** A user of the given organizer, or 404: another organizer's user does not exist for this caller. */
  async getInOrganizer(organizerId: string, id: string): Promise<User> {
    const user = typeof id === 'string' && id.length <= 36 ? await this.users.findOneBy({ id, organizerId }) : null;
    if (!user) throw new NotFoundException('users.notFound');
    return user;
  }

  /**
   * Sets a new password (policy checked). It ends no session itself: the caller ends them
   * (AuthSessionService.endAllForUser rotates the stamp once).
   */
  async setPassword(user: User, password: string, manager?: EntityManager): Promise<void> {
    const problem = passwordProblem(password, { email: user.email, appName: this.config.appName });
    if (problem) throw new WeakPasswordError(problem);
    const passwordHash = await this.hasher.hash(password);
    await this.repository(manager).update({ id: user.id }, { passwordHash });
    user.passwordHash = passwordHash;
  }

  /** A new security stamp: every session that carries the old one is refused from now on. Returns it. */
  async rotateSecurityStamp(userId: string, manager?: EntityManager): Promise<string> {
    const securityStamp = newSecurityStamp();
    await this.repository(manager).update({ id: userId }, { securityStamp });
    return securityStamp;
  }

  /** Resend QR: a new second factor can be set up only through the emailed link (two-factor decides; this writes it). */
  async startSecondFactorReset(user: User, at: Date, manager: EntityManager): Promise<void> {
    await this.repository(manager).update({ id: user.id }, { secondFactorResetAt: at, twoFactorRequired: true });
    Object.assign(user, { secondFactorResetAt: at, twoFactorRequired: true });
  }

  /** A new second factor was set up: the reset is over. */
  async endSecondFactorReset(user: User, manager: EntityManager): Promise<void> {
    if (!user.secondFactorResetAt) return;
    await this.repository(manager).update({ id: user.id }, { secondFactorResetAt: null });
    user.secondFactorResetAt = null;
  }

  /** The admin's per-user setting "2FA required"; turning it off also ends a reset in progress. */
  async setTwoFactorRequired(user: User, required: boolean, manager: EntityManager): Promise<void> {
    const changes = required ? { twoFactorRequired: true } : { twoFactorRequired: false, secondFactorResetAt: null };
    await this.repository(manager).update({ id: user.id }, changes);
    Object.assign(user, changes);
  }

  /** The organizer's policy got a shorter grace period: deadlines later than `deadline` move to it. Returns how many. */
  async bringTwoFactorDeadlinesForward(organizerId: string, deadline: Date, manager: EntityManager): Promise<number> {
    const result = await this.repository(manager)
      .createQueryBuilder()
      .update()
      .set({ twoFactorDeadline: deadline })
      .where('organizer_id = :organizerId AND two_factor_deadline > :deadline', {
        organizerId,
        deadline: deadline.getTime(),
      })
      .execute();
    return result.affected ?? 0;
  }

  /**
   * The organizer's policy was turned on: users without a deadline who match `condition`
   * (two-factor's SQL for "has no confirmed second factor", on the row `"users"`) get one. Returns how many.
   */
  async startTwoFactorDeadlines(
    organizerId: string,
    deadline: Date,
    condition: string,
    manager: EntityManager,
  ): Promise<number> {
    const result = await this.repository(manager)
      .createQueryBuilder()
      .update()
      .set({ twoFactorDeadline: deadline })
      .where(`organizer_id = :organizerId AND two_factor_deadline IS NULL AND ${condition}`, { organizerId })
      .execute();
    return result.affected ?? 0;
  }

  /**
   * The organizer's "Require a passkey for admins": admins without a deadline who match
   * `condition` (no passkey) get `deadline`; later deadlines are brought forward to it. Returns how many started.
   */
  async startPasskeyDeadlines(
    organizerId: string,
    deadline: Date,
    condition: string,
    manager: EntityManager,
  ): Promise<number> {
    await this.repository(manager)
      .createQueryBuilder()
      .update()
      .set({ passkeyDeadline: deadline })
      .where("organizer_id = :organizerId AND role = 'admin' AND passkey_deadline > :deadline", {
        organizerId,
        deadline: deadline.getTime(),
      })
      .execute();
    const started = await this.repository(manager)
      .createQueryBuilder()
      .update()
      .set({ passkeyDeadline: deadline })
      .where(`organizer_id = :organizerId AND role = 'admin' AND passkey_deadline IS NULL AND ${condition}`, {
        organizerId,
      })
      .execute();
    return started.affected ?? 0;
  }

  /** That policy was turned off: every admin's passkey deadline goes. */
  async clearPasskeyDeadlines(organizerId: string, manager: EntityManager): Promise<void> {
    await this.repository(manager)
      .createQueryBuilder()
      .update()
      .set({ passkeyDeadline: null })
      .where('organizer_id = :organizerId AND passkey_deadline IS NOT NULL', { organizerId })
      .execute();
  }

  /** The organizer's policy was turned off: every deadline of its users goes. Returns how many. */
  async clearTwoFactorDeadlines(organizerId: string, manager: EntityManager): Promise<number> {
    const result = await this.repository(manager)
      .createQueryBuilder()
      .update()
      .set({ twoFactorDeadline: null })
      .where('organizer_id = :organizerId AND two_factor_deadline IS NOT NULL', { organizerId })
      .execute();
    return result.affected ?? 0;
  }

  /** "This wasn't me": the account is locked by its owner until an admin unlocks it. */
  async lockAccount(userId: string, at: Date, manager: EntityManager): Promise<void> {
    await this.repository(manager).update({ id: userId }, { accountLockedAt: at });
  }

  verifyPassword(user: User | null, password: string): Promise<boolean> {
    return this.hasher.verify(user?.passwordHash, password);
  }

  /** A read-only query of an organizer's users (aliased `u`), for lists and exports. */
  inOrganizer(organizerId: string): SelectQueryBuilder<User> {
    return this.users.createQueryBuilder('u').where('u.organizerId = :organizerId', { organizerId });
  }

  /** The names of these users, of this organizer only (who acted, on the admin pages). */
  async namesIn(organizerId: string, ids: (string | null | undefined)[]): Promise<Map<string, string>> {
    const unique = [...new Set(ids.filter((id): id is string => !!id))];
    if (!unique.length) return new Map();
    const users = await this.users.findBy({ id: In(unique), organizerId });
    return new Map(users.map((user) => [user.id, user.name]));
  }

  /** The active admins of an organizer (who are told about security reports). */
  adminsOf(organizerId: string): Promise<User[]> {
    return this.users.find({ where: { organizerId, role: 'admin', isActive: true }, order: { email: 'ASC' } });
  }

  /** Lifts a "This wasn't me" lock (an admin's decision); false when the account was not locked (e.g. another admin was first). */
  async unlock(user: User, manager?: EntityManager): Promise<boolean> {
    const result = await this.repository(manager)
      .createQueryBuilder()
      .update()
      .set({ accountLockedAt: null })
      .where('id = :id AND account_locked_at IS NOT NULL', { id: user.id })
      .execute();
    user.accountLockedAt = null;
    return result.affected === 1;
  }

  /** The person's language (issue 17): one of LANGUAGES, checked by the caller. */
  async setLanguage(user: User, language: Language): Promise<void> {
    await this.users.update({ id: user.id }, { language });
    user.language = language;
  }

  async recordLogin(userId: string): Promise<void> {
    await this.prepared.run('UPDATE "users" SET "last_login_at" = ? WHERE "id" = ?', [this.clock.nowMs(), userId]);
  }

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  /** The users table is written only through this service's named methods. */
  private repository(manager?: EntityManager): Repository<User> {
    return manager ? manager.getRepository(User) : this.users;
  }
}

/** A new random security stamp: sessions carry the stamp they began with. */
export function newSecurityStamp(): string {
  return randomBytes(16).toString('hex');
}
