import { DataSource } from 'typeorm';
import { TokenPurpose } from '../../src/users/one-time-token.entity';
import { OneTimeTokensService } from '../../src/users/one-time-tokens.service';
import { User } from '../../src/users/user.entity';
import { codeAt, csrfFrom, manualKeyFrom, Person } from '../utils/agent';
import { adminOf, signedIn } from '../utils/admin';
import { createTestApp, createUser, DEFAULT_PASSWORD, TestApp } from '../utils/test-app';

/**
 * SECURITY.md 23: a field named like an option of Express or hbs (`layout`, `settings`,
 * `cache`, `partials`, `helpers`, `_locals`), in a form or a query string, changes nothing
 * and reads nothing. Every form of the app is sent invalid (so it is shown again with the
 * input kept) or as it is used, every page and error page is opened, each with those names
 * added: never a 500, never a file of the server, always the normal layout, and a refused
 * form leaves the database as it was.
 */

// Many argon2id hashes (OWASP parameters) and sign-ins: give a loaded machine room.
jest.setTimeout(60_000);

/** The names the view engine or Express give meaning to, one per request. */
const RENDER_OPTIONS: Record<string, string>[] = [
  { layout: '../package.json' },
  { layout: '' },
  { 'settings[x]': '1' },
  { settings: '1' },
  { cache: '1' },
  { partials: 'x' },
  { helpers: 'x' },
  { _locals: 'x' },
];

const HOUR = 60 * 60 * 1000;
const UNKNOWN_TOKEN = 'not-a-real-token-0000000000000000';

/** Someone with a browser in the state a form needs; `params` fill `:name` in paths and field values. */
interface Visit {
  person: Person;
  params: Record<string, string>;
}

let organizers = 0;
const organizer = () => `View Options Org ${++organizers}`;

async function linkFor(t: TestApp, user: User, purpose: TokenPurpose): Promise<string> {
  return (await t.get(OneTimeTokensService).issue(user.id, purpose, 24 * HOUR, null, undefined, { keepEarlier: true }))
    .token;
}

/** The people the forms are for. */
const AS = {
  anonymous: async (t: TestApp): Promise<Visit> => ({ person: new Person(t.server), params: {} }),
  /** Signed in, 2FA off. */
  member: async (t: TestApp): Promise<Visit> => {
    const user = await createUser(t, { organizer: organizer(), twoFactor: false });
    return { person: await signedIn(t, user), params: {} };
  },
  /** An admin, with a member of the same organizer (`:id`) and the admin's own email (`:email`). */
  admin: async (t: TestApp): Promise<Visit> => {
    const org = organizer();
    const { admin, person } = await adminOf(t, org);
    const member = await createUser(t, { organizer: org, twoFactor: false });
    return { person, params: { id: member.id, email: admin.email } };
  },
  /** Past the password, on the setup page. */
  pendingSetup: async (t: TestApp): Promise<Visit> => {
    const user = await createUser(t, { organizer: organizer(), twoFactor: true });
    const person = new Person(t.server);
    await person.login(user.email, DEFAULT_PASSWORD);
    return { person, params: {} };
  },
  /** Past the password, asked for the code of a confirmed authenticator. */
  pendingCode: async (t: TestApp): Promise<Visit> => {
    const user = await createUser(t, { organizer: organizer(), twoFactor: true });
    const first = new Person(t.server);
    await first.login(user.email, DEFAULT_PASSWORD);
    await first.setUpTwoFactor(t.clock);
    const person = new Person(t.server);
    await person.login(user.email, DEFAULT_PASSWORD);
    return { person, params: {} };
  },
  /** Just confirmed the authenticator: the recovery codes are shown. */
  recoveryCodesShown: async (t: TestApp): Promise<Visit> => {
    const user = await createUser(t, { organizer: organizer(), twoFactor: true });
    const person = new Person(t.server);
    await person.login(user.email, DEFAULT_PASSWORD);
    const setup = await person.get('/2fa/setup');
    await person.agent
      .post('/2fa/setup')
      .type('form')
      .send({ code: codeAt(manualKeyFrom(setup.text), t.clock), _csrf: csrfFrom(setup.text) })
      .redirects(0);
    return { person, params: {} };
  },
  /** Fully signed in with 2FA, the last code more than 5 minutes ago (sensitive changes ask for one). */
  verifiedLongAgo: async (t: TestApp): Promise<Visit> => {
    const user = await createUser(t, { organizer: organizer(), twoFactor: true });
    const person = new Person(t.server);
    await person.login(user.email, DEFAULT_PASSWORD);
    await person.setUpTwoFactor(t.clock);
    t.clock.advance(6 * 60 * 1000);
    return { person, params: {} };
  },
  invited: async (t: TestApp): Promise<Visit> => {
    const user = await createUser(t, { organizer: organizer(), twoFactor: false, password: null });
    return { person: new Person(t.server), params: { token: await linkFor(t, user, 'invitation') } };
  },
  resetLink: async (t: TestApp): Promise<Visit> => {
    const user = await createUser(t, { organizer: organizer(), twoFactor: true });
    return { person: new Person(t.server), params: { token: await linkFor(t, user, 'totp-reset') } };
  },
  notMeLink: async (t: TestApp): Promise<Visit> => {
    const user = await createUser(t, { organizer: organizer(), twoFactor: false });
    return { person: new Person(t.server), params: { token: await linkFor(t, user, 'not-me') } };
  },
} satisfies Record<string, (t: TestApp) => Promise<Visit>>;

