import { Injectable, OnModuleInit } from '@nestjs/common';
import type { Request, Response } from 'express';
import { LayoutLocals } from '../common/layout-locals';
import type { User } from '../users/user.entity';
import { OrganizersService } from './organizers.service';

/** Every page of a signed-in person shows its times in their organizer's time zone (issue 17). */
@Injectable()
export class OrganizerTimeZoneLayout implements OnModuleInit {
  constructor(
    private readonly layout: LayoutLocals,
    private readonly organizers: OrganizersService,
  ) {}

  onModuleInit(): void {
    this.layout.register((req, res) => this.contribute(req, res));
  }

  private async contribute(req: Request, res: Response): Promise<void> {
    const user = req.user as User | undefined;
    if (user) res.locals.timeZone = (await this.organizers.getById(user.organizerId)).timeZone;
  }
}
