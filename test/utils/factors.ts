import { DataSource } from 'typeorm';
import { SecondFactors } from '../../src/two-factor/factors/second-factors.service';
import { TwoFactorState } from '../../src/two-factor/factors/two-factor-state';
import { TotpDevice } from '../../src/two-factor/totp-device.entity';
import { UsersService } from '../../src/users/users.service';
import type { TestApp } from './test-app';

/** The user's authenticator devices: the confirmed one and the one shown on the setup page, if any. */
export async function totpDevices(
  t: TestApp,
  userId: string,
): Promise<{ active: TotpDevice | null; pending: TotpDevice | null }> {
  const devices = await t.get(DataSource).getRepository(TotpDevice).findBy({ userId });
  return {
    active: devices.find((d) => d.slot === 'active') ?? null,
    pending: devices.find((d) => d.slot === 'pending') ?? null,
  };
}

/** Whether the user has a confirmed second factor (SecondFactors, the one place that answers). */
export async function hasFactor(t: TestApp, userId: string): Promise<boolean> {
  return t.get(SecondFactors).hasConfirmed({ id: userId });
}

/** The user's 2FA state code, as every page derives it. */
export async function stateOf(t: TestApp, userId: string): Promise<TwoFactorState> {
  return t.get(SecondFactors).state(await t.get(UsersService).getById(userId));
}

/** Whether sign-in owes a second factor at `now`. */
export async function owed(t: TestApp, userId: string, now: Date): Promise<boolean> {
  return t.get(SecondFactors).owed(await t.get(UsersService).getById(userId), now);
}
