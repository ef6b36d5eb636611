import { ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
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
}
