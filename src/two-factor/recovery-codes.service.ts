import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { randomInt } from 'node:crypto';
import { EntityManager, IsNull, Repository } from 'typeorm';
import { Clock } from '../common/clock';
import { KeyRing } from '../common/crypto/key-ring';
import type { FactorKind } from './factors/second-factor';
import { RecoveryCode } from './recovery-code.entity';

export const RECOVERY_CODE_COUNT = 10;
/** No 0/o, 1/l/i: codes are read off paper. 31 symbols × 12 ≈ 59 bits each. */
const ALPHABET = '23456789abcdefghjkmnpqrstuvwxyz';

/** Normalises a typed recovery code: case, spaces and dashes do not matter. */
export function normaliseRecoveryCode(input: unknown): string | null {
  if (typeof input !== 'string' || input.length > 64) return null;
  const code = input.toLowerCase().replace(/[\s-]/g, '');
  return /^[a-z0-9]{12}$/.test(code) ? code : null;
}

/**
 * Single-use recovery codes, stored only as keyed hashes (SECURITY.md, PRODUCT.md rules): a
 * factor kind that does not stand alone (made with the first factor, each replaces it once).
 */
@Injectable()
export class RecoveryCodesService implements FactorKind {
  readonly kind = 'recovery-codes' as const;
  readonly standsAlone = false;

  constructor(
    @InjectRepository(RecoveryCode) private readonly codes: Repository<RecoveryCode>,
    private readonly keys: KeyRing,
    private readonly clock: Clock,
  ) {}

  /** Replaces all of a user's codes with 10 new ones; returns them formatted `xxxx-xxxx-xxxx`. */
  async regenerate(userId: string, manager: EntityManager): Promise<string[]> {
    const repository = manager.getRepository(RecoveryCode);
    await repository.delete({ userId });
    const now = this.clock.now();
    const plain: string[] = [];
    for (let i = 0; i < RECOVERY_CODE_COUNT; i++) {
      const code = Array.from({ length: 12 }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');
      plain.push(code.match(/.{4}/g)!.join('-'));
      await repository.insert(
        repository.create({ userId, codeHash: this.keys.hash('recovery-code', code), usedAt: null, createdAt: now }),
      );
    }
    return plain;
  }

  /** Spends a code with one conditional UPDATE: a code works once, even when sent twice at once. */
  async spend(userId: string, input: string): Promise<boolean> {
    const code = normaliseRecoveryCode(input);
    if (!code) return false;
    const result = await this.codes
      .createQueryBuilder()
      .update()
      .set({ usedAt: this.clock.now() })
      .where('user_id = :userId AND code_hash = :hash AND used_at IS NULL', {
        userId,
        hash: this.keys.hash('recovery-code', code),
      })
      .execute();
    return result.affected === 1;
  }

  confirmedSql(userIdColumn: string): string {
    return `EXISTS (SELECT 1 FROM "recovery_codes" rc WHERE rc."user_id" = ${userIdColumn} AND rc."used_at" IS NULL)`;
  }

  async confirmedAmong(userIds: string[], manager: EntityManager): Promise<Set<string>> {
    if (!userIds.length) return new Set();
    const rows: { userId: string }[] = await manager
      .getRepository(RecoveryCode)
      .createQueryBuilder('rc')
      .select('rc.userId', 'userId')
      .distinct(true)
      .where('rc.userId IN (:...userIds) AND rc.usedAt IS NULL', { userIds })
      .getRawMany();
    return new Set(rows.map((row) => row.userId));
  }

  async removeAll(userId: string, manager: EntityManager): Promise<void> {
    await manager.getRepository(RecoveryCode).delete({ userId });
  }

  remaining(userId: string): Promise<number> {
    return this.codes.countBy({ userId, usedAt: IsNull() });
  }
}
