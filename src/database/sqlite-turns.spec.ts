import type { DataSource } from 'typeorm';
import { takeTurnsBetweenQueries } from './sqlite-turns';

/** A DataSource whose SQLite driver makes runners of this shape. */
function dataSourceMaking(runner: object): DataSource {
  const driver = { createQueryRunner: () => runner, databaseConnection: { inTransaction: false } };
  return { options: { type: 'better-sqlite3' }, driver } as unknown as DataSource;
}

describe('takeTurnsBetweenQueries', () => {
  class Runner {
    isTransactionActive = false;
    transactionDepth = 0;
    query() {
      return Promise.resolve('rows');
    }
  }

  it("refuses to start when TypeORM's runner no longer has transactionDepth (the turns would not see transactions)", () => {
    class Renamed {
      isTransactionActive = false;
      query() {
        return Promise.resolve('rows');
      }
    }
    const dataSource = dataSourceMaking(new Renamed());
    takeTurnsBetweenQueries(dataSource);
    expect(() => dataSource.driver.createQueryRunner('master')).toThrow(/transactionDepth/);
  });

  it('gives the event loop a turn after a query outside a transaction, none inside one', async () => {
    const runner = new Runner();
    const dataSource = dataSourceMaking(runner);
    takeTurnsBetweenQueries(dataSource);
    const patched = dataSource.driver.createQueryRunner('master');
    const order: string[] = [];
    const outside = patched.query('SELECT 1').then(() => order.push('query'));
    setImmediate(() => order.push('turn'));
    await outside;
    expect(order).toEqual(['turn', 'query']);

    runner.transactionDepth = 1;
    order.length = 0;
    const inside = patched.query('SELECT 1').then(() => order.push('query'));
    setImmediate(() => order.push('turn'));
    await inside;
    expect(order).toEqual(['query']);
  });
});
