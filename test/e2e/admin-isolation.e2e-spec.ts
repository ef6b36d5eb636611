import { DataSource } from 'typeorm';
import { AuditService } from '../../src/audit/audit.service';
import { SessionRecord } from '../../src/auth/session.entity';
import { RecoveryCode } from '../../src/two-factor/recovery-code.entity';
import { OneTimeToken } from '../../src/users/one-time-token.entity';
import { UsersService } from '../../src/users/users.service';
import { csrfFrom, Person } from '../utils/agent';
import { adminOf } from '../utils/admin';
import { outbox } from '../utils/mail';
import { createTestApp, createUser, DEFAULT_PASSWORD, TestApp } from '../utils/test-app';

// Many argon2id hashes (OWASP parameters) per journey: give a loaded machine room.
jest.setTimeout(60_000);

describe('isolation between organizers (SECURITY.md 20)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.close());

  it('gives an admin of organizer B a 404 for every page and POST about a user of organizer A, and nothing changes or is sent', async () => {
    // Organizer A: an active member with a session open, and an invited one.
    const active = await createUser(t, {
      organizer: 'Organizer A',
      email: 'active@a.test',
      name: 'Alma A',
      twoFactor: true,
    });
    const browserA = new Person(t.server);
    await browserA.login(active.email, DEFAULT_PASSWORD);
    await browserA.setUpTwoFactor(t.clock);
    const invited = await createUser(t, {
      organizer: 'Organizer A',
      email: 'invited@a.test',
      name: 'Ian A',
      twoFactor: false,
      password: null,
    });
    const adminA = await createUser(t, {
      organizer: 'Organizer A',
      email: 'admin@a.test',
      role: 'admin',
      twoFactor: false,
    });

    const { person: adminB } = await adminOf(t, 'Organizer B', 'Bert B');
    const data = t.get(DataSource);
    const snapshot = async () => ({
      users: await Promise.all([active, invited, adminA].map((user) => t.get(UsersService).getById(user.id))),
      tokens: await data.getRepository(OneTimeToken).find({ order: { id: 'ASC' } }),
      codes: await data.getRepository(RecoveryCode).countBy({ userId: active.id }),
      sessions: await data.getRepository(SessionRecord).countBy({ userId: active.id }),
      events: (
        await Promise.all([active, invited, adminA].map((user) => t.get(AuditService).recentForUser(user.id, 100)))
      ).map((list) => list.length),
      mails: (await outbox(t)).length,
    });
    const before = await snapshot();

    const token = csrfFrom((await adminB.get('/admin/users')).text);
    for (const user of [active, invited, adminA]) {
      const page = await adminB.get(`/admin/users/${user.id}`);
      expect([user.email, page.status]).toEqual([user.email, 404]);
      expect(page.text).not.toContain(user.email);
      const posts: [string, Record<string, string>][] = [
        [`/admin/users/${user.id}/resend-qr`, {}],
        [`/admin/users/${user.id}/resend-qr`, { confirm: 'yes' }],
        [`/admin/users/${user.id}/two-factor`, { twoFactor: 'disable' }],
        [`/admin/users/${user.id}/two-factor`, { twoFactor: 'disable', confirm: 'yes' }],
        [`/admin/users/${user.id}/two-factor`, { twoFactor: 'enable', confirm: 'yes' }],
        [`/admin/users/${user.id}/invitation`, {}],
      ];
      for (const [path, fields] of posts) {
        const answer = await adminB.agent
          .post(path)
          .type('form')
          .send({ ...fields, _csrf: token })
          .redirects(0);
        expect([path, fields, answer.status]).toEqual([path, fields, 404]);
      }
    }

    // Not in B's list or search either.
    const list = await adminB.get('/admin/users?q=a.test');
    expect(list.text).not.toContain('active@a.test');
    expect(list.text).not.toContain('invited@a.test');

    const after = await snapshot();
    expect(after).toEqual(before);
    // A's member is still signed in.
    expect((await browserA.get('/')).status).toBe(200);
  });

  it('shows the same 404 for another organizer’s user as for a user that does not exist', async () => {
    const stranger = await createUser(t, { organizer: 'Organizer C', email: 'stranger@c.test' });
    const { person } = await adminOf(t, 'Organizer D', 'Dora D');
    const theirs = await person.get(`/admin/users/${stranger.id}`);
    const nobody = await person.get('/admin/users/00000000-0000-4000-8000-000000000000');
    expect(theirs.status).toBe(404);
    expect(nobody.status).toBe(404);
    const strip = (html: string) => html.replace(/value="[^"]+"/g, '');
    expect(strip(theirs.text)).toBe(strip(nobody.text));
  });
});
