import { QueryFailedError } from 'typeorm';
import { isDatabaseUnavailable, isUniqueViolation } from './database-errors';

const pgError = (code: string, severity = 'ERROR') => Object.assign(new Error('pg'), { code, severity });

describe('isDatabaseUnavailable', () => {
  it('is true for a database that is down, refusing, cut off or too slow', () => {
    for (const error of [
      pgError('57P01', 'FATAL'),
      pgError('55000', 'FATAL'),
      pgError('57014'),
      pgError('53300', 'FATAL'),
      pgError('08006'),
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
      new Error('Connection terminated unexpectedly'),
      new Error('timeout exceeded when trying to connect'),
      Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' }),
      new QueryFailedError('SELECT 1', [], pgError('57P01', 'FATAL')),
    ]) {
      expect(isDatabaseUnavailable(error)).toBe(true);
    }
  });

  it('is false for errors of the request or the code: those stay 500s or are handled where they occur', () => {
    for (const error of [
      pgError('23505'),
      pgError('42P01'),
      new QueryFailedError('INSERT', [], pgError('23503')),
      new TypeError('x is undefined'),
      undefined,
      'text',
    ]) {
      expect(isDatabaseUnavailable(error)).toBe(false);
    }
  });
});

describe('isUniqueViolation', () => {
  it('recognises a unique index broken on PostgreSQL and SQLite, bare or wrapped by TypeORM', () => {
    expect(isUniqueViolation(pgError('23505'))).toBe(true);
    expect(isUniqueViolation(new QueryFailedError('INSERT', [], pgError('23505')))).toBe(true);
    expect(
      isUniqueViolation(
        Object.assign(new Error('UNIQUE constraint failed: users.email'), { code: 'SQLITE_CONSTRAINT_UNIQUE' }),
      ),
    ).toBe(true);
  });

  it('is false for other constraint errors and for outages', () => {
    for (const error of [
      pgError('23503'),
      pgError('23502'),
      Object.assign(new Error('x'), { code: 'SQLITE_CONSTRAINT_FOREIGNKEY' }),
      pgError('57P01', 'FATAL'),
      undefined,
    ]) {
      expect(isUniqueViolation(error)).toBe(false);
    }
  });
});
