import { DataSource } from 'typeorm';
import { createTestApp, TestApp } from '../utils/test-app';

const sqlite = !process.env.TEST_DATABASE_URL;

/** SQLite's synchronous answers leave turns of the event loop to other requests (database/sqlite-turns.ts). */
(sqlite ? describe : describe.skip)('turns between SQLite queries', () => {
  let t: TestApp;
  let dataSource: DataSource;

  beforeAll(async () => {
    t = await createTestApp();
    dataSource = t.get(DataSource);
  });
  afterAll(async () => t.close());

  const turn = () => new Promise((resolve) => setImmediate(resolve));

  it('a query outside a transaction gives the event loop a turn before its caller goes on', async () => {
    const order: string[] = [];
    setImmediate(() => order.push('another request'));
    await dataSource.query('SELECT 1');
    order.push('the next query');
    expect(order).toEqual(['another request', 'the next query']);
  });

  it('never inside a transaction: nothing else runs between its statements', async () => {
    const order: string[] = [];
    await dataSource.transaction(async (manager) => {
      setImmediate(() => order.push('another request'));
      await manager.query('SELECT 1');
      await manager.query('SELECT 2');
      order.push('the transaction’s statements');
    });
    await turn();
    expect(order).toEqual(['the transaction’s statements', 'another request']);
  });

  it('waits out a transaction another request opened during its turn, before it goes on', async () => {
    const order: string[] = [];
    let finish!: () => void;
    const held = new Promise<void>((resolve) => (finish = resolve));
    // The other request begins its transaction during the turn this query gives away.
    setImmediate(() => {
      void dataSource.transaction(async (manager) => {
        await manager.query('SELECT 1');
        order.push('transaction open');
        await held;
        order.push('transaction ends');
      });
    });
    const query = dataSource.query('SELECT 1').then(() => order.push('the query’s caller goes on'));
    while (!order.includes('transaction open')) await turn();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(order).toEqual(['transaction open']);
    finish();
    await query;
    expect(order).toEqual(['transaction open', 'transaction ends', 'the query’s caller goes on']);
  });
});
