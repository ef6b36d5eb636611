import { DataSource } from 'typeorm';
import { KeyRing } from '../common/crypto/key-ring';
import { AppConfig } from '../config/app-config';
import { PreparedSql } from '../database/prepared-sql';
import { AttemptCounter } from './attempt-counter.entity';
import { AttemptLimiter, PoolKey } from './attempt-limiter.service';
import { ManualClock } from '../../test/utils/manual-clock';

const MINUTE = 60_000;

/** The limiter on a real SQLite database in memory (the same SQL as the app's). */
async function setUp() {
  const dataSource = new DataSource({
    type: 'better-sqlite3',
    database: ':memory:',
    entities: [AttemptCounter],
    synchronize: false,
  });
  await dataSource.initialize();
  // The table as AddAttemptCounters makes it (its other steps touch tables this database does not have).
  await dataSource.query(
    'CREATE TABLE "attempt_counters" ("key" varchar(100) PRIMARY KEY, "user_id" varchar(36), "reserved_count" integer NOT NULL DEFAULT 0, ' +
      '"failed_count" integer NOT NULL DEFAULT 0, "window_started_at" bigint NOT NULL, "locked_until" bigint, "updated_at" bigint NOT NULL)',
  );
  const config = AppConfig.fromEnv({
    NODE_ENV: 'test',
    APP_SECRET: 'unit-test-secret-0123456789abcdef0123456789',
    DATA_DIR: '/tmp/unused',
    CLIENT_MAX_FAILURES: '5',
  });
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const limiter = new AttemptLimiter(
    dataSource.getRepository(AttemptCounter),
    new PreparedSql(dataSource),
    new KeyRing(config),
    clock,
    config,
  );
  return { limiter, clock, close: () => dataSource.destroy() };
}

const wrong = async () => ({ ok: false, value: 'checked' });
const right = async () => ({ ok: true, value: 'checked' });

