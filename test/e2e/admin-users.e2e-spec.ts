import { AuditService } from '../../src/audit/audit.service';
import { KeyRing } from '../../src/common/crypto/key-ring';
import { OrganizersService } from '../../src/organizers/organizers.service';
import { OneTimeToken } from '../../src/users/one-time-token.entity';
import { UsersService } from '../../src/users/users.service';
import { DataSource } from 'typeorm';
import { csrfFrom, Person } from '../utils/agent';
import { adminOf, hrefsIn, signedIn, wrongCode } from '../utils/admin';
import { linkIn, mailsTo } from '../utils/mail';
import { createTestApp, createUser, DEFAULT_PASSWORD, TestApp } from '../utils/test-app';
import { stateOf } from '../utils/factors';

/** The rows of the users table: the text of each cell. */
function tableRows(html: string): string[][] {
  const body = html.match(/<tbody>([\s\S]*?)<\/tbody>/)?.[1] ?? '';
  return [...body.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((row) =>
    [...row[1].matchAll(/<t[hd][^>]*>([\s\S]*?)<\/t[hd]>/g)].map((cell) =>
      cell[1]
        .replace(/<[^>]+>/g, '')
        .replace(/\s+/g, ' ')
        .trim(),
    ),
  );
}

// Many argon2id hashes (OWASP parameters) per journey: give a loaded machine room.
jest.setTimeout(60_000);

describe('admin users (journey 1, users list, New user)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.close());

  describe('GET /admin/users', () => {
    it('lists only the users of the admin’s organizer, with role, 2FA state in PRODUCT.md’s words and last sign-in', async () => {
      const org = 'List Org';
      const { admin, person } = await adminOf(t, org, 'Lena Admin');
      await createUser(t, { organizer: org, name: 'Oscar Off', email: 'oscar@list.test', twoFactor: false });
      await createUser(t, { organizer: org, name: 'Paula Pending', email: 'paula@list.test', twoFactor: true });
      await createUser(t, { organizer: org, name: 'Ivy Invited', email: 'ivy@list.test', password: null });
      const active = await createUser(t, {
        organizer: org,
        name: 'Abe Active',
        email: 'abe@list.test',
        twoFactor: true,
      });
      const locked = await createUser(t, {
        organizer: org,
        name: 'Luke Locked',
        email: 'luke@list.test',
        twoFactor: true,
      });
      await createUser(t, { organizer: 'Someone Else', name: 'Zed Stranger', email: 'zed@else.test' });

      const abe = new Person(t.server);
      await abe.login(active.email, DEFAULT_PASSWORD);
      await abe.setUpTwoFactor(t.clock);
      const luke = new Person(t.server);
      await luke.login(locked.email, DEFAULT_PASSWORD);
      const { secret } = await luke.setUpTwoFactor(t.clock);
      const luke2 = new Person(t.server);
      await luke2.login(locked.email, DEFAULT_PASSWORD);
      for (let i = 0; i < 5; i++)
        await luke2.submit('/2fa/verify', '/2fa/verify', { code: wrongCode(secret, t.clock) });

      const page = await person.get('/admin/users');
      expect(page.status).toBe(200);
      const rows = tableRows(page.text);
      expect(rows.map((row) => row[0])).toEqual([
        'Abe Active',
        'Ivy Invited',
        'Lena Admin (you)',
        'Luke Locked',
        'Oscar Off',
        'Paula Pending',
      ]);
      const byName = Object.fromEntries(rows.map((row) => [row[0], row]));
      expect(byName['Abe Active']).toEqual([
        'Abe Active',
        'abe@list.test',
        'Member',
        'Active',
        'Jan 15, 2026, 09:00 AM UTC',
        'Authenticator app',
      ]);
      expect(byName['Luke Locked'][3]).toBe('Locked');
      expect(byName['Oscar Off'].slice(1)).toEqual(['oscar@list.test', 'Member', 'Off', 'Never', 'None']);
      expect(byName['Paula Pending'][3]).toBe('Pending setup');
      expect(byName['Ivy Invited'][4]).toBe('Invited, not signed in yet');
      expect(byName['Lena Admin (you)'].slice(1, 4)).toEqual([admin.email, 'Admin', 'Off']);
      expect(page.text).not.toContain('Zed Stranger');
      expect(page.text).not.toContain('zed@else.test');
      expect(page.text).toContain(`href="/admin/users/${active.id}"`);
    });

    it('searches by name or email, case-insensitively, and typed % and _ match only themselves', async () => {
      // 3 characters or more: a substring of the name or the email; 1 or 2: the start of either (users-list-paging.e2e-spec.ts).
      const org = 'Search Org';
      const { person } = await adminOf(t, org, 'Sam Admin');
      await createUser(t, { organizer: org, name: 'Anna 100% Sure', email: 'anna@search.test', password: null });
      await createUser(t, { organizer: org, name: 'Bob_Smith', email: 'bob.smith@search.test', password: null });
      await createUser(t, { organizer: org, name: 'Bobby Tables', email: 'bobby@search.test', password: null });
      await createUser(t, { organizer: org, name: 'Carla', email: 'carla@elsewhere.test', password: null });
      await createUser(t, {
        organizer: 'Search Other Org',
        name: 'Bob Outsider',
        email: 'bob@outsider.test',
        password: null,
      });

      const names = async (q: string) =>
        tableRows((await person.get(`/admin/users?q=${encodeURIComponent(q)}`)).text).map((row) => row[0]);
      expect(await names('BOB')).toEqual(['Bob_Smith', 'Bobby Tables']);
      expect(await names('elsewhere')).toEqual(['Carla']);
      expect(await names('00%')).toEqual(['Anna 100% Sure']);
      expect(await names('b_s')).toEqual(['Bob_Smith']);
      expect(await names('%')).toEqual([]);
      expect(await names('b_b')).toEqual([]);
      expect(await names('outsider')).toEqual([]);
      const none = await person.get('/admin/users?q=nobody-like-this');
      expect(none.status).toBe(200);
      expect(none.text).toContain('No user matches “nobody-like-this”');
      const shown = await person.get('/admin/users?q=%3Cscript%3E');
      expect(shown.text).toContain('value="&lt;script&gt;"');
      expect(shown.text).not.toContain('<script>');
    });

    it('pages the list 20 users at a time, keeping the search in the links', async () => {
      const org = 'Paging Org';
      const { person } = await adminOf(t, org, 'Zoe Admin');
      for (let i = 1; i <= 44; i++) {
        await createUser(t, {
          organizer: org,
          name: `Member ${String(i).padStart(2, '0')}`,
          email: `member${i}@paging.test`,
          password: null,
        });
      }
      const first = await person.get('/admin/users');
      expect(tableRows(first.text)).toHaveLength(20);
      expect(first.text).toContain('Page 1 of 3');
      const next = hrefsIn(first.text).find((href) => href.startsWith('/admin/users?after='));
      expect(next).toBeDefined();
      expect(hrefsIn(first.text)).toContain('/admin/users?page=3');
      expect(tableRows((await person.get(next!)).text)[0][0]).toBe('Member 21');

      const last = await person.get('/admin/users?page=3');
      expect(tableRows(last.text).map((row) => row[0])).toEqual([
        'Member 41',
        'Member 42',
        'Member 43',
        'Member 44',
        'Zoe Admin (you)',
      ]);
      const previous = hrefsIn(last.text).find((href) => href.startsWith('/admin/users?before='));
      expect(tableRows((await person.get(previous!)).text)[0][0]).toBe('Member 21');
      expect(last.text).toContain('Page 3 of 3');
      expect(last.text).not.toContain('rel="next"');

      expect(tableRows((await person.get('/admin/users?page=99')).text)).toHaveLength(5);
      const bad = await person.get('/admin/users?page=abc');
      expect(bad.status).toBe(200);
      expect(bad.text).toContain('Page 1 of 3');

      const searched = await person.get('/admin/users?q=member');
      expect(hrefsIn(searched.text).some((href) => href.startsWith('/admin/users?q=member&after='))).toBe(true);
    });
  });

  describe('who may use the admin pages', () => {
    it('gives a member 403 on every /admin page and POST, and changes nothing', async () => {
      const org = 'Members Org';
      const member = await createUser(t, { organizer: org, role: 'member', twoFactor: false, name: 'Mo Member' });
      const colleague = await createUser(t, { organizer: org, role: 'member', twoFactor: true, name: 'Col League' });
      const person = await signedIn(t, member);
      const token = csrfFrom((await person.get('/')).text);
      for (const path of [
        '/admin/users',
        '/admin/users/new',
        `/admin/users/${member.id}`,
        `/admin/users/${colleague.id}`,
        '/admin/users?q=a',
      ]) {
        const page = await person.get(path);
        expect([path, page.status]).toEqual([path, 403]);
      }
      const posts: [string, Record<string, string>][] = [
        ['/admin/users', { email: 'sneaky@members.test', name: 'Sneaky', role: 'admin', twoFactor: 'on' }],
        [`/admin/users/${colleague.id}/resend-qr`, { confirm: 'yes' }],
        [`/admin/users/${colleague.id}/two-factor`, { twoFactor: 'disable', confirm: 'yes' }],
        [`/admin/users/${member.id}/two-factor`, { twoFactor: 'enable', confirm: 'yes' }],
        [`/admin/users/${colleague.id}/invitation`, {}],
      ];
      for (const [path, fields] of posts) {
        const answer = await person.agent
          .post(path)
          .type('form')
          .send({ ...fields, _csrf: token })
          .redirects(0);
        expect([path, answer.status]).toEqual([path, 403]);
      }
      expect(await t.get(UsersService).findByEmail('sneaky@members.test')).toBeNull();
      const after = await t.get(UsersService).getById(colleague.id);
      expect(after.twoFactorRequired).toBe(true);
      expect(after.secondFactorResetAt).toBeNull();
      expect((await t.get(UsersService).getById(member.id)).twoFactorRequired).toBe(false);
    });

    it('sends a visitor who is not signed in to the login page', async () => {
      const anonymous = new Person(t.server);
      const page = await anonymous.get('/admin/users');
      expect(page.status).toBe(303);
      expect(page.headers.location).toBe('/login?next=%2Fadmin%2Fusers');
    });
  });

  describe('New user (GET /admin/users/new, POST /admin/users)', () => {
    it('shows Email, Name, Role (Admin / Member) and the 2FA checkbox, checked by default, and the Create account button', async () => {
      const { person } = await adminOf(t, 'Form Org', 'Fay Admin');
      const form = await person.get('/admin/users/new');
      expect(form.status).toBe(200);
      expect(form.text).toMatch(/<label for="email">Email<\/label>/);
      expect(form.text).toMatch(/<label for="name">Name<\/label>/);
      expect(form.text).toMatch(/<label for="role">Role<\/label>/);
      expect(form.text).toMatch(
        /<select id="role" name="role"[^>]*>\s*<option value="admin">Admin<\/option>\s*<option value="member" selected>Member<\/option>/,
      );
      expect(form.text).toMatch(/<input id="twoFactor" name="twoFactor" type="checkbox" value="on"[^>]* checked>/);
      expect(form.text).toMatch(/<label for="twoFactor">Enable 2-Factor Authentication for this user<\/label>/);
      expect(form.text).toMatch(/<button type="submit">Create account<\/button>/);
      expect(form.text).toContain('action="/admin/users"');
      expect(form.text).toContain('name="_csrf"');
      const list = await person.get('/admin/users');
      expect(list.text).toContain('href="/admin/users/new"');
    });

    it('creates the account in the admin’s own organizer, ignoring an organizerId in the form, and emails a 72 h invitation whose token is stored only hashed', async () => {
      const { admin, person } = await adminOf(t, 'Create Org', 'Cora Admin');
      const other = await t.get(OrganizersService).create('Create Victim Org');
      const created = await person.submit('/admin/users/new', '/admin/users', {
        email: '  New.Person@Create.test ',
        name: ' Nina New ',
        role: 'member',
        twoFactor: 'on',
        organizerId: other.id,
        id: '00000000-0000-0000-0000-000000000000',
      });
      expect(created.status).toBe(303);
      const user = (await t.get(UsersService).findByEmail('new.person@create.test'))!;
      expect(created.headers.location).toBe(`/admin/users/${user.id}`);
      expect(user).toMatchObject({
        organizerId: admin.organizerId,
        name: 'Nina New',
        role: 'member',
        twoFactorRequired: true,
        passwordHash: null,
      });
      expect(user.id).not.toBe('00000000-0000-0000-0000-000000000000');

      const page = await person.get(created.headers.location);
      expect(page.text).toContain('Account created for Nina New');
      expect(page.text).toMatch(/id="two-factor-state">Pending setup</);

      const [mail] = await mailsTo(t, 'new.person@create.test');
      expect(mail.subject).toMatch(/invited/i);
      expect(mail.text).toContain('72 hours');
      expect(mail.text).toContain('Cora Admin');
      const link = linkIn(mail, '/invitations/');
      const token = link.split('/').pop()!;

      const tokens = await t.get(DataSource).getRepository(OneTimeToken).findBy({ userId: user.id });
      expect(tokens).toHaveLength(1);
      expect(tokens[0].purpose).toBe('invitation');
      expect(tokens[0].tokenHash).toBe(t.get(KeyRing).hash('token-hash', token));
      expect(tokens[0].tokenHash).not.toContain(token);
      expect(tokens[0].expiresAt.getTime() - t.clock.nowMs()).toBe(72 * 60 * 60 * 1000);
      expect(tokens[0].createdById).toBe(admin.id);

      const events = await t.get(AuditService).recentForUser(user.id);
      expect(events.map((event) => [event.type, event.actorId])).toEqual([['account.created', admin.id]]);
    });

    it('creates an account without 2FA when the checkbox is not checked, and an admin when asked', async () => {
      const { person } = await adminOf(t, 'Create Org 2', 'Cid Admin');
      const created = await person.submit('/admin/users/new', '/admin/users', {
        email: 'no2fa@create.test',
        name: 'Ned No2fa',
        role: 'admin',
      });
      expect(created.status).toBe(303);
      const user = (await t.get(UsersService).findByEmail('no2fa@create.test'))!;
      expect(user.twoFactorRequired).toBe(false);
      expect(user.role).toBe('admin');
      expect(await stateOf(t, user.id)).toBe('off');
      const mail = (await mailsTo(t, 'no2fa@create.test'))[0];
      expect(mail.text).not.toContain('authenticator');
    });

    it('shows the form again with 409 for a duplicate email (any case), keeping the other input, and sends nothing', async () => {
      const { person } = await adminOf(t, 'Dup Org', 'Dan Admin');
      await createUser(t, { organizer: 'Dup Elsewhere Org', email: 'taken@dup.test' });
      const answer = await person.submit('/admin/users/new', '/admin/users', {
        email: 'Taken@Dup.test',
        name: 'Tina Taken',
        role: 'admin',
      });
      expect(answer.status).toBe(409);
      expect(answer.text).toContain('An account with this email already exists.');
      expect(answer.text).toContain('value="Taken@Dup.test"');
      expect(answer.text).toContain('value="Tina Taken"');
      expect(answer.text).toMatch(/<option value="admin" selected>Admin<\/option>/);
      expect(answer.text).not.toMatch(/name="twoFactor"[^>]* checked/);
      expect(answer.text).toContain('<title>New user');
      expect(await mailsTo(t, 'taken@dup.test')).toHaveLength(0);
    });

    it('shows the form again with 400 and a message by the field for a bad email, an empty name or an unknown role', async () => {
      const { person } = await adminOf(t, 'Bad Input Org', 'Bea Admin');
      const badEmail = await person.submit('/admin/users/new', '/admin/users', {
        email: 'not-an-email',
        name: 'Nora',
        role: 'member',
        twoFactor: 'on',
      });
      expect(badEmail.status).toBe(400);
      expect(badEmail.text).toContain('Enter a valid email address');
      expect(badEmail.text).toContain('value="Nora"');
      expect(badEmail.text).toContain('value="not-an-email"');
      expect(badEmail.text).toMatch(/name="twoFactor"[^>]* checked/);
      expect(badEmail.text).toContain('<title>New user');

      const emptyName = await person.submit('/admin/users/new', '/admin/users', {
        email: 'empty.name@bad.test',
        name: '   ',
        role: 'member',
      });
      expect(emptyName.status).toBe(400);
      expect(emptyName.text).toContain('Enter the name.');
      expect(emptyName.text).toContain('value="empty.name@bad.test"');

      const superadmin = await person.submit('/admin/users/new', '/admin/users', {
        email: 'super@bad.test',
        name: 'Sue',
        role: 'superadmin',
      });
      expect(superadmin.status).toBe(400);
      expect(superadmin.text).toContain('Choose a role: Admin or Member.');

      const missing = await person.submit('/admin/users/new', '/admin/users', {});
      expect(missing.status).toBe(400);
      expect(missing.text).toContain('Enter the email address.');

      for (const email of ['empty.name@bad.test', 'super@bad.test', 'not-an-email']) {
        expect(await t.get(UsersService).findByEmail(email)).toBeNull();
      }
    });

    it('refuses a POST without a valid CSRF token with 403 and creates nothing', async () => {
      const { person } = await adminOf(t, 'Csrf Org', 'Cy Admin');
      const answer = await person.agent
        .post('/admin/users')
        .type('form')
        .send({ email: 'csrf@create.test', name: 'Csrf', role: 'member' })
        .redirects(0);
      expect(answer.status).toBe(403);
      expect(await t.get(UsersService).findByEmail('csrf@create.test')).toBeNull();
    });
  });
});
