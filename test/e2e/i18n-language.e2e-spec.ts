import { DataSource } from 'typeorm';
import { User } from '../../src/users/user.entity';
import { Person } from '../utils/agent';
import { adminOf } from '../utils/admin';
import { createTestApp, TestApp } from '../utils/test-app';
import { langOf } from '../utils/i18n';

const selected = (html: string) => /<option value="(\w+)" lang="\w+" selected>/.exec(html)?.[1];

/** Which language a page speaks (issue 17): preference, then the menu's cookie, then Accept-Language, then English. */
describe('choosing the language', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.close());

  it('is English without any choice, and follows Accept-Language (fr-CH is French, pt is English)', async () => {
    const visitor = new Person(t.server);
    expect(langOf((await visitor.get('/login')).text)).toBe('en');
    expect(langOf((await visitor.get('/login').set('Accept-Language', 'de-CH,de;q=0.9,en;q=0.5')).text)).toBe('de');
    expect(langOf((await visitor.get('/login').set('Accept-Language', 'fr-CH')).text)).toBe('fr');
    expect(langOf((await visitor.get('/login').set('Accept-Language', 'pt-BR,pt;q=0.9')).text)).toBe('en');
  });

  it('the menu of a visitor sets the cookie with ?lang= and comes back to the page without it; the cookie beats Accept-Language', async () => {
    const visitor = new Person(t.server);
    const login = await visitor.get('/login');
    expect(login.text).toContain('class="language-menu" method="get" action=""');
    expect(selected(login.text)).toBe('en');
    const chosen = await visitor.get('/password/forgot?lang=it');
    expect(chosen.status).toBe(303);
    expect(chosen.headers.location).toBe('/password/forgot');
    expect(String(chosen.headers['set-cookie'])).toMatch(
      /^lang=it; Max-Age=\d+; Path=\/; Expires=[^;]+; HttpOnly; SameSite=Lax$/,
    );
    const page = await visitor.get('/password/forgot').set('Accept-Language', 'de');
    expect(langOf(page.text)).toBe('it');
    expect(selected(page.text)).toBe('it');
  });

  it('an unknown language sets nothing; the page comes back to itself on this site only, other parameters kept', async () => {
    const visitor = new Person(t.server);
    const unknown = await visitor.get('/login?lang=xx&reason=ended');
    expect(unknown.status).toBe(303);
    expect(unknown.headers.location).toBe('/login?reason=ended');
    expect(unknown.headers['set-cookie']).toBeUndefined();
    for (const path of ['/.//evil.test/x?lang=fr', '//evil.test/x?lang=fr', '/\\evil.test?lang=fr']) {
      const answer = await visitor.get(path);
      expect(answer.headers.location ?? '').not.toMatch(/^\/\/|^\/\\|^https?:/);
    }
  });

  it('a signed-in person’s menu saves their preference (POST with CSRF), which then beats the cookie and the browser', async () => {
    const { admin, person } = await adminOf(t, 'Lang Org', 'Lena Admin');
    const account = await person.get('/account');
    expect(account.text).toContain('method="post" action="/account/language"');
    expect(account.text).toContain('name="next" value="/account"');
    const saved = await person.post('/account/language', { language: 'de', next: '/admin/users' }, '/account');
    expect(saved.status).toBe(303);
    expect(saved.headers.location).toBe('/admin/users');
    expect((await t.get(DataSource).getRepository(User).findOneByOrFail({ id: admin.id })).language).toBe('de');
    // The cookie says French and the browser Spanish: the saved preference wins.
    person.agent.jar.setCookie('lang=fr');
    const page = await person.get('/admin/users').set('Accept-Language', 'es');
    expect(langOf(page.text)).toBe('de');
    expect(selected(page.text)).toBe('de');
  });

  it('refuses a POST without the CSRF token, an unknown language, and a way back off this site', async () => {
    const { admin, person } = await adminOf(t, 'Lang Org 2', 'Leo Admin');
    const forged = await person.agent.post('/account/language').type('form').send({ language: 'fr' }).redirects(0);
    expect(forged.status).toBe(403);
    const unknown = await person.post('/account/language', { language: 'xx', next: '/account' }, '/account');
    expect(unknown.headers.location).toBe('/account');
    const away = await person.post('/account/language', { language: 'es', next: '//evil.test/' }, '/account');
    expect(away.headers.location).toBe('/account');
    expect((await t.get(DataSource).getRepository(User).findOneByOrFail({ id: admin.id })).language).toBe('es');
  });
});
