import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import type { FactorKind } from '../factors/second-factor';
import { Passkey } from './passkey.entity';

/** At most this many passkeys per person (issue 13). */
export const MAX_PASSKEYS = 10;

/** The passkey factor (WebAuthn): the credentials of a user, registered in SecondFactors like any other kind. */
@Injectable()
export class PasskeyFactor implements FactorKind {
  readonly kind = 'passkey' as const;
  readonly standsAlone = true;

  constructor(@InjectRepository(Passkey) private readonly passkeys: Repository<Passkey>) {}

  confirmedSql(userIdColumn: string): string {
    return `EXISTS (SELECT 1 FROM "passkeys" pk WHERE pk."user_id" = ${userIdColumn})`;
  }

  async confirmedAmong(userIds: string[], manager: EntityManager): Promise<Set<string>> {
    if (!userIds.length) return new Set();
    const rows: { userId: string }[] = await manager
      .getRepository(Passkey)
      .createQueryBuilder('pk')
      .select('pk.userId', 'userId')
      .distinct(true)
      .where('pk.userId IN (:...userIds)', { userIds })
      .getRawMany();
    return new Set(rows.map((row) => row.userId));
  }

  async removeAll(userId: string, manager: EntityManager): Promise<void> {
    await manager.getRepository(Passkey).delete({ userId });
  }

  /** The user's passkeys, oldest first. */
  of(userId: string): Promise<Passkey[]> {
    return this.passkeys.find({ where: { userId }, order: { createdAt: 'ASC' } });
  }

  byCredentialId(credentialId: string): Promise<Passkey | null> {
    return this.passkeys.findOneBy({ credentialId });
  }

  count(userId: string): Promise<number> {
    return this.passkeys.countBy({ userId });
  }

  async add(passkey: Omit<Passkey, 'id' | 'assignId' | 'user'>): Promise<Passkey> {
    const row = this.passkeys.create(passkey);
    row.assignId();
    await this.passkeys.insert(row);
    return row;
  }

  /**
   * Records a use: the new counter, compare-and-set on the old one, so two requests with the
   * same assertion cannot both move it. False when another request moved it first.
   */
  async used(passkey: Passkey, newCounter: number, at: Date): Promise<boolean> {
    const result = await this.passkeys
      .createQueryBuilder()
      .update()
      .set({ counter: newCounter, lastUsedAt: at })
      .where('id = :id AND counter = :counter', { id: passkey.id, counter: passkey.counter })
      .execute();
    return result.affected === 1;
  }

  /** Removes one passkey of the user (never another user's). */
  async remove(userId: string, id: string): Promise<Passkey | null> {
    const passkey = await this.passkeys.findOneBy({ id, userId });
    if (!passkey) return null;
    await this.passkeys.delete({ id, userId });
    return passkey;
  }
}