describe('AttemptLimiter', () => {
  let ctx: Awaited<ReturnType<typeof setUp>>;
  let pool: PoolKey;

  beforeEach(async () => {
    ctx = await setUp();
    pool = ctx.limiter.codeKey('user-1');
  });
  afterEach(async () => ctx.close());

  describe('guard', () => {
    it('locks on the 5th wrong code in a row, reports the lock once, and refuses without checking while locked', async () => {
      for (let i = 0; i < 4; i++)
        expect(await ctx.limiter.guard([pool], wrong)).toMatchObject({ checked: true, ok: false, lockedNow: [] });
      const fifth = await ctx.limiter.guard([pool], wrong);
      expect(fifth).toMatchObject({
        checked: true,
        lockedNow: [{ pool: 'code', until: new Date(ctx.clock.nowMs() + 15 * MINUTE) }],
      });
      const check = jest.fn(right);
      expect(await ctx.limiter.guard([pool], check)).toMatchObject({ checked: false, refusedBy: 'code' });
      expect(check).not.toHaveBeenCalled();
      ctx.clock.advance(15 * MINUTE);
      expect(await ctx.limiter.guard([pool], right)).toMatchObject({ checked: true, ok: true });
    });

    it('counts in a row: a right secret clears the failures', async () => {
      for (let i = 0; i < 4; i++) await ctx.limiter.guard([pool], wrong);
      await ctx.limiter.guard([pool], right);
      for (let i = 0; i < 4; i++) expect(await ctx.limiter.guard([pool], wrong)).toMatchObject({ lockedNow: [] });
    });

    it('reserves before checking: of 12 checks in flight at once, only 5 run', async () => {
      let running = 0;
      const slow = async () => {
        running++;
        await new Promise((resolve) => setImmediate(resolve));
        return { ok: false, value: running };
      };
      const results = await Promise.all(Array.from({ length: 12 }, () => ctx.limiter.guard([pool], slow)));
      expect(results.filter((result) => result.checked)).toHaveLength(5);
      expect(running).toBe(5);
    });

    it('gives a reservation back when the check throws', async () => {
      for (let i = 0; i < 4; i++) await ctx.limiter.guard([pool], wrong);
      await expect(ctx.limiter.guard([pool], async () => Promise.reject(new Error('database down')))).rejects.toThrow(
        'database down',
      );
      expect(await ctx.limiter.guard([pool], wrong)).toMatchObject({ checked: true, lockedNow: [{ pool: 'code' }] });
    });

    it('refuses in one pool without taking a place in the others', async () => {
      const client = ctx.limiter.clientKey('203.0.113.9');
      const account = ctx.limiter.passwordKey('someone@example.com', null);
      for (let i = 0; i < 5; i++)
        await ctx.limiter.guard([client, ctx.limiter.passwordKey(`other${i}@example.com`, null)], wrong);
      expect(await ctx.limiter.guard([client, account], right)).toMatchObject({ checked: false, refusedBy: 'client' });
      // The per-client pool does not forget on success, and its window restarts after its lock.
      ctx.clock.advance(15 * MINUTE);
      expect(await ctx.limiter.guard([client, account], right)).toMatchObject({ checked: true, ok: true });
    });
  });

  describe('take', () => {
    it('counts every forgot-password request: the 3rd per address fills the window, the 4th is refused until it passes', async () => {
      const address = ctx.limiter.resetAddressKey('someone@example.com');
      const client = ctx.limiter.resetClientKey('203.0.113.9');
      for (let i = 0; i < 3; i++) expect(await ctx.limiter.take([address, client])).toEqual({ taken: true });
      expect(await ctx.limiter.take([address, client])).toEqual({
        taken: false,
        refusedBy: 'reset-address',
        retryAt: new Date(ctx.clock.nowMs() + 60 * MINUTE),
      });
      // Another address from the same client still counts there (3 of its 10 taken, the refusal took none).
      const other = ctx.limiter.resetAddressKey('other@example.com');
      expect(await ctx.limiter.take([other, client])).toEqual({ taken: true });
      ctx.clock.advance(60 * MINUTE);
      expect(await ctx.limiter.take([address, client])).toEqual({ taken: true });
    });

    it('limits one client (IPv6 by /64) across addresses: the 11th request in the window is refused', async () => {
      const client = (n: number) => ctx.limiter.resetClientKey(`2001:db8:1:2::${n.toString(16)}`);
      for (let i = 0; i < 10; i++)
        expect(await ctx.limiter.take([ctx.limiter.resetAddressKey(`a${i}@example.com`), client(i)])).toEqual({
          taken: true,
        });
      expect(await ctx.limiter.take([ctx.limiter.resetAddressKey('new@example.com'), client(99)])).toMatchObject({
        taken: false,
        refusedBy: 'reset-client',
      });
      expect(
        await ctx.limiter.take([
          ctx.limiter.resetAddressKey('new@example.com'),
          ctx.limiter.resetClientKey('2001:db8:1:3::1'),
        ]),
      ).toEqual({ taken: true });
    });
  });

  describe('clearAccount', () => {
    it('lifts the untrusted, device and code locks of an account, and says which it lifted', async () => {
      const untrusted = ctx.limiter.passwordKey('owner@example.com', 'user-1');
      const device = ctx.limiter.deviceKey('device-1', 'user-1');
      for (const key of [untrusted, device, pool]) for (let i = 0; i < 10; i++) await ctx.limiter.guard([key], wrong);
      expect(await ctx.limiter.locksOf('user-1', 'owner@example.com')).toEqual({
        password: expect.any(Date),
        code: expect.any(Date),
      });
      expect(await ctx.limiter.clearAccount('user-1', 'owner@example.com')).toEqual({
        password: expect.any(Date),
        code: expect.any(Date),
      });
      expect(await ctx.limiter.locksOf('user-1', 'owner@example.com')).toEqual({ password: null, code: null });
      expect(await ctx.limiter.clearAccount('user-1', 'owner@example.com')).toEqual({ password: null, code: null });
    });
  });

  describe('clearPasswords', () => {
    it('lifts the untrusted and device password locks of an account, keeps its code lock and other accounts', async () => {
      const untrusted = ctx.limiter.passwordKey('owner@example.com', 'user-1');
      const device = ctx.limiter.deviceKey('device-1', 'user-1');
      const otherDevice = ctx.limiter.deviceKey('device-2', 'user-2');
      for (const key of [untrusted, device, pool, otherDevice])
        for (let i = 0; i < 10; i++) await ctx.limiter.guard([key], wrong);
      await ctx.limiter.clearPasswords('user-1', 'owner@example.com');
      expect(await ctx.limiter.locksOf('user-1', 'owner@example.com')).toEqual({
        password: null,
        code: expect.any(Date),
      });
      expect(await ctx.limiter.lockedUntil(otherDevice)).toEqual(expect.any(Date));
    });
  });
});
