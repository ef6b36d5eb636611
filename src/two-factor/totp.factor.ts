import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import { Clock } from '../common/clock';
import { KeyRing } from '../common/crypto/key-ring';
import { PreparedSql } from '../database/prepared-sql';
import type { FactorKind } from './factors/second-factor';
import { generateTotpSecret } from './totp';
import { TotpDevice } from './totp-device.entity';

/**
 * The authenticator-app factor (TOTP, RFC 6238): its devices, after django-otp's TOTPDevice.
 * A device counts only once confirmed by a code; the secret is sealed with the user's id as
 * associated data, so a ciphertext moved to another user does not open.
 */
@Injectable()
export class TotpFactor implements FactorKind {
  readonly kind = 'totp' as const;
  readonly standsAlone = true;

  constructor(
    @InjectRepository(TotpDevice) private readonly devices: Repository<TotpDevice>,
    private readonly keys: KeyRing,
    private readonly clock: Clock,
    private readonly sql: PreparedSql,
  ) {}

  confirmedSql(userIdColumn: string): string {
    return `EXISTS (SELECT 1 FROM "totp_devices" td WHERE td."user_id" = ${userIdColumn} AND td."slot" = 'active')`;
  }

  async confirmedAmong(userIds: string[], manager: EntityManager): Promise<Set<string>> {
    if (!userIds.length) return new Set();
    // The (user_id, slot) unique index: one probe per user, each at most one row.
    const rows: { userId: string }[] = await manager
      .getRepository(TotpDevice)
      .createQueryBuilder('td')
      .select('td.userId', 'userId')
      .where("td.slot = 'active' AND td.userId IN (:...userIds)", { userIds })
      .getRawMany();
    return new Set(rows.map((row) => row.userId));
  }

  async removeAll(userId: string, manager: EntityManager): Promise<void> {
    await manager.getRepository(TotpDevice).delete({ userId });
  }

  /** The confirmed authenticator, or null. */
  active(userId: string, manager?: EntityManager): Promise<TotpDevice | null> {
    return (manager ? manager.getRepository(TotpDevice) : this.devices).findOneBy({ userId, slot: 'active' });
  }

  /**
   * The secret shown on the setup page: the unconfirmed device's, made once, so reloading
   * shows the same one; of two tabs at once, the device stored first is the one both show.
   */
  async pendingSecret(userId: string): Promise<{ device: TotpDevice; secret: string }> {
    let device = await this.devices.findOneBy({ userId, slot: 'pending' });
    if (!device) {
      const candidate = this.devices.create({
        userId,
        slot: 'pending',
        secretEnc: this.seal(userId, generateTotpSecret()),
        lastStep: null,
        confirmedAt: null,
        createdAt: this.clock.now(),
      });
      candidate.assignId();
      await this.devices.createQueryBuilder().insert().values(candidate).orIgnore().execute();
      device = (await this.devices.findOneBy({ userId, slot: 'pending' }))!;
    }
    return { device, secret: this.open(userId, device.secretEnc) };
  }

  /** The unconfirmed device's secret, when there is one (to check the setup code against). */
  async pendingDevice(userId: string): Promise<{ device: TotpDevice; secret: string } | null> {
    const device = await this.devices.findOneBy({ userId, slot: 'pending' });
    return device ? { device, secret: this.open(userId, device.secretEnc) } : null;
  }

  /** Forgets the unconfirmed device, so the setup page shows a new secret (replacing an authenticator). */
  async discardPending(userId: string): Promise<void> {
    await this.devices.delete({ userId, slot: 'pending' });
  }

  /**
   * Confirms the shown device with the step of its first code: it becomes the active one and
   * the previous active one (a replaced authenticator) is removed. False when the device is
   * no longer the pending one (confirmed or replaced meanwhile).
   */
  async confirm(device: TotpDevice, step: number, manager: EntityManager): Promise<boolean> {
    const repository = manager.getRepository(TotpDevice);
    const pending = await repository.findOneBy({ id: device.id, slot: 'pending' });
    if (!pending) return false;
    await repository.delete({ userId: device.userId, slot: 'active' });
    const confirmed = await repository
      .createQueryBuilder()
      .update()
      .set({ slot: 'active', confirmedAt: this.clock.now(), lastStep: step })
      .where("id = :id AND slot = 'pending'", { id: device.id })
      .execute();
    return confirmed.affected === 1;
  }

  /** The secret of a device, opened. */
  secretOf(device: TotpDevice): string {
    return this.open(device.userId, device.secretEnc);
  }

  /**
   * Accepts a time step once (SECURITY.md 7): the UPDATE matches only while the last accepted
   * step is older, so of two requests with one code exactly one changes the row, on any instance.
   */
  async acceptStep(device: TotpDevice, step: number): Promise<boolean> {
    const accepted = await this.sql.run(
      'UPDATE "totp_devices" SET "last_step" = ? WHERE "id" = ? AND ("last_step" IS NULL OR "last_step" < ?)',
      [step, device.id, step],
    );
    if (accepted === 1) device.lastStep = step;
    return accepted === 1;
  }

  private seal(userId: string, secret: string): string {
    return this.keys.encrypt(secret, `totp:${userId}`);
  }

  private open(userId: string, sealed: string): string {
    return this.keys.decrypt(sealed, `totp:${userId}`);
  }
}
