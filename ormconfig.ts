import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { AppConfig } from './src/config/app-config';
import { dataSourceOptions } from './src/database/data-source-options';
import { ENTITIES } from './src/entities';

/**
 * The DataSource of the TypeORM CLI (npm run migration:run / migration:generate): the
 * same options as the app, from the same environment (DATABASE_URL or DATA_DIR).
 */
export default new DataSource({
  ...dataSourceOptions(AppConfig.fromEnv(), ENTITIES),
  migrations: ['src/database/migrations/*.ts'],
});
