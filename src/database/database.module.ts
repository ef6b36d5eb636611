import { Global, Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { PreparedSql } from './prepared-sql';
import { takeTurnsBetweenQueries } from './sqlite-turns';

/** The app's hot statements (database/prepared-sql.ts), beside TypeORM's DataSource; on SQLite, turns between its queries (sqlite-turns.ts). */
@Global()
@Module({
  providers: [
    {
      provide: PreparedSql,
      useFactory: (dataSource: DataSource) => {
        takeTurnsBetweenQueries(dataSource);
        return new PreparedSql(dataSource);
      },
      inject: [DataSource],
    },
  ],
  exports: [PreparedSql],
})
export class DatabaseModule {}
