import { BadRequestException } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { User } from '../../src/users/user.entity';
import { OrganizersService } from '../../src/organizers/organizers.service';
import { UsersService } from '../../src/users/users.service';
import { Person } from '../utils/agent';
import { adminOf } from '../utils/admin';
import { mailsTo } from '../utils/mail';
import { createTestApp, createUser, DEFAULT_PASSWORD, TestApp } from '../utils/test-app';

/** The field message for a local part outside plain ASCII (src/users/email-address.ts). */
const LOCAL_PART_MESSAGE = 'Enter an email address with only plain letters, digits and . _ % + - before the @.';

// Argon2id (OWASP parameters) at each sign-in: room for a loaded machine.
jest.setTimeout(60_000);

/** Email addresses are compared and stored NFKC-normalised with an ASCII domain; odd local parts are refused (SECURITY.md 27). */
describe('email addresses (one definition for the whole app)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.close());

  it('New user: a full-width twin of an existing address is the same address, "already exists"', async () => {
    const { person } = await adminOf(t, 'Twin Org', 'Tom Admin');
    await createUser(t, { organizer: 'Twin Org', email: 'admin@twin.test', name: 'The Real Admin' });
    for (const twin of ['ａdmin@twin.test', 'ＡＤＭＩＮ@ＴＷＩＮ.ＴＥＳＴ', 'admin＠twin.test']) {
      const answer = await person.submit('/admin/users/new', '/admin/users', {
        email: twin,
        name: 'Fake Admin',
        role: 'admin',
        twoFactor: 'on',
      });
      expect({ twin, status: answer.status }).toEqual({ twin, status: 409 });
      expect(answer.text).toContain('An account with this email already exists.');
      expect(answer.text).toContain('value="Fake Admin"');
    }
    const org = (await t.get(OrganizersService).findByName('Twin Org'))!;
    const inOrg = await t.get(DataSource).getRepository(User).findBy({ organizerId: org.id });
    expect(inOrg.map((user) => user.email).sort()).toEqual([
      'admin@twin.test',
      expect.stringMatching(/@example\.com$/),
    ]);
  });

  it('New user: a Cyrillic letter in the local part is refused by the field, on the same form, with the other input kept', async () => {
    const { person } = await adminOf(t, 'Cyrillic Org', 'Cyd Admin');
    const lookalike = '\u0430dmin@cyrillic.test';
    const answer = await person.submit('/admin/users/new', '/admin/users', {
      email: lookalike,
      name: 'Ivan Lookalike',
      role: 'admin',
      twoFactor: 'on',
    });
    expect(answer.status).toBe(400);
    expect(answer.text).toContain('<title>New user');
    expect(answer.text).toContain(LOCAL_PART_MESSAGE);
    expect(answer.text).toContain(`value="${lookalike}"`);
    expect(answer.text).toContain('value="Ivan Lookalike"');
    expect(answer.text).toMatch(/<option value="admin" selected>Admin<\/option>/);
    expect(answer.text).toMatch(/name="twoFactor"[^>]* checked/);
    expect(await t.get(UsersService).findByEmail(lookalike)).toBeNull();
    expect(await mailsTo(t, lookalike)).toHaveLength(0);
  });

  it('New user: a quoted local part is refused; an IDN domain is stored in its ASCII form', async () => {
    const { person } = await adminOf(t, 'Idn Org', 'Ida Admin');
    const quoted = await person.submit('/admin/users/new', '/admin/users', {
      email: '"ann smith"@idn.test',
      name: 'Ann Quoted',
      role: 'member',
    });
    expect(quoted.status).toBe(400);
    expect(quoted.text).toContain(LOCAL_PART_MESSAGE);

    const created = await person.submit('/admin/users/new', '/admin/users', {
      email: 'Ulla@Bücher.test',
      name: 'Ulla Umlaut',
      role: 'member',
    });
    expect(created.status).toBe(303);
    const user = await t.get(UsersService).findByEmail('ulla@xn--bcher-kva.test');
    expect(user?.email).toBe('ulla@xn--bcher-kva.test');
    expect((await t.get(UsersService).findByEmail('ULLA@BÜCHER.test'))?.id).toBe(user!.id);
  });

  it('sign-in compares the normalised form: the full-width spelling of an address is that account', async () => {
    const user = await createUser(t, { email: 'wide@signin.test', twoFactor: false });
    const login = await new Person(t.server).login('ｗｉｄｅ@ｓｉｇｎｉｎ.test', DEFAULT_PASSWORD);
    expect(login.status).toBe(303);
    expect(login.headers.location).toBe('/');
    expect(user.email).toBe('wide@signin.test');
  });

  it('UsersService.create refuses a bad address itself (the last line of defence, whoever calls it)', async () => {
    for (const email of ['\u0430dmin@service.test', '"a b"@service.test', 'a@b@service.test']) {
      await expect(createUser(t, { email })).rejects.toBeInstanceOf(BadRequestException);
    }
    expect(await t.get(UsersService).findByEmail('\u0430dmin@service.test')).toBeNull();
  });

  it('a migration brings addresses stored before this rule to the normal form, so their owners still sign in', async () => {
    const dataSource = t.get(DataSource);
    const old = await createUser(t, { email: 'old-style@legacy.test', twoFactor: false });
    const twin = await createUser(t, { email: 'twin@legacy.test', twoFactor: false });
    // As an older version stored them: full-width letters, a Unicode domain, a full-width twin of another account.
    await dataSource.getRepository(User).update(old.id, { email: 'ｏｌｄ-style@bücher.test' });
    const twinRow = await createUser(t, { email: 'spare@legacy.test', twoFactor: false });
    await dataSource.getRepository(User).update(twinRow.id, { email: 'ｔwin@legacy.test' });
    const migration = dataSource.migrations.find((m) => m.name === 'NormaliseEmails1764500000000')!;
    const runner = dataSource.createQueryRunner();
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      await migration.up(runner);
    } finally {
      await runner.release();
    }
    const warnings = warn.mock.calls.map((call) => String(call[0]));
    warn.mockRestore();
    expect((await t.get(UsersService).getById(old.id)).email).toBe('old-style@xn--bcher-kva.test');
    expect((await t.get(UsersService).getById(twinRow.id)).email).toBe('ｔwin@legacy.test');
    expect(warnings).toEqual([expect.stringContaining(twinRow.id)]);
    expect((await t.get(UsersService).getById(twin.id)).email).toBe('twin@legacy.test');
    expect((await new Person(t.server).login('ｏｌｄ-style@bücher.test', DEFAULT_PASSWORD)).headers.location).toBe('/');
  });
});
