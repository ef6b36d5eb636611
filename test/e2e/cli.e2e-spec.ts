import passport from 'passport';
import { runCli } from '../../src/cli';
import { LocalStrategy } from '../../src/auth/local.strategy';
import { AuditService } from '../../src/audit/audit.service';
import { OrganizersService } from '../../src/organizers/organizers.service';
import { UsersService } from '../../src/users/users.service';
import { Person } from '../utils/agent';
import { adminOf } from '../utils/admin';
import { lastMailTo, linkIn, secretsIn } from '../utils/mail';
import { createTestApp, createUser, DEFAULT_PASSWORD, TestApp, testEnv } from '../utils/test-app';
import { totpDevices } from '../utils/factors';

describe('command line (npm run cli -- …)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.close());

  /** Runs the CLI in-process on the test app's database and clock; returns the exit code and the lines printed. */
  async function cli(...argv: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    const env = testEnv(t.dataDir);
    const code = await runCli(argv, {
      env,
      clock: t.clock,
      out: (line) => out.push(line),
      err: (line) => err.push(line),
    });
    // @nestjs/passport registers each app's strategy on the one global passport: the CLI's
    // context, made in this same process, replaced the test app's. Put the app's back.
    passport.use(t.get(LocalStrategy));
    return { code, out, err };
  }

  /** A refusal: non-zero, exactly one line on stderr, nothing on stdout. */
  function expectOneLineError(result: { code: number; out: string[]; err: string[] }, pattern: RegExp) {
    expect(result.code).not.toBe(0);
    expect(result.out).toEqual([]);
    expect(result.err).toHaveLength(1);
    expect(result.err[0]).not.toContain('\n');
    expect(result.err[0]).toMatch(pattern);
  }

  describe('create-organizer', () => {
    it('creates an organizer, and refuses a duplicate or a missing name with one line', async () => {
      const created = await cli('create-organizer', '--name', 'Cli Org');
      expect(created).toEqual({ code: 0, out: ['Organizer "Cli Org" created.'], err: [] });
      expect(await t.get(OrganizersService).findByName('Cli Org')).not.toBeNull();

      expectOneLineError(await cli('create-organizer', '--name=Cli Org'), /already exists/);
      expectOneLineError(await cli('create-organizer'), /^Missing --name\. Usage: create-organizer --name NAME$/);
      expectOneLineError(await cli('create-organizer', '--name'), /^Missing value for --name\./);
      expectOneLineError(await cli('create-organizer', '--name', '   '), /^Missing --name/);
    });
  });

  describe('create-admin', () => {
    it('with --password: an admin who signs in with it and sets up 2FA at the first sign-in', async () => {
      await cli('create-organizer', '--name', 'Admin Org');
      const result = await cli(
        'create-admin',
        '--organizer',
        'Admin Org',
        '--email',
        'Boss@Admin.test',
        '--name',
        'Bess Boss',
        '--password',
        'a long enough passphrase',
      );
      expect(result.code).toBe(0);
      expect(result.err).toEqual([]);
      expect(result.out).toEqual([
        'Admin boss@admin.test created in organizer "Admin Org" (2FA on: set up at the first sign-in).',
      ]);

      const user = (await t.get(UsersService).findByEmail('boss@admin.test'))!;
      const organizer = (await t.get(OrganizersService).findByName('Admin Org'))!;
      expect(user).toMatchObject({
        role: 'admin',
        organizerId: organizer.id,
        name: 'Bess Boss',
        twoFactorRequired: true,
      });
      const events = await t.get(AuditService).recentForUser(user.id);
      expect(events.map((event) => [event.type, event.actorId])).toEqual([['account.created', null]]);

      const browser = new Person(t.server);
      expect((await browser.login('boss@admin.test', 'a long enough passphrase')).headers.location).toBe('/2fa/setup');
      await browser.setUpTwoFactor(t.clock);
      expect((await browser.get('/admin/users')).status).toBe(200);
    });

    it('with --no-2fa: an admin without 2FA', async () => {
      await cli('create-organizer', '--name', 'No2fa Org');
      const result = await cli(
        'create-admin',
        '--organizer',
        'No2fa Org',
        '--email',
        'plain@admin.test',
        '--name',
        'Pam Plain',
        '--password',
        'another long passphrase',
        '--no-2fa',
      );
      expect(result.code).toBe(0);
      expect(result.out[0]).toContain('(2FA off)');
      expect((await new Person(t.server).login('plain@admin.test', 'another long passphrase')).headers.location).toBe(
        '/',
      );
    });

    it('without --password: prints the invitation link (72 h), which lets the admin choose a password', async () => {
      await cli('create-organizer', '--name', 'Invite Org');
      const result = await cli(
        'create-admin',
        '--organizer',
        'Invite Org',
        '--email',
        'invited@admin.test',
        '--name',
        'Ivan Invited',
      );
      expect(result.code).toBe(0);
      expect(result.err).toEqual([]);
      expect(result.out).toHaveLength(3);
      // The CLI delivers the outbox before it exits, and says so.
      expect(result.out[2]).toBe('The invitation email to invited@admin.test was sent.');
      const printed = result.out[1].match(
        /^Invitation link \(works once, for 72 hours\): http:\/\/localhost:3000(\/invitations\/[A-Za-z0-9_-]+)$/,
      );
      expect(printed).not.toBeNull();
      const link = printed![1];
      // The same link was emailed.
      expect(linkIn(await lastMailTo(t, 'invited@admin.test'), '/invitations/')).toBe(link);

      const browser = new Person(t.server);
      const set = await browser.submit(link, link, {
        newPassword: 'chosen by the admin',
        confirmPassword: 'chosen by the admin',
      });
      expect(set.headers.location).toBe('/2fa/setup');
    });

    it('refuses bad input with one line and a non-zero code, creating nothing', async () => {
      await cli('create-organizer', '--name', 'Refuse Org');
      await createUser(t, { organizer: 'Refuse Org', email: 'taken@refuse.test' });
      const base = ['create-admin', '--organizer', 'Refuse Org', '--name', 'Rae Refused'];

      expectOneLineError(
        await cli('create-admin', '--organizer', 'No Such Org', '--email', 'x@refuse.test', '--name', 'X'),
        /^Unknown organizer "No Such Org"/,
      );
      expectOneLineError(
        await cli(...base, '--email', 'TAKEN@refuse.test', '--password', 'a long enough passphrase'),
        /^An account with this email already exists\.$/,
      );
      expectOneLineError(
        await cli(...base, '--email', 'weak@refuse.test', '--password', 'short'),
        /^Password refused: Use at least 12 characters\.$/,
      );
      expectOneLineError(
        await cli(...base, '--email', 'common@refuse.test', '--password', 'qwerty123456'),
        /^Password refused: .*too common/,
      );
      expectOneLineError(await cli(...base, '--email', 'not-an-email'), /^Not a valid email address/);
      expectOneLineError(
        await cli('create-admin', '--organizer', 'Refuse Org', '--name', 'No Email'),
        /^Missing --email\. Usage: create-admin/,
      );
      expectOneLineError(
        await cli(...base, '--email', 'extra@refuse.test', '--role', 'superadmin'),
        /^Unknown option '--role'\. Usage: create-admin/,
      );
      for (const email of ['x@refuse.test', 'weak@refuse.test', 'common@refuse.test', 'extra@refuse.test']) {
        expect(await t.get(UsersService).findByEmail(email)).toBeNull();
      }
    });
  });

  describe('reset-2fa', () => {
    it('does what Resend QR does: old authenticator and sessions end, an emailed 24 h link, audited as done from the command line', async () => {
      const org = 'Reset Org';
      const { person: adminBrowser } = await adminOf(t, org, 'Ros Admin');
      const member = await createUser(t, {
        organizer: org,
        email: 'lost.phone@reset.test',
        name: 'Lola Lost',
        twoFactor: true,
      });
      const browser = new Person(t.server);
      await browser.login(member.email, DEFAULT_PASSWORD);
      const { secret } = await browser.setUpTwoFactor(t.clock);

      const result = await cli('reset-2fa', '--email', 'LOST.PHONE@reset.test');
      expect(result.code).toBe(0);
      expect(result.err).toEqual([]);
      expect(result.out.join('\n')).toContain(
        'The email with a setup link (works once, for 24 hours) to lost.phone@reset.test was sent.',
      );
      expect(result.out.join('\n')).not.toContain('/2fa/reset/');

      expect((await browser.get('/')).status).toBe(303);
      const stored = await t.get(UsersService).getById(member.id);
      expect((await totpDevices(t, member.id)).active).toBeNull();
      expect(stored.secondFactorResetAt).not.toBeNull();
      const events = await t.get(AuditService).recentForUser(member.id);
      expect(events[0]).toMatchObject({ type: 'two_factor.reset', actorId: null });
      expect(JSON.parse(events[0].detail!)).toMatchObject({ via: 'command line' });

      const mail = await lastMailTo(t, member.email, /authenticator/i);
      expect(secretsIn(mail, [secret])).toEqual([]);
      const link = linkIn(mail, '/2fa/reset/');
      const phone = new Person(t.server);
      expect((await phone.submit(link, link, { password: DEFAULT_PASSWORD })).headers.location).toBe('/2fa/setup');
      const { secret: fresh } = await phone.setUpTwoFactor(t.clock);
      expect(fresh).not.toBe(secret);

      const page = await adminBrowser.get(`/admin/users/${member.id}`);
      expect(page.text).toMatch(/<dt>By<\/dt><dd>The command line<\/dd>/);
    });

    it('refuses an unknown email, a user without 2FA, and a missing --email with one line', async () => {
      const off = await createUser(t, { organizer: 'Reset Org 2', email: 'no2fa@reset.test', twoFactor: false });
      expectOneLineError(
        await cli('reset-2fa', '--email', 'nobody@reset.test'),
        /^No account with the email "nobody@reset.test"\.$/,
      );
      expectOneLineError(
        await cli('reset-2fa', '--email', off.email),
        /^Two-factor authentication is off for no2fa@reset.test/,
      );
      expectOneLineError(await cli('reset-2fa'), /^Missing --email\./);
      expect((await t.get(UsersService).getById(off.id)).secondFactorResetAt).toBeNull();
    });
  });

  describe('operator input in the lines printed', () => {
    // eslint-disable-next-line no-control-regex -- finding raw control characters is the point
    const RAW_CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

    /** Every line printed is one line: no newline, no ANSI escape, no other raw control character. */
    function expectPlainLines(result: { out: string[]; err: string[] }) {
      for (const line of [...result.out, ...result.err])
        expect({ line, raw: RAW_CONTROL.test(line) }).toEqual({ line, raw: false });
    }

    it('shows a newline in --organizer escaped, so the refusal stays one line and nothing is forged', async () => {
      const result = await cli(
        'create-admin',
        '--organizer',
        'Nope\nError: forged',
        '--email',
        'forger@cli.test',
        '--name',
        'Fay Forger',
      );
      expectOneLineError(result, /^Unknown organizer "Nope\\nError: forged"/);
      expectPlainLines(result);
    });

    it('shows an ANSI escape in --email escaped (it cannot erase or rewrite the line)', async () => {
      await cli('create-organizer', '--name', 'Escape Org');
      const result = await cli(
        'create-admin',
        '--organizer',
        'Escape Org',
        '--email',
        'a@b.c\u001b[2K',
        '--name',
        'Ann Escape',
      );
      expectOneLineError(result, /^Not a valid email address: "a@b\.c\\u001b\[2K"/);
      expectPlainLines(result);
    });

    it('shows a newline in reset-2fa --email escaped', async () => {
      const result = await cli('reset-2fa', '--email', 'x\ny');
      expectOneLineError(result, /^No account with the email "x\\ny"\.$/);
      expectPlainLines(result);
    });

    it('escapes --name in what it prints, on success and on refusal, and in messages it does not write itself', async () => {
      const name = 'Evil\nOrganizer "Real" created.\u001b[1A';
      const created = await cli('create-organizer', '--name', name);
      expect(created.code).toBe(0);
      expect(created.out).toHaveLength(1);
      expectPlainLines(created);
      expectOneLineError(await cli('create-organizer', '--name', name), /already exists/);
      expectPlainLines(await cli('create-organizer', '--name', name));
      const stray = await cli('create-organizer', '--name', 'Stray Org', 'stray\nError: forged');
      expectOneLineError(stray, /^Unexpected argument/);
      expectPlainLines(stray);
      const unknown = await cli('drop\u001b[2Kdatabase');
      expectOneLineError(unknown, /^Unknown command "drop\\u001b\[2Kdatabase"/);
      expectPlainLines(unknown);
    });
  });

  it('refuses an unknown command, no command, a stray argument and a bad configuration with one line', async () => {
    expectOneLineError(
      await cli('drop-database'),
      /^Unknown command "drop-database"\. Commands: create-organizer, create-admin, reset-2fa\.$/,
    );
    expectOneLineError(await cli(), /^Usage: npm run cli -- <command>/);
    expectOneLineError(await cli('create-organizer', '--name', 'X', 'stray'), /^Unexpected argument 'stray'/);

    const err: string[] = [];
    const code = await runCli(['create-organizer', '--name', 'Y'], {
      env: { DATA_DIR: t.dataDir, APP_SECRET: 'too-short' },
      out: () => undefined,
      err: (line) => err.push(line),
    });
    passport.use(t.get(LocalStrategy));
    expect(code).toBe(1);
    expect(err).toEqual([
      'Configuration error: APP_SECRET must be at least 32 characters (e.g. `openssl rand -hex 32`)',
    ]);
  });
});
