import { DataSource } from 'typeorm';
import { MailService } from '../../src/mail/mail.service';
import { MailTransport } from '../../src/mail/mail-transport';
import { OutboxMessage } from '../../src/mail/outbox-message.entity';
import { OutboxWorker } from '../../src/mail/outbox.worker';
import { UsersService } from '../../src/users/users.service';
import { startSmtpServer, TestSmtpServer } from '../utils/mail';
import { Instance, startTwoInstances, TwoInstances } from './two-instances';

/**
 * Issue 15: two instances share one outbox on PostgreSQL. Each email is claimed by exactly one
 * of them (FOR UPDATE SKIP LOCKED and a lease), so each arrives exactly once.
 */
describe('the outbox shared by two instances on one PostgreSQL', () => {
  let smtp: TestSmtpServer;
  let two: TwoInstances;
  let A: Instance;
  let B: Instance;

  beforeAll(async () => {
    smtp = await startSmtpServer();
    two = await startTwoInstances({ SMTP_URL: smtp.url });
    ({ A, B } = two);
  });
  afterAll(async () => {
    await two?.close();
    await smtp?.close();
  });

  /** `count` emails queued in one transaction on A: they become visible to both workers at the commit. */
  async function queueMany(tag: string, count: number): Promise<string[]> {
    return A.t.get(UsersService).transaction(async (manager) => {
      const ids: string[] = [];
      for (let i = 0; i < count; i++) {
        const { id } = await A.t.get(MailService).queue(
          {
            to: `${tag}-${i}@outbox.test`,
            // Subjects are message keys (issue 17): the value in it tells the emails apart.
            subject: 'mail.notMeAlert.subject',
            subjectValues: { email: `${tag} ${i}` },
            template: 'account-unlocked',
            context: {},
          },
          manager,
        );
        ids.push(id);
      }
      return ids;
    });
  }

  async function rowsOf(ids: string[]): Promise<OutboxMessage[]> {
    const all = await A.t.get(DataSource).getRepository(OutboxMessage).find();
    return all.filter((row) => ids.includes(row.id));
  }

  it('50 emails, both workers draining at once: each delivered exactly once (counted at the SMTP server by Message-ID)', async () => {
    const deliveries = { A: 0, B: 0 };
    const spies = (['A', 'B'] as const).map((name) => {
      const transport = (name === 'A' ? A : B).t.get(MailTransport);
      const deliver = transport.deliver.bind(transport);
      return jest.spyOn(transport, 'deliver').mockImplementation(async (mail) => {
        deliveries[name] += 1;
        return deliver(mail);
      });
    });
    const ids = await queueMany('fifty', 50);
    await Promise.all([A.t.get(OutboxWorker).drain(), B.t.get(OutboxWorker).drain()]);
    for (const spy of spies) spy.mockRestore();
    console.log(`50 emails over two instances: A delivered ${deliveries.A}, B delivered ${deliveries.B}`);

    const rows = await rowsOf(ids);
    expect(rows).toHaveLength(50);
    expect(rows.every((row) => row.state === 'sent' && row.bodySealed === null)).toBe(true);
    const received = smtp.received.filter((mail) => mail.subject.startsWith('Security report: fifty '));
    const byId = new Map<string, number>();
    for (const mail of received) byId.set(mail.messageId, (byId.get(mail.messageId) ?? 0) + 1);
    expect(byId.size).toBe(50);
    expect([...byId.values()].every((n) => n === 1)).toBe(true);
    expect(new Set(rows.map((row) => row.messageId))).toEqual(new Set(byId.keys()));
    expect(deliveries.A + deliveries.B).toBe(50);
  });

  it('an instance that crashed holding a claim: the other takes the email once the lease has passed, not before', async () => {
    const id = await A.t.get(UsersService).transaction(async (manager) => {
      const queued = await A.t.get(MailService).queue(
        {
          to: 'leased@outbox.test',
          subject: 'mail.notMeAlert.subject',
          subjectValues: { email: 'Leased' },
          template: 'account-unlocked',
          context: {},
        },
        manager,
      );
      // Claimed, as by an instance that then died: committed with the email, so no worker saw it unclaimed.
      await manager
        .getRepository(OutboxMessage)
        .update(
          { id: queued.id },
          { claimedBy: 'crashed-instance', claimedUntil: new Date(A.t.clock.nowMs() + 120_000) },
        );
      return queued.id;
    });
    await Promise.all([A.t.get(OutboxWorker).drain(), B.t.get(OutboxWorker).drain()]);
    const [row] = await rowsOf([id]);
    expect(row.state).toBe('queued');
    expect(smtp.received.filter((mail) => mail.messageId === row.messageId)).toEqual([]);

    two.advance(120_001);
    await Promise.all([B.t.get(OutboxWorker).drain(), A.t.get(OutboxWorker).drain()]);
    const [after] = await rowsOf([id]);
    expect(after.state).toBe('sent');
    expect(smtp.received.filter((mail) => mail.messageId === after.messageId)).toHaveLength(1);
  });
});
