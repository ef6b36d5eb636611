import { randomBytes, randomUUID } from 'node:crypto';
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

let lastMs = -1;
let counter = 0;

/**
 * A UUID in the version 7 layout: 48 bits of milliseconds, then a counter that grows within one
 * millisecond of this process, then random bits. Ids sort in the order they were made (within
 * a process; across instances by the millisecond): emails queued at the same instant leave in
 * the order they were queued, and audit events of the same millisecond read in the order they
 * happened. `ms` is the app's clock.
 */
export function timeOrderedId(ms: number): string {
  if (ms <= lastMs) {
    counter += 1;
    if (counter > 0xfff) {
      lastMs += 1;
      counter = 0;
    }
    ms = lastMs;
  } else {
    lastMs = ms;
    counter = 0;
  }
  const bytes = randomBytes(16);
  bytes.writeUIntBE(ms, 0, 6);
  bytes[6] = 0x70 | (counter >> 8);
  bytes[7] = counter & 0xff;
  bytes[8] = 0x80 | (bytes[8] & 0x3f);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
