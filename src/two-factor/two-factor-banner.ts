import { Injectable, OnModuleInit } from '@nestjs/common';
import type { Request, Response } from 'express';
import { Clock } from '../common/clock';
import { LayoutLocals } from '../common/layout-locals';
import type { User } from '../users/user.entity';
import { SecondFactors } from './factors/second-factors.service';

const DAY_MS = 24 * 60 * 60 * 1000;

/** The banner of a signed-in person whose organizer requires 2FA that they have not set up: days left until sign-in forces it. */
@Injectable()
export class TwoFactorBanner implements OnModuleInit {
  constructor(
    private readonly layout: LayoutLocals,
    private readonly clock: Clock,
    private readonly factors: SecondFactors,
  ) {}

  onModuleInit(): void {
    this.layout.register((req, res) => this.contribute(req, res));
  }

  private async contribute(req: Request, res: Response): Promise<void> {
    const user = req.user as User | undefined;
    if (!user?.twoFactorDeadline || req.session?.auth?.stage !== 'full') return;
    const left = user.twoFactorDeadline.getTime() - this.clock.nowMs();
    if (left <= 0 || (await this.factors.hasConfirmed(user))) return;
    const daysLeft = Math.ceil(left / DAY_MS);
    res.locals.twoFactorBanner = { daysLeft, lastDay: daysLeft === 1 };
  }
}