type Who = keyof typeof AS;

interface FormCase {
  /** Where the form posts; `:name` is a parameter of the visit. */
  action: string;
  as: Who;
  /** The page the form is on (its CSRF token); the action by default. */
  page?: string;
  /** The form's fields: invalid, or as the form is used when it has nothing to refuse. */
  fields: Record<string, string>;
  status: number;
  /** Text the answer shows (its heading, the message, the input kept). */
  shows?: string | string[];
  /** Accepted by design (logout, the "This wasn't me" link): a new visit for each case, and changes are expected. */
  accepted?: true;
  /** Sent without the CSRF token (the 403 page). */
  noCsrf?: true;
}

/** Every POST route of the app; one line per case. */
const FORMS: FormCase[] = [
  {
    action: '/login',
    as: 'anonymous',
    fields: { email: 'someone@example.com', next: '/account' },
    status: 400,
    shows: 'value="someone@example.com"',
  },
  {
    action: '/login',
    as: 'anonymous',
    fields: { email: 'nobody@example.com', password: 'not the right password' },
    status: 401,
    shows: 'Incorrect email or password.',
  },
  { action: '/login', as: 'anonymous', fields: manyFields(120), status: 413, shows: 'Too much data' },
  { action: '/logout', as: 'member', page: '/', fields: {}, status: 303, accepted: true },
  {
    action: '/2fa/setup',
    as: 'pendingSetup',
    fields: { code: '12' },
    status: 400,
    shows: 'Enter the 6-digit code from your authenticator app.',
  },
  {
    action: '/2fa/verify',
    as: 'pendingCode',
    fields: { code: '12' },
    status: 401,
    shows: 'Enter the 6-digit code from your authenticator app.',
  },
  {
    action: '/2fa/recovery',
    as: 'pendingCode',
    fields: { recoveryCode: '' },
    status: 401,
    shows: 'Enter one of your recovery codes.',
  },
  { action: '/2fa/recovery-codes', as: 'recoveryCodesShown', fields: { saved: 'yes' }, status: 303, accepted: true },
  // Passkeys (issue 13): a ceremony answer that is no answer.
  {
    action: '/login/passkey',
    as: 'anonymous',
    page: '/login',
    fields: { response: 'not json' },
    status: 401,
    shows: 'The passkey could not be read',
  },
  {
    action: '/2fa/passkey',
    as: 'pendingCode',
    page: '/2fa/verify',
    fields: { response: '{}' },
    status: 401,
    shows: 'The passkey could not be read',
  },
  {
    action: '/2fa/setup/passkey',
    as: 'pendingSetup',
    page: '/2fa/setup',
    fields: { response: '', passkeyName: '' },
    status: 400,
    shows: 'Give the passkey a name',
  },
  {
    action: '/account/passkeys',
    as: 'member',
    page: '/account',
    fields: { response: '', passkeyName: 'Key' },
    status: 400,
    shows: 'Your account',
  },
  {
    action: '/invitations/:token',
    as: 'invited',
    fields: { newPassword: 'short', confirmPassword: 'short' },
    status: 400,
    shows: '<h1>Choose your password</h1>',
  },
  {
    action: '/2fa/reset/:token',
    as: 'resetLink',
    fields: { password: '' },
    status: 400,
    shows: 'Enter your password.',
  },
  {
    action: `/not-me/${UNKNOWN_TOKEN}`,
    as: 'anonymous',
    page: '/login',
    fields: {},
    status: 410,
    shows: 'Link not usable',
  },
  {
    action: '/not-me/:token',
    as: 'notMeLink',
    fields: {},
    status: 200,
    shows: 'Your account is locked',
    accepted: true,
  },
  {
    action: '/admin/users',
    as: 'admin',
    page: '/admin/users/new',
    fields: { email: 'not-an-email', name: 'Nina Typed', role: 'admin' },
    status: 400,
    shows: ['value="not-an-email"', 'value="Nina Typed"', '<option value="admin" selected>'],
  },
  {
    action: '/admin/users',
    as: 'admin',
    page: '/admin/users/new',
    fields: { email: ':email', name: 'Nina Typed', role: 'member' },
    status: 409,
    shows: 'value="Nina Typed"',
  },
  {
    action: '/admin/users',
    as: 'admin',
    page: '/admin/users/new',
    fields: { email: 'new@example.com', name: 'Nina Typed', role: 'member' },
    status: 403,
    noCsrf: true,
  },
  {
    action: '/admin/users/:id/resend-qr',
    as: 'admin',
    page: '/admin/users/:id',
    fields: { confirm: 'maybe' },
    status: 400,
    shows: 'Bad request',
  },
  {
    action: '/admin/users/:id/two-factor',
    as: 'admin',
    page: '/admin/users/:id',
    fields: { twoFactor: 'sideways' },
    status: 400,
    shows: 'Bad request',
  },
  {
    action: '/admin/users/:id/two-factor',
    as: 'admin',
    page: '/admin/users/:id',
    fields: { twoFactor: 'enable' },
    status: 200,
    shows: 'Enable two-factor authentication for',
  },
  { action: '/admin/users/:id/unlock', as: 'admin', page: '/admin/users/:id', fields: {}, status: 303 },
  { action: '/admin/users/:id/invitation', as: 'admin', page: '/admin/users/:id', fields: {}, status: 303 },
  {
    action: '/admin/organizer',
    as: 'admin',
    fields: { requireTwoFactor: 'on', graceDays: 'soon' },
    status: 400,
    shows: ['value="soon"', 'aria-describedby="requireTwoFactor-hint" checked>'],
  },
  {
    action: '/account/password',
    as: 'member',
    page: '/account',
    fields: { newPassword: 'x', confirmPassword: 'y' },
    status: 400,
    shows: 'Enter your current password.',
  },
  {
    action: '/account/confirm',
    as: 'verifiedLongAgo',
    page: '/account/confirm?continue=authenticator',
    fields: { code: '12', continue: 'authenticator' },
    status: 401,
    shows: 'A new authenticator app',
  },
  { action: '/account/recovery-codes', as: 'verifiedLongAgo', page: '/account', fields: {}, status: 303 },
  { action: '/account/authenticator', as: 'verifiedLongAgo', page: '/account', fields: {}, status: 303 },
];

