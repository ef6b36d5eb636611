import { randomUUID } from 'node:crypto';
import { ColumnOptions, ValueTransformer } from 'typeorm';

/**
 * Instants are stored as epoch milliseconds in a BIGINT column on both SQLite and
 * PostgreSQL: one representation, so conditional UPDATEs can compare them with a
 * bound number on either database, and no time zone can creep in.
 */
export const epochMs: ValueTransformer = {
  to: (value?: Date | null) => (value == null ? value : value.getTime()),
  from: (value?: string | number | null) => (value == null ? null : new Date(Number(value))),
};

/** BIGINT comes back from pg as a string; small counters fit a JS number. */
export const bigintNumber: ValueTransformer = {
  to: (value?: number | null) => value,
  from: (value?: string | number | null) => (value == null ? null : Number(value)),
};

export const timestampColumn = (options: ColumnOptions = {}): ColumnOptions => ({
  type: 'bigint',
  transformer: epochMs,
  ...options,
});

export const newId = (): string => randomUUID();
