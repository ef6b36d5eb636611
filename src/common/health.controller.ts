import { Controller, Get, HttpCode, ServiceUnavailableException } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Public } from './decorators';

@Controller('healthz')
export class HealthController {
  constructor(private readonly dataSource: DataSource) {}

  /** 200 when the database answers, else 503; the app keeps serving once it is back. */
  @Public()
  @Get()
  @HttpCode(200)
  async health() {
    try {
      await this.dataSource.query('SELECT 1');
      return { status: 'ok' };
    } catch {
      throw new ServiceUnavailableException({ status: 'unavailable' });
    }
  }
}