interface PageCase {
  path: string;
  as: Who;
  status: number;
  shows?: string;
}

/** Every page and error page, opened with the names in the query string. */
const PAGES: PageCase[] = [
  { path: '/login', as: 'anonymous', status: 200, shows: '<h1>Sign in</h1>' },
  { path: '/', as: 'anonymous', status: 303 },
  { path: '/nope', as: 'anonymous', status: 404, shows: 'Page not found' },
  { path: `/invitations/${UNKNOWN_TOKEN}`, as: 'anonymous', status: 410, shows: 'Invitation link not usable' },
  { path: `/2fa/reset/${UNKNOWN_TOKEN}`, as: 'anonymous', status: 410, shows: 'Link not usable' },
  { path: `/not-me/${UNKNOWN_TOKEN}`, as: 'anonymous', status: 410, shows: 'Link not usable' },
  { path: '/invitations/:token', as: 'invited', status: 200, shows: '<h1>Choose your password</h1>' },
  { path: '/2fa/reset/:token', as: 'resetLink', status: 200, shows: '<h1>Set up your authenticator again</h1>' },
  { path: '/not-me/:token', as: 'notMeLink', status: 200, shows: "<h1>This wasn't me</h1>" },
  { path: '/2fa/setup', as: 'pendingSetup', status: 200, shows: '<h1>Set up two-factor authentication</h1>' },
  { path: '/2fa/verify', as: 'pendingCode', status: 200, shows: '<h1>Two-factor authentication</h1>' },
  { path: '/2fa/recovery', as: 'pendingCode', status: 200, shows: '<h1>Use a recovery code</h1>' },
  { path: '/2fa/recovery-codes', as: 'recoveryCodesShown', status: 200, shows: '<h1>Your recovery codes</h1>' },
  { path: '/', as: 'member', status: 200, shows: 'Dashboard' },
  { path: '/account', as: 'member', status: 200, shows: '<h1>Your account</h1>' },
  { path: '/account/confirm', as: 'verifiedLongAgo', status: 200, shows: '<h1>Confirm it is you</h1>' },
  { path: '/admin/users', as: 'member', status: 403, shows: 'Not allowed' },
  { path: '/admin/users', as: 'admin', status: 200, shows: '<h1>Users</h1>' },
  { path: '/admin/users/new', as: 'admin', status: 200, shows: '<h1>New user</h1>' },
  { path: '/admin/users/:id', as: 'admin', status: 200 },
  { path: '/admin/users/not-a-user', as: 'admin', status: 404, shows: 'Page not found' },
  { path: '/admin/organizer', as: 'admin', status: 200, shows: '<h1>Organizer 2FA policy</h1>' },
  { path: '/nope', as: 'admin', status: 404, shows: 'Page not found' },
];

