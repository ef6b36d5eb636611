import { AuditService } from '../../src/audit/audit.service';
import { codeAt, csrfFrom, manualKeyFrom, Person, recoveryCodesFrom } from '../utils/agent';
import { createTestApp, createUser, DEFAULT_PASSWORD, TestApp } from '../utils/test-app';
import { hasFactor, totpDevices } from '../utils/factors';

describe('sign-in with TOTP (journeys 2, 3, 7)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.close());

  it('first login: setup page, wrong code refused, right code, recovery codes, dashboard', async () => {
    const user = await createUser(t, { twoFactor: true });
    const person = new Person(t.server);

    const login = await person.login(user.email, DEFAULT_PASSWORD);
    expect(login.status).toBe(303);
    expect(login.headers.location).toBe('/2fa/setup');

    const setup = await person.get('/2fa/setup');
    expect(setup.status).toBe(200);
    expect(setup.headers['cache-control']).toBe('no-store');
    expect(setup.text).toMatch(/<img src="data:image\/png;base64,[^"]+" alt="QR code[^"]*"/);
    expect(setup.text).toContain('autocomplete="one-time-code"');
    expect(setup.text).toContain('inputmode="numeric"');
    for (const step of ['Add Account', 'Scan QR Code', 'logo', 'nickname']) expect(setup.text).toContain(step);
    const secret = manualKeyFrom(setup.text);
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);

    const wrong = await person.agent
      .post('/2fa/setup')
      .type('form')
      .send({ code: '000000', _csrf: csrfFrom(setup.text) });
    expect(wrong.status).toBe(400);
    expect(wrong.text).toContain('role="alert"');
    expect(manualKeyFrom(wrong.text)).toBe(secret);

    const dashboardBefore = await person.get('/');
    expect(dashboardBefore.status).toBe(303);
    expect(dashboardBefore.headers.location).toBe('/2fa/setup');

    const right = await person.agent
      .post('/2fa/setup')
      .type('form')
      .send({ code: codeAt(secret, t.clock), _csrf: csrfFrom(setup.text) })
      .redirects(0);
    expect(right.headers.location).toBe('/2fa/recovery-codes');
    const codesPage = await person.get('/2fa/recovery-codes');
    expect(codesPage.headers['cache-control']).toBe('no-store');
    const codes = recoveryCodesFrom(codesPage.text);
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);

    const done = await person.agent
      .post('/2fa/recovery-codes')
      .type('form')
      .send({ saved: 'yes', _csrf: csrfFrom(codesPage.text) })
      .redirects(0);
    expect(done.headers.location).toBe('/');
    const dashboard = await person.get('/');
    expect(dashboard.status).toBe(200);
    expect(dashboard.text).toContain('Signed in as');

    const again = await person.get('/2fa/recovery-codes');
    expect(again.status).toBe(303);

    expect(await hasFactor(t, user.id)).toBe(true);
    expect((await totpDevices(t, user.id)).active!.secretEnc).not.toContain(secret);
    const events = (await t.get(AuditService).recentForUser(user.id)).map((e) => e.type);
    expect(events).toEqual(expect.arrayContaining(['code.failed', 'two_factor.setup', 'login.succeeded']));
  });

  it('an unknown address is the 404 page in the layout, with the signed-in person in the header', async () => {
    const anonymous = await new Person(t.server).get('/no/such/page');
    expect(anonymous.status).toBe(404);
    expect(anonymous.text).toContain('Page not found');
    expect(anonymous.text).not.toContain('Log out');

    const user = await createUser(t, { twoFactor: false, name: 'Nora Header' });
    const person = new Person(t.server);
    await person.login(user.email, DEFAULT_PASSWORD);
    const signedIn = await person.get('/no/such/page?x=1');
    expect(signedIn.status).toBe(404);
    expect(signedIn.text).toContain('Page not found');
    expect(signedIn.text).toContain('Nora Header');
    expect(signedIn.text).toContain('Log out');
    // Every real page is still reached (the catch-all comes last), and a POST to nowhere is a plain 404.
    expect((await person.get('/')).status).toBe(200);
    expect((await person.get('/account')).status).toBe(200);
    expect((await person.post('/no/such/page', {})).status).toBe(404);
  });
});
