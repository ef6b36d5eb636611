import { Injectable, OnModuleInit } from '@nestjs/common';
import type { Request, Response } from 'express';
import { Clock } from '../common/clock';
import { LayoutLocals } from '../common/layout-locals';
import type { User } from '../users/user.entity';
import { SecondFactors } from './factors/second-factors.service';
import { PasskeyFactor } from './passkeys/passkey.factor';

const DAY_MS = 24 * 60 * 60 * 1000;

/** The banners of a signed-in person whose organizer requires 2FA (or, of admins, a passkey) not set up yet: the days left. */
@Injectable()
export class TwoFactorBanner implements OnModuleInit {
  constructor(
    private readonly layout: LayoutLocals,
    private readonly clock: Clock,
    private readonly factors: SecondFactors,
    private readonly passkeys: PasskeyFactor,
  ) {}

  onModuleInit(): void {
    this.layout.register((req, res) => this.contribute(req, res));
  }

  private async contribute(req: Request, res: Response): Promise<void> {
    const user = req.user as User | undefined;
    if (!user || req.session?.auth?.stage !== 'full') return;
    const twoFactor = this.daysLeft(user.twoFactorDeadline);
    if (twoFactor && !(await this.factors.hasConfirmed(user))) res.locals.twoFactorBanner = twoFactor;
    // An admin whose organizer requires a passkey of admins, before their deadline.
    const passkey = user.role === 'admin' ? this.daysLeft(user.passkeyDeadline) : undefined;
    if (passkey && !(await this.passkeys.count(user.id))) res.locals.passkeyBanner = passkey;
  }

  private daysLeft(deadline: Date | null): { daysLeft: number; lastDay: boolean } | undefined {
    if (!deadline) return undefined;
    const left = deadline.getTime() - this.clock.nowMs();
    if (left <= 0) return undefined;
    const daysLeft = Math.ceil(left / DAY_MS);
    return { daysLeft, lastDay: daysLeft === 1 };
  }
}
