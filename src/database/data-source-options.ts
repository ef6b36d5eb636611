import { mkdirSync } from 'node:fs';
import { DataSourceOptions } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { CreateSchema1764270000000 } from './migrations/1764270000000-CreateSchema';
import { AddAccountLock1764300000000 } from './migrations/1764300000000-AddAccountLock';
import { AddAttemptCounters1764400000000 } from './migrations/1764400000000-AddAttemptCounters';
import { NormaliseEmails1764500000000 } from './migrations/1764500000000-NormaliseEmails';
import { MoveTotpToDevices1764600000000 } from './migrations/1764600000000-MoveTotpToDevices';
import { AddPasskeys1764700000000 } from './migrations/1764700000000-AddPasskeys';
import { AddSecurityLogIndexes1764800000000 } from './migrations/1764800000000-AddSecurityLogIndexes';
import { AddMailOutbox1764900000000 } from './migrations/1764900000000-AddMailOutbox';
import { AddAuditCreatedIndex1765000000000 } from './migrations/1765000000000-AddAuditCreatedIndex';
import { AddUserListOrderIndex1765100000000 } from './migrations/1765100000000-AddUserListOrderIndex';
import { AddAdoptionCounters1765200000000 } from './migrations/1765200000000-AddAdoptionCounters';
import { AddUserSearch1765300000000 } from './migrations/1765300000000-AddUserSearch';
import { AddAuditDayCounts1765400000000 } from './migrations/1765400000000-AddAuditDayCounts';
import { AddLanguageAndTimeZone1765500000000 } from './migrations/1765500000000-AddLanguageAndTimeZone';
import { AddSearchStartIndexes1765600000000 } from './migrations/1765600000000-AddSearchStartIndexes';

export const MIGRATIONS = [
  CreateSchema1764270000000,
  AddAccountLock1764300000000,
  AddAttemptCounters1764400000000,
  NormaliseEmails1764500000000,
  MoveTotpToDevices1764600000000,
  AddPasskeys1764700000000,
  AddSecurityLogIndexes1764800000000,
  AddMailOutbox1764900000000,
  AddAuditCreatedIndex1765000000000,
  AddUserListOrderIndex1765100000000,
  AddAdoptionCounters1765200000000,
  AddUserSearch1765300000000,
  AddAuditDayCounts1765400000000,
  AddLanguageAndTimeZone1765500000000,
  AddSearchStartIndexes1765600000000,
];

/**
 * The one description of the database, used by the app, the CLI and ormconfig.ts. The
 * entities are the features' (src/entities.ts): the database knows none of them.
 */
export function dataSourceOptions(
  config: AppConfig,
  entities: NonNullable<DataSourceOptions['entities']>,
): DataSourceOptions {
  const common = {
    entities,
    migrations: MIGRATIONS,
    synchronize: false,
    migrationsRun: false,
    logging: ['error'] as 'error'[],
  };
  if (config.databaseUrl) {
    return {
      ...common,
      type: 'postgres',
      url: config.databaseUrl,
      poolSize: config.dbPoolSize,
      extra: {
        statement_timeout: config.dbStatementTimeoutMs || undefined,
        connectionTimeoutMillis: 5000,
      },
    };
  }
  mkdirSync(config.dataDir, { recursive: true });
  return {
    ...common,
    type: 'better-sqlite3',
    database: config.sqlitePath,
    enableWAL: true,
    // Several writers (CLI, app) may touch the same file: wait for the lock instead of failing.
    timeout: 5000,
    prepareDatabase: (db: { pragma(sql: string): unknown }) => {
      db.pragma('foreign_keys = ON');
      db.pragma('synchronous = NORMAL');
    },
  } as DataSourceOptions;
}
