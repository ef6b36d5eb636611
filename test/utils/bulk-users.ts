import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { OrganizersService } from '../../src/organizers/organizers.service';
import { User } from '../../src/users/user.entity';
import type { TestApp } from './test-app';

export interface BulkUsers {
  /** The name of the i-th user (default: "person 0001", in three cases: many ties in the list's order). */
  name?: (i: number) => string;
  twoFactorRequired?: (i: number) => boolean;
  createdAt?: (i: number) => Date;
}

/** "person 0001", "Person 0002", "PERSON 0003", …: 700 names in three cases, many ties in the list's order (LOWER(name)). */
export function bulkName(i: number): string {
  const n = String(i % 700).padStart(4, '0');
  return [`person ${n}`, `Person ${n}`, `PERSON ${n}`][i % 3];
}

/**
 * Many users of `organizer`, inserted through the repository in one transaction (no password
 * hashing, so thousands take a moment): the real table, its triggers and indexes. Emails are
 * `<prefix><i, 5 digits>@bulk.test`. Returns the rows inserted.
 */
export async function seedUsers(t: TestApp, organizer: string, count: number, prefix: string, shape: BulkUsers = {}) {
  const organizers = t.get(OrganizersService);
  const { id: organizerId } = (await organizers.findByName(organizer)) ?? (await organizers.create(organizer));
  const rows = Array.from({ length: count }, (_, i) => {
    return {
      id: randomUUID(),
      organizerId,
      email: `${prefix}${String(i).padStart(5, '0')}@bulk.test`,
      name: shape.name ? shape.name(i) : bulkName(i),
      role: 'member' as const,
      passwordHash: null,
      twoFactorRequired: shape.twoFactorRequired ? shape.twoFactorRequired(i) : true,
      securityStamp: randomUUID(),
      createdAt: shape.createdAt ? shape.createdAt(i) : new Date(t.clock.nowMs()),
    };
  });
  await t.get(DataSource).transaction(async (manager) => {
    for (let i = 0; i < rows.length; i += 500) await manager.insert(User, rows.slice(i, i + 500));
  });
  return rows;
}
