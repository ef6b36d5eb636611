import { DataSource } from 'typeorm';
import { AuditEvent } from '../../src/audit/audit-event.entity';
import { createUser, DEFAULT_PASSWORD } from '../utils/test-app';
import { Browser, startTwoInstances, TwoInstances } from './two-instances';

/**
 * The scale-out recipe of the README: two instances behind one TLS-terminating reverse
 * proxy, PUBLIC_URL https and TRUST_PROXY=1. The session cookie is a Secure __Host-
 * cookie that either instance accepts, and the audit log records the client's address.
 */
describe('two instances behind a reverse proxy (PUBLIC_URL https, TRUST_PROXY=1)', () => {
  let two: TwoInstances;

  beforeAll(async () => {
    two = await startTwoInstances({ PUBLIC_URL: 'https://backoffice.example.com', TRUST_PROXY: '1' });
  });
  afterAll(async () => two?.close());

  it('signs in through A with a Secure __Host- cookie that B accepts, and audits the forwarded client address', async () => {
    const { A, B } = two;
    const user = await createUser(A.t, { twoFactor: false });
    const browser = new Browser({ 'X-Forwarded-Proto': 'https', 'X-Forwarded-For': '203.0.113.7' });

    const login = await browser.login(A, user.email, DEFAULT_PASSWORD);
    expect(login.status).toBe(303);
    expect(login.headers.location).toBe('/');
    const sessionCookie = (login.headers['set-cookie'] as unknown as string[]).find((c) =>
      c.startsWith('__Host-tixngo.sid='),
    );
    expect(sessionCookie).toBeDefined();
    expect(sessionCookie).toMatch(/; Secure/i);
    expect(sessionCookie).toMatch(/; Path=\//i);
    expect(sessionCookie).not.toMatch(/; Domain=/i);
    expect(login.headers['strict-transport-security']).toBeDefined();

    const onB = await browser.get(B, '/');
    expect(onB.status).toBe(200);
    expect(onB.text).toContain('Signed in as');

    const event = await A.t
      .get(DataSource)
      .getRepository(AuditEvent)
      .findOneBy({ userId: user.id, type: 'login.succeeded' });
    expect(event?.ip).toBe('203.0.113.7');
  });

  it('sends no session cookie when the proxy did not say https: a misconfigured proxy fails closed', async () => {
    const { A } = two;
    const user = await createUser(A.t, { twoFactor: false });
    const browser = new Browser();
    const login = await browser.login(A, user.email, DEFAULT_PASSWORD);
    expect(((login.headers['set-cookie'] as unknown as string[]) ?? []).some((c) => c.includes('tixngo.sid='))).toBe(
      false,
    );
  });
});
