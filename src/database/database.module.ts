import { Global, Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { PreparedSql } from './prepared-sql';

/** The app's hot statements (database/prepared-sql.ts), beside TypeORM's DataSource. */
@Global()
@Module({
  providers: [
    { provide: PreparedSql, useFactory: (dataSource: DataSource) => new PreparedSql(dataSource), inject: [DataSource] },
  ],
  exports: [PreparedSql],
})
export class DatabaseModule {}
