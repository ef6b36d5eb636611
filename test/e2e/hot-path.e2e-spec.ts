import { DataSource } from 'typeorm';
import { AuthSessionService } from '../../src/auth/auth-session.service';
import { SessionRecord } from '../../src/auth/session.entity';
import { PreparedSql } from '../../src/database/prepared-sql';
import { Organizer } from '../../src/organizers/organizer.entity';
import { OrganizersService } from '../../src/organizers/organizers.service';
import { User } from '../../src/users/user.entity';
import { UsersService } from '../../src/users/users.service';
import { codeAt, csrfFrom, Person } from '../utils/agent';
import { createTestApp, createUser, DEFAULT_PASSWORD, TestApp } from '../utils/test-app';

/**
 * The statements every request runs are prepared SQL rather than TypeORM calls
 * (database/prepared-sql.ts, bench issue 6): they must read and write exactly what the
 * repositories would, and the shortcuts around express-session must not skip real work.
 */
describe('hot path: prepared statements and session shortcuts', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.close());

  const sessionRows = () => t.get(DataSource).getRepository(SessionRecord).count();

  it('reads a user and an organizer exactly as the repository does (types, nulls, transformers, class)', async () => {
    const created = await createUser(t, { twoFactor: true });
    const users = t.get(DataSource).getRepository(User);
    // Every kind of column filled in: instants (epoch-ms BIGINT), booleans, text.
    await users.update(created.id, {
      secondFactorResetAt: new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 678)),
      twoFactorDeadline: new Date(Date.UTC(2026, 0, 5)),
      lastLoginAt: new Date(Date.UTC(2026, 0, 4)),
      accountLockedAt: new Date(Date.UTC(2026, 0, 3)),
      isActive: false,
      passwordHash: 'a-password-hash',
    });
    for (const id of [created.id]) {
      const viaRepository = await users.findOneBy({ id });
      const viaLookup = await t.get(UsersService).findById(id);
      expect(viaLookup).toBeInstanceOf(User);
      expect(viaLookup).toEqual(viaRepository);
      expect(viaLookup!.secondFactorResetAt).toEqual(new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 678)));
      expect(viaLookup!.twoFactorDeadline).toEqual(new Date(Date.UTC(2026, 0, 5)));
      expect(viaLookup!.isActive).toBe(false);
      expect(viaLookup!.twoFactorRequired).toBe(true);
      expect(await t.get(UsersService).findByEmail(` ${created.email.toUpperCase()} `)).toEqual(viaRepository);
    }
    // Nulls stay null.
    const plain = await createUser(t, { twoFactor: false });
    const plainLookup = await t.get(UsersService).findById(plain.id);
    expect(plainLookup).toEqual(await users.findOneBy({ id: plain.id }));
    expect(plainLookup!.secondFactorResetAt).toBeNull();
    expect(plainLookup!.lastLoginAt).toBeNull();
    expect(await t.get(UsersService).findById('00000000-0000-0000-0000-000000000000')).toBeNull();

    const organizer = await t.get(OrganizersService).getById(created.organizerId);
    expect(organizer).toBeInstanceOf(Organizer);
    expect(organizer).toEqual(await t.get(DataSource).getRepository(Organizer).findOneBy({ id: created.organizerId }));
  });

  it('binds values, never splices them: a quote in a value is data', async () => {
    const prepared = t.get(PreparedSql);
    const tricky = `x' OR '1'='1`;
    expect(await prepared.get('SELECT "id" FROM "users" WHERE "email" = ?', [tricky])).toBeNull();
    expect(await prepared.run('UPDATE "users" SET "name" = ? WHERE "email" = ?', ['never', tricky])).toBe(0);
    const user = await createUser(t);
    expect(await prepared.run('UPDATE "users" SET "name" = ? WHERE "email" = ?', [tricky, user.email])).toBe(1);
    expect((await t.get(UsersService).findById(user.id))!.name).toBe(tricky);
  });

  it('an anonymous page view makes no session: no row, no session cookie', async () => {
    const before = await sessionRows();
    const visitor = new Person(t.server);
    const page = await visitor.get('/login');
    expect(page.status).toBe(200);
    expect(String(page.headers['set-cookie'] ?? '')).not.toContain('tixngo.sid');
    expect(await sessionRows()).toBe(before);
  });

  it('a sign-in step writes its session once, and the stored session is the one the next request reads', async () => {
    const user = await createUser(t, { twoFactor: false });
    const run = jest.spyOn(t.get(PreparedSql), 'run');
    try {
      const person = new Person(t.server);
      const login = await person.login(user.email, DEFAULT_PASSWORD);
      expect(login.headers.location).toBe('/');
      const sessionWrites = run.mock.calls.filter(([sql]) => sql.includes('"sessions"'));
      // One INSERT of the new session; no DELETE of a session the visitor never had, no second identical save.
      expect(sessionWrites.map(([sql]) => sql.split(' ')[0])).toEqual(['INSERT']);
      const dashboard = await person.get('/');
      expect(dashboard.status).toBe(200);
      expect(dashboard.text).toContain(user.name);
    } finally {
      run.mockRestore();
    }
  });

  it('a changed session is still written: the pending session after the code becomes a full one, the old id is gone', async () => {
    const user = await createUser(t, { twoFactor: true });
    const person = new Person(t.server);
    await person.login(user.email, DEFAULT_PASSWORD);
    const { secret } = await person.setUpTwoFactor(t.clock);
    await person.agent
      .post('/logout')
      .type('form')
      .send({ _csrf: csrfFrom((await person.agent.get('/')).text) });

    t.clock.advance(60_000);
    await person.login(user.email, DEFAULT_PASSWORD);
    const pendingCookie = person.sessionCookie();
    const verify = await person.submit('/2fa/verify', '/2fa/verify', { code: codeAt(secret, t.clock) });
    expect(verify.headers.location).toBe('/');
    expect(person.sessionCookie()).not.toBe(pendingCookie);
    expect((await person.get('/')).status).toBe(200);

    // The pending session's row was deleted by the new id: its cookie is worth nothing.
    const replay = new Person(t.server);
    const stale = await replay.agent.get('/2fa/verify').set('Cookie', `tixngo.sid=${pendingCookie}`).redirects(0);
    expect(stale.status).toBe(303);
    expect(stale.headers.location).toMatch(/^\/login/);
  });

  it('a redirect carries no new CSRF cookie; a rendered form does, and its token works', async () => {
    const person = new Person(t.server);
    const page = await person.get('/login');
    expect(String(page.headers['set-cookie'])).toContain('tixngo.csrf');
    const user = await createUser(t, { twoFactor: true });
    const login = await person.agent
      .post('/login')
      .type('form')
      .send({ email: user.email, password: DEFAULT_PASSWORD, next: '', _csrf: csrfFrom(page.text) })
      .redirects(0);
    expect(login.status).toBe(303);
    expect(String(login.headers['set-cookie'])).not.toContain('tixngo.csrf');
  });

  it('the session store keeps its contract: expired rows read as no session, prune removes them', async () => {
    const store = t.get(AuthSessionService).store;
    const get = (sid: string) =>
      new Promise((resolve, reject) => store.get(sid, (error, session) => (error ? reject(error) : resolve(session))));
    const set = (sid: string, data: object) =>
      new Promise<void>((resolve, reject) =>
        store.set(sid, data as never, (error) => (error ? reject(error) : resolve())),
      );
    await set('sid-contract', { cookie: { originalMaxAge: 1000 }, flash: [{ type: 'info', text: 'hello' }] });
    expect(await get('sid-contract')).toMatchObject({ flash: [{ type: 'info', text: 'hello' }] });
    t.clock.advance(31 * 60 * 1000);
    expect(await get('sid-contract')).toBeNull();
    expect(await store.prune()).toBeGreaterThanOrEqual(1);
  });
});
