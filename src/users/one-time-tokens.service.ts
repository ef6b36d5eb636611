import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, IsNull, Repository } from 'typeorm';
import { Clock } from '../common/clock';
import { KeyRing, randomToken } from '../common/crypto/key-ring';
import { OneTimeToken, TokenPurpose } from './one-time-token.entity';

export const HOUR_MS = 60 * 60 * 1000;

/** Emailed single-use links: 256-bit random tokens, stored only as keyed hashes, spent atomically. */
@Injectable()
export class OneTimeTokensService {
  constructor(
    @InjectRepository(OneTimeToken) private readonly tokens: Repository<OneTimeToken>,
    private readonly keys: KeyRing,
    private readonly clock: Clock,
  ) {}

  /**
   * Issues a new token and revokes the user's earlier unspent tokens of the same purpose
   * (only the newest link works). Returns the raw token, which exists nowhere else.
   */
  async issue(
    userId: string,
    purpose: TokenPurpose,
    validForMs: number,
    createdById: string | null,
    manager?: EntityManager,
    options: { keepEarlier?: boolean } = {},
  ): Promise<{ token: string; record: OneTimeToken }> {
    const repository = manager ? manager.getRepository(OneTimeToken) : this.tokens;
    const now = this.clock.now();
    // Every security email has its own "This wasn't me" link; invitations and resets keep only the newest.
    if (!options.keepEarlier)
      await repository.update({ userId, purpose, usedAt: IsNull(), revokedAt: IsNull() }, { revokedAt: now });
    const token = randomToken();
    const record = await repository.save(
      repository.create({
        userId,
        purpose,
        tokenHash: this.keys.hash('token-hash', token),
        expiresAt: new Date(now.getTime() + validForMs),
        usedAt: null,
        revokedAt: null,
        createdById,
        createdAt: now,
      }),
    );
    return { token, record };
  }

  /** The token's record when it can still be used (not spent, revoked or expired); does not spend it. */
  async findUsable(token: unknown, purpose: TokenPurpose): Promise<OneTimeToken | null> {
    if (typeof token !== 'string' || token.length < 20 || token.length > 100) return null;
    const record = await this.tokens.findOneBy({ tokenHash: this.keys.hash('token-hash', token), purpose });
    return record && record.status(this.clock.now()) === 'waiting' ? record : null;
  }

  /** Why a link cannot be used, for the page that says so. */
  async describe(
    token: unknown,
    purpose: TokenPurpose,
  ): Promise<'waiting' | 'done' | 'expired' | 'revoked' | 'unknown'> {
    if (typeof token !== 'string' || token.length > 100) return 'unknown';
    const record = await this.tokens.findOneBy({ tokenHash: this.keys.hash('token-hash', token), purpose });
    return record ? record.status(this.clock.now()) : 'unknown';
  }

  /**
   * Spends a token with one conditional UPDATE: of several requests racing with the same
   * token, across instances, exactly one gets true.
   */
  async spend(tokenId: string, manager?: EntityManager): Promise<boolean> {
    const repository = manager ? manager.getRepository(OneTimeToken) : this.tokens;
    const now = this.clock.now().getTime();
    const result = await repository
      .createQueryBuilder()
      .update()
      .set({ usedAt: new Date(now) })
      .where('id = :id AND used_at IS NULL AND revoked_at IS NULL AND expires_at > :now', { id: tokenId, now })
      .execute();
    return result.affected === 1;
  }

  /** Revokes every unspent token of a purpose for a user (e.g. a reset undone by Disable 2FA). */
  async revokeAll(userId: string, purpose: TokenPurpose, manager?: EntityManager): Promise<void> {
    const repository = manager ? manager.getRepository(OneTimeToken) : this.tokens;
    await repository.update(
      { userId, purpose, usedAt: IsNull(), revokedAt: IsNull() },
      { revokedAt: this.clock.now() },
    );
  }

  /** The newest token of a purpose for a user, for the admin's "waiting / done / expired". */
  latest(userId: string, purpose: TokenPurpose): Promise<OneTimeToken | null> {
    return this.tokens.findOne({ where: { userId, purpose }, order: { createdAt: 'DESC' } });
  }
}