/** More fields than the body parser reads: its own error page. */
function manyFields(count: number): Record<string, string> {
  return Object.fromEntries(Array.from({ length: count }, (_, i) => [`field${i}`, 'x']));
}

/** `:name` in a path or a field value, from the visit. */
function fill(text: string, params: Record<string, string>): string {
  return text.replace(/:([a-z]+)/gi, (whole, name: string) => params[name] ?? whole);
}

describe('names of framework options in requests (SECURITY.md 23)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.close());

  /** What a form could change: accounts, their factors and links, organizers (not counters, sessions or the audit). */
  async function snapshot(): Promise<unknown> {
    const db = t.get(DataSource);
    return {
      users: await db.query(
        'SELECT id, organizer_id, email, name, role, password_hash, is_active, two_factor_required, ' +
          'second_factor_reset_at, security_stamp, account_locked_at, two_factor_deadline FROM users ORDER BY id',
      ),
      totpDevices: await db.query('SELECT id, user_id, slot, secret_enc, confirmed_at FROM totp_devices ORDER BY id'),
      organizers: await db.query('SELECT * FROM organizers ORDER BY id'),
      recoveryCodes: await db.query('SELECT id, user_id, used_at FROM recovery_codes ORDER BY id'),
      links: await db.query('SELECT id, used_at, revoked_at FROM one_time_tokens ORDER BY id'),
    };
  }

  /** The app's own page in its layout, not a file of the server and not a crash. */
  function expectNormalAnswer(
    answer: { status: number; text: string },
    expected: { status: number; shows?: string | string[] },
  ) {
    expect(answer.status).toBeLessThan(500);
    expect(answer.text).not.toContain('devDependencies');
    expect(answer.text).not.toContain('tixngo-backoffice');
    expect(answer.status).toBe(expected.status);
    if (answer.status === 303) return;
    expect(answer.text).toMatch(/^<!doctype html>\s*<html lang="en">/);
    expect(answer.text).toContain(`<a class="brand" href="/">${t.config.appName}</a>`);
    for (const text of [expected.shows ?? []].flat()) expect(answer.text).toContain(text);
  }

  describe.each(
    FORMS.map(
      (form) => [`POST ${form.action} as ${form.as} with ${JSON.stringify(form.fields).slice(0, 80)}`, form] as const,
    ),
  )('%s', (_name, form) => {
    let visit: Visit | undefined;
    beforeEach(async () => {
      if (!visit || form.accepted) visit = await AS[form.as](t);
    });

    it.each(RENDER_OPTIONS)('plus %j in the body', async (options) => {
      const { person, params } = visit!;
      const page = await person.get(fill(form.page ?? form.action, params));
      const token = csrfFrom(page.text);
      const before = await snapshot();
      const fields = Object.fromEntries(
        Object.entries(form.fields).map(([name, value]) => [name, fill(value, params)]),
      );
      const answer = await person.agent
        .post(fill(form.action, params))
        .type('form')
        .send({ ...fields, ...options, ...(form.noCsrf ? {} : { _csrf: token }) })
        .redirects(0);
      expectNormalAnswer(answer, form);
      if (!form.accepted) expect(await snapshot()).toEqual(before);
    });
  });

  describe.each(PAGES.map((page) => [`GET ${page.path} as ${page.as}`, page] as const))('%s', (_name, page) => {
    let visit: Visit | undefined;
    beforeAll(async () => {
      visit = await AS[page.as](t);
    });

    it.each(RENDER_OPTIONS)('plus %j in the query string', async (options) => {
      const { person, params } = visit!;
      const answer = await person.get(`${fill(page.path, params)}?${new URLSearchParams(options)}`);
      expectNormalAnswer(answer, page);
    });
  });
});
