import { Client } from 'pg';

/** Empties the throw-away PostgreSQL database of npm run test:postgres (one schema, dropped and made again). */
export async function resetPostgresSchema(url: string): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('DROP SCHEMA IF EXISTS public CASCADE');
    await client.query('CREATE SCHEMA public');
  } finally {
    await client.end();
  }
}
