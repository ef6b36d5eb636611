import { DataSource } from 'typeorm';
import { AuditDayCount } from '../../src/audit/audit-day-count.entity';
import { AuditType } from '../../src/audit/audit-event.entity';
import { DAY_CLOSED_AFTER_MS } from '../../src/audit/audit.service';
import { timeOrderedId } from '../../src/database/columns';
import { User } from '../../src/users/user.entity';
import { Person } from '../utils/agent';
import { chartNumbers } from '../utils/security-log';
import { adminOf } from '../utils/admin';
import { planProblems, plansOf } from '../utils/query-plan';
import { createTestApp, createUser, TestApp } from '../utils/test-app';

const DAY = 86_400_000;
const AUDIT_TABLES = ['audit_events', 'audit_day_counts'];

/** The security log, its chart and the other audit reads as an organizer grows (issue 16). */
describe('the security log at scale', () => {
  let t: TestApp;
  let admin: User;
  let person: Person;
  let member: User;

  /** Events written straight into the table, many at once, at exact instants. */
  async function seed(events: { type: AuditType; at: number; userId?: string }[]): Promise<void> {
    const dataSource = t.get(DataSource);
    for (let i = 0; i < events.length; i += 500) {
      const rows = events.slice(i, i + 500).map((event) => ({
        id: timeOrderedId(event.at),
        organizerId: admin.organizerId,
        userId: event.userId ?? member.id,
        actorId: null,
        ip: null,
        detail: null,
        type: event.type,
        createdAt: new Date(event.at),
      }));
      await dataSource.createQueryBuilder().insert().into('audit_events').values(rows).execute();
    }
  }

  const isoDay = (at: number) => new Date(at).toISOString().slice(0, 10);

  beforeAll(async () => {
    t = await createTestApp();
    ({ admin, person } = await adminOf(t, 'Scale Org', 'Sam Admin'));
    member = await createUser(t, { organizer: 'Scale Org', name: 'Max Member', email: 'max@scale.test' });
  });
  afterAll(async () => t.close());

  describe('the chart keeps the counts of closed days', () => {
    it('counts a closed day once and keeps it; today is counted on every view', async () => {
      const today = Math.floor(t.clock.nowMs() / DAY) * DAY;
      await seed([
        { type: 'login.succeeded', at: today - 3 * DAY + 1000 },
        { type: 'login.succeeded', at: today - 3 * DAY + 2000 },
        { type: 'code.failed', at: today - 2 * DAY + 1000 },
        { type: 'login.succeeded', at: today + 1000 },
      ]);
      const first = chartNumbers((await person.get('/admin/security-log')).text);
      expect(first.get(isoDay(today - 3 * DAY))).toEqual([2, 0, 0]);
      expect(first.get(isoDay(today - 2 * DAY))).toEqual([0, 1, 0]);
      const todayCount = first.get(isoDay(today))![0];
      const kept = await t.get(DataSource).getRepository(AuditDayCount).findBy({ organizerId: admin.organizerId });
      // Every closed day of the chart is kept, a row per charted type; today is not.
      expect(new Set(kept.map((row) => row.day)).size).toBe(29);
      expect(kept.some((row) => row.day === today / DAY)).toBe(false);

      // A row that appears in a closed day (which the app never writes) is not counted again: the day was kept.
      // Today's new event is.
      await seed([
        { type: 'login.succeeded', at: today - 3 * DAY + 3000 },
        { type: 'login.succeeded', at: t.clock.nowMs() },
      ]);
      const second = chartNumbers((await person.get('/admin/security-log')).text);
      expect(second.get(isoDay(today - 3 * DAY))).toEqual([2, 0, 0]);
      expect(second.get(isoDay(today))![0]).toBe(todayCount + 1);
    });
  });

  describe('every audit read uses an index in its order (EXPLAIN)', () => {
    beforeAll(async () => {
      // Enough events that a planner with statistics would rather not scan: 60 days of a busy organizer.
      const now = t.clock.nowMs();
      const types: AuditType[] = ['login.succeeded', 'login.failed', 'code.failed', 'password.changed', 'code.locked'];
      const others = await Promise.all(
        [1, 2, 3].map((n) =>
          createUser(t, {
            organizer: 'Scale Org',
            name: `Other ${n}`,
            email: `other${n}@scale.test`,
            twoFactor: false,
          }),
        ),
      );
      await seed(
        Array.from({ length: 6000 }, (_, i) => ({
          type: types[i % types.length],
          at: now - 60 * DAY + i * 860_000,
          userId: [member, ...others][i % 4].id,
        })),
      );
      await t.get(DataSource).query('ANALYZE');
    });

    async function expectIndexed(work: () => Promise<unknown>) {
      const plans = await plansOf(t, AUDIT_TABLES, work);
      if (process.env.SHOW_PLANS) console.log(plans.map((q) => `${q.sql}\n  ${q.plan.join('\n  ')}`).join('\n'));
      expect(plans.length).toBeGreaterThan(0);
      for (const query of plans)
        expect({ sql: query.sql, problems: planProblems(query, AUDIT_TABLES) }).toEqual({
          sql: query.sql,
          problems: [],
        });
    }

    it('the log: first page, an older page, a kind, a group of kinds, a person, days, the chart', async () => {
      await expectIndexed(async () => {
        const first = await person.get('/admin/security-log');
        expect(first.status).toBe(200);
        const older = /<a href="([^"]*)" rel="next">/.exec(first.text)![1].replace(/&amp;/g, '&');
        expect((await person.get(older)).status).toBe(200);
      });
      await expectIndexed(() => person.get('/admin/security-log?kind=password.changed'));
      await expectIndexed(() => person.get('/admin/security-log?kind=failed-sign-ins'));
      await expectIndexed(() => person.get(`/admin/security-log?person=${encodeURIComponent(member.email)}`));
      const from = isoDay(t.clock.nowMs() - 20 * DAY);
      const to = isoDay(t.clock.nowMs() - 10 * DAY);
      await expectIndexed(() => person.get(`/admin/security-log?from=${from}&to=${to}`));
    });

    it('the CSV export, the organizer page’s last policy change, a user’s page', async () => {
      await expectIndexed(() => person.get('/admin/security-log/export.csv?kind=locks'));
      await expectIndexed(() => person.get('/admin/organizer'));
      await expectIndexed(() => person.get(`/admin/users/${member.id}`));
    });
  });

  describe('the chart at midnight', () => {
    it('takes a day as closed only a few minutes after midnight: an event committed just after it still counts', async () => {
      // Last in this file: the clock jumps to the next midnight, past the other tests' sessions.
      const midnight = Math.ceil(t.clock.nowMs() / DAY) * DAY;
      t.clock.set(midnight - 10 * 60_000);
      const { person: viewer, admin: owner } = await adminOf(t, 'Midnight Org', 'Mo Admin');
      const signInsOfYesterday = async () =>
        chartNumbers((await viewer.get('/admin/security-log')).text).get(isoDay(midnight - DAY))![0];
      t.clock.set(midnight + DAY_CLOSED_AFTER_MS - 60_000);
      const before = await signInsOfYesterday();
      // A sign-in that read the clock at 23:59:59.9 and committed after the view above.
      await t
        .get(DataSource)
        .createQueryBuilder()
        .insert()
        .into('audit_events')
        .values({
          id: timeOrderedId(midnight - 100),
          organizerId: owner.organizerId,
          userId: owner.id,
          type: 'login.succeeded',
          createdAt: new Date(midnight - 100),
        })
        .execute();
      t.clock.set(midnight + DAY_CLOSED_AFTER_MS + 60_000);
      expect(await signInsOfYesterday()).toBe(before + 1);
    });
  });
});
