import { Person } from '../utils/agent';
import { HOUR_MS, OneTimeTokensService } from '../../src/users/one-time-tokens.service';
import { createTestApp, createUser, TestApp } from '../utils/test-app';

/** The directives of a Permissions-Policy header: feature → allowlist text. */
function directives(header: string | undefined): Record<string, string> {
  const result: Record<string, string> = {};
  for (const part of (header ?? '').split(',')) {
    const match = part.trim().match(/^([a-z-]+)=(.*)$/);
    if (match) result[match[1]] = match[2];
  }
  return result;
}

describe('response headers', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.close());

  describe('Permissions-Policy', () => {
    it('turns off the browser features the app never uses, keeps passkeys and the Copy buttons for the site itself', async () => {
      const person = new Person(t.server);
      const pages = {
        login: await person.get('/login'),
        notFound: await person.get('/no-such-page'),
        forbidden: await person.agent
          .post('/login')
          .type('form')
          .send({ email: 'a@b.test', password: 'x' })
          .redirects(0),
        // Refused by the body parser, before routing: the middleware's error page.
        tooLarge: await person.agent
          .post('/login')
          .type('form')
          .send({ email: 'x'.repeat(40 * 1024) })
          .redirects(0),
      };
      expect(Object.values(pages).map((page) => page.status)).toEqual([200, 404, 403, 413]);
      for (const [name, page] of Object.entries(pages)) {
        const policy = directives(page.headers['permissions-policy']);
        for (const feature of [
          'camera',
          'microphone',
          'geolocation',
          'payment',
          'usb',
          'serial',
          'bluetooth',
          'hid',
          'midi',
          'magnetometer',
          'gyroscope',
          'accelerometer',
          'display-capture',
          'browsing-topics',
        ]) {
          expect({ name, feature, allow: policy[feature] }).toEqual({ name, feature, allow: '()' });
        }
        for (const feature of ['publickey-credentials-get', 'publickey-credentials-create', 'clipboard-write']) {
          expect({ name, feature, allow: policy[feature] }).toEqual({ name, feature, allow: '(self)' });
        }
      }
    });
  });

  describe('Referrer-Policy', () => {
    it('emailed link pages, whose address holds their token, send no Referer at all, not even to the site itself', async () => {
      const person = new Person(t.server);
      const user = await createUser(t);
      const { token } = await t.get(OneTimeTokensService).issue(user.id, 'password-reset', HOUR_MS, null);
      const bogus = 'x'.repeat(43);
      const links = [
        `/password/reset/${token}`,
        `/password/reset/${bogus}`,
        `/invitations/${bogus}`,
        `/2fa/reset/${bogus}`,
        `/not-me/${bogus}`,
      ];
      for (const link of links) {
        const page = await person.get(link);
        expect({ link, policy: page.headers['referrer-policy'] }).toEqual({ link, policy: 'no-referrer' });
        // A <meta name="referrer"> in the page would override the header for its own requests (its stylesheet).
        expect({ link, meta: /<meta[^>]+name="referrer"/i.test(page.text) }).toEqual({ link, meta: false });
      }
      expect((await person.get('/login')).headers['referrer-policy']).toBe('same-origin');
    });
  });

  describe('caching', () => {
    it('pages are not stored and carry no ETag (nothing to revalidate, and no hash of every page)', async () => {
      const person = new Person(t.server);
      for (const path of ['/login', '/password/forgot', '/no-such-page']) {
        const page = await person.get(path);
        expect({ path, cache: page.headers['cache-control'] }).toEqual({
          path,
          cache: expect.stringContaining('no-store'),
        });
        expect({ path, etag: page.headers.etag }).toEqual({ path, etag: undefined });
      }
    });
  });
});
