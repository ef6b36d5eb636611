import { Injectable, OnModuleInit } from '@nestjs/common';
import type { Request, Response } from 'express';
import { LayoutLocals } from '../common/layout-locals';
import type { User } from '../users/user.entity';

/** What the layout shows of the session: the signed-in person and the menu, or the pending step. */
@Injectable()
export class SignedInLayout implements OnModuleInit {
  constructor(private readonly layout: LayoutLocals) {}

  onModuleInit(): void {
    this.layout.register((req, res) => this.contribute(req, res));
  }

  private contribute(req: Request, res: Response): void {
    const user = req.user as User | undefined;
    const auth = req.session?.auth;
    const full = !!user && auth?.stage === 'full';
    if (full) {
      res.locals.currentUser = {
        name: user.name,
        email: user.email,
        organizer: auth.organizerName,
        isAdmin: user.role === 'admin',
      };
      res.locals.nav = {
        dashboard: req.path === '/',
        users: req.path.startsWith('/admin') && !req.path.startsWith('/admin/security-log'),
        securityLog: req.path.startsWith('/admin/security-log'),
        account: req.path.startsWith('/account'),
      };
    }
    res.locals.pending = auth?.stage === 'pending';
    res.locals.signedOut ??= !full;
  }
}
