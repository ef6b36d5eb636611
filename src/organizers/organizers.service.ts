import { ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import { Clock } from '../common/clock';
import { EntityLookup, PreparedSql } from '../database/prepared-sql';
import { Organizer } from './organizer.entity';

@Injectable()
export class OrganizersService {
  /** Read at every sign-in (the organizer's name goes into the session). */
  private readonly byId: EntityLookup<Organizer>;

  constructor(
    @InjectRepository(Organizer) private readonly organizers: Repository<Organizer>,
    private readonly clock: Clock,
    prepared: PreparedSql,
  ) {
    this.byId = prepared.lookup(Organizer, 'id');
  }

  async create(name: string): Promise<Organizer> {
    const clean = name.trim();
    if (!clean || clean.length > 200) throw new ConflictException('An organizer name has 1 to 200 characters.');
    if (await this.findByName(clean)) throw new ConflictException(`An organizer named "${clean}" already exists.`);
    return this.organizers.save(this.organizers.create({ name: clean, createdAt: this.clock.now() }));
  }

  findByName(name: string): Promise<Organizer | null> {
    return this.organizers.findOneBy({ name: name.trim() });
  }

  async getByName(name: string): Promise<Organizer> {
    const organizer = await this.findByName(name);
    if (!organizer) throw new NotFoundException(`No organizer named "${name}".`);
    return organizer;
  }

  async getById(id: string): Promise<Organizer> {
    const organizer = await this.byId.find(id);
    if (!organizer) throw new NotFoundException('No such organizer.');
    return organizer;
  }

  count(): Promise<number> {
    return this.organizers.count();
  }

  save(organizer: Organizer): Promise<Organizer> {
    return this.organizers.save(organizer);
  }

  /** Sets the organizer's time zone (checked by the caller: isTimeZone); the previous one, or undefined when it already was so. */
  async setTimeZone(organizerId: string, timeZone: string): Promise<string | undefined> {
    const organizer = await this.getById(organizerId);
    if (organizer.timeZone === timeZone) return undefined;
    await this.organizers.update({ id: organizerId }, { timeZone });
    return organizer.timeZone;
  }

  /** The switch "Allow sign-in with a passkey alone"; false when it already was so (nothing changed). */
  async setPasskeySignIn(organizerId: string, allowed: boolean): Promise<boolean> {
    const result = await this.organizers
      .createQueryBuilder()
      .update()
      .set({ allowPasskeySignIn: allowed })
      .where('id = :organizerId AND allow_passkey_sign_in = :was', { organizerId, was: !allowed })
      .execute();
    return result.affected === 1;
  }

  /**
   * Whether the organizer requires 2FA of everyone. With a transaction's manager the row is
   * share-locked on PostgreSQL (readForPolicy), so a policy change saved at the same moment waits.
   */
  async requiresTwoFactor(organizerId: string, manager?: EntityManager): Promise<boolean> {
    const organizer = await this.readForPolicy(organizerId, manager ?? this.organizers.manager, !!manager);
    return organizer?.requireTwoFactor ?? false;
  }

  /**
   * The 2FA deadline of a user created now in this organizer: now + grace while its policy
   * is on, none otherwise. Pass the creating transaction's manager: on PostgreSQL the row is
   * then read with a share lock, so a policy change saved at the same moment waits for the
   * new user (and applies to them) or is seen by it.
   */
  async twoFactorDeadlineForNewUser(organizerId: string, manager?: EntityManager): Promise<Date | null> {
    const organizer = await this.readForPolicy(organizerId, manager ?? this.organizers.manager, !!manager);
    if (!organizer?.requireTwoFactor) return null;
    return new Date(this.clock.nowMs() + organizer.twoFactorGraceDays * DAY_MS);
  }

  /** The passkey deadline of an admin created now: now + the admin-passkey grace while that policy is on, none otherwise. */
  async passkeyDeadlineForNewAdmin(organizerId: string, manager?: EntityManager): Promise<Date | null> {
    const organizer = await this.readForPolicy(organizerId, manager ?? this.organizers.manager, !!manager);
    if (!organizer?.requireAdminPasskey) return null;
    return new Date(this.clock.nowMs() + organizer.adminPasskeyGraceDays * DAY_MS);
  }

  /**
   * The organizer row; inside a transaction on PostgreSQL, locked against a concurrent policy
   * change: share by its readers, `for_no_key_update` by the policy change itself. Not FOR
   * UPDATE: that would also block the key-share lock of every foreign-key check on users
   * (a user updated twice in one transaction is checked again), so a request holding a user
   * row or the organizer's counts would wait for a policy change that waits for it.
   */
  readForPolicy(
    organizerId: string,
    manager: EntityManager,
    inTransaction: boolean,
    mode: 'pessimistic_read' | 'for_no_key_update' = 'pessimistic_read',
  ): Promise<Organizer | null> {
    const query = manager
      .getRepository(Organizer)
      .createQueryBuilder('o')
      .where('o.id = :organizerId', { organizerId });
    // SQLite has no row locks: its writers are serialized by the database lock instead.
    if (inTransaction && manager.connection.options.type === 'postgres') query.setLock(mode);
    return query.getOne();
  }
}

const DAY_MS = 24 * 60 * 60 * 1000;
