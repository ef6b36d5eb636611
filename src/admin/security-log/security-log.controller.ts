import { streamCsv } from '../csv';
import { Controller, Get, Logger, Query, Render, Res } from '@nestjs/common';
import type { Response } from 'express';
import { CurrentUser, Roles } from '../../auth/auth.decorators';
import { User } from '../../users/user.entity';
import { SecurityLogQuery } from './dto/security-log.query';
import { SECURITY_LOG_VIEW, SecurityLogService } from './security-log.service';

/**
 * Security log → the organizer's security events, their chart, and the same as CSV. Admins
 * only (members get 403 from the global guard); the organizer is always the admin's own.
 */
@Roles('admin')
@Controller('admin/security-log')
export class SecurityLogController {
  private readonly logger = new Logger('SecurityLog');

  constructor(private readonly log: SecurityLogService) {}

  @Get()
  @Render(SECURITY_LOG_VIEW)
  page(@CurrentUser() admin: User, @Query() query: SecurityLogQuery) {
    return this.log.page(admin, query);
  }

  /** Every matching event as CSV, streamed: rows are written as they are read (with the socket's backpressure). */
  @Get('export.csv')
  async exportCsv(@Res() res: Response, @CurrentUser() admin: User, @Query() query: SecurityLogQuery) {
    const { filename, lines } = await this.log.exportCsv(admin, query);
    await streamCsv(res, filename, lines, (message) => this.logger.error(`The CSV export stopped: ${message}`));
  }
}
