import request from 'supertest';
import { get as httpGet } from 'node:http';
import { AuditService } from '../../src/audit/audit.service';
import { MetricsServer } from '../../src/operations/metrics-endpoint';
import { MetricsService } from '../../src/operations/metrics.service';
import { PrunerService } from '../../src/operations/pruner.service';
import { codeAt, Person } from '../utils/agent';
import { signedIn, wrongCode } from '../utils/admin';
import { LogCapture } from '../utils/log-capture';
import { createTestApp, createUser, TestApp } from '../utils/test-app';

/** Operations (issue 15): the request log, the route map kept quiet, /metrics and the pruner. */

jest.setTimeout(60_000);

const METRICS_TOKEN = 'metrics-token-0123456789abcdef0123456789';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const DAY_MS = 86_400_000;

/** The value of one sample in a scrape, e.g. `sample(text, 'tixngo_sign_ins_total{outcome="succeeded"}')`. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

function httpText(url: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    httpGet(url, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
    }).on('error', reject);
  });
}

describe('the request log', () => {
  let t: TestApp;
  const logs = new LogCapture();

  beforeAll(async () => {
    t = await createTestApp({ logDestination: logs, env: { LOG_LEVEL: 'debug', CLIENT_MAX_FAILURES: '5' } });
  });
  afterAll(() => t?.close());
  beforeEach(() => logs.clear());

  it('writes one JSON line per request: a new request id (sent back), method, route pattern, status and time', async () => {
    const res = await request(t.server).get('/login?next=%2Fadmin%2Fusers');
    expect(res.status).toBe(200);
    const lines = logs.requests();
    expect(lines).toHaveLength(1);
    const [line] = lines;
    expect(line).toMatchObject({ level: 'info', method: 'GET', route: '/login', status: 200, msg: 'GET /login 200' });
    expect(line.reqId).toMatch(UUID);
    expect(res.headers['x-request-id']).toBe(line.reqId);
    expect(typeof line.responseTimeMs).toBe('number');
    expect(line.userId).toBeUndefined();
    // No query string, header or cookie.
    expect(logs.text()).not.toContain('next=');
    expect(logs.text()).not.toContain('admin%2Fusers');
    expect(logs.text().toLowerCase()).not.toContain('cookie');
  });

  it('keeps a safe incoming X-Request-Id and replaces one that is not', async () => {
    const kept = await request(t.server).get('/login').set('X-Request-Id', 'edge-7f3a.42:1');
    expect(kept.headers['x-request-id']).toBe('edge-7f3a.42:1');
    const replaced = await request(t.server).get('/login').set('X-Request-Id', '<script>alert(1)</script>');
    expect(replaced.headers['x-request-id']).toMatch(UUID);
    const long = await request(t.server).get('/login').set('X-Request-Id', 'a'.repeat(65));
    expect(long.headers['x-request-id']).toMatch(UUID);
    expect(logs.requests().map((line) => line.reqId)).toEqual([
      'edge-7f3a.42:1',
      replaced.headers['x-request-id'],
      long.headers['x-request-id'],
    ]);
    expect(logs.text()).not.toContain('<script>');
  });

  it('names the signed-in user, logs the route pattern of a link page (never its token), and one label for unknown pages', async () => {
    const user = await createUser(t, { twoFactor: false });
    const person = await signedIn(t, user);
    logs.clear();
    expect((await person.get('/account')).status).toBe(200);
    const token = 'AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-abcd';
    expect((await request(t.server).get(`/password/reset/${token}`)).status).toBeLessThan(500);
    expect((await request(t.server).get(`/no/such/page/${token}`)).status).toBe(404);
    const [account, reset, unknown] = logs.requests();
    expect(account).toMatchObject({ method: 'GET', route: '/account', status: 200, userId: user.id });
    expect(reset).toMatchObject({ method: 'GET', route: '/password/reset/:token' });
    expect(unknown).toMatchObject({ method: 'GET', route: '(unmatched)', status: 404 });
    expect(logs.text()).not.toContain(token);
  });

  it('gives the app’s own log lines the id of the request they were written in', async () => {
    let warned: Record<string, unknown> | undefined;
    for (let i = 0; i < 8 && !warned; i++) {
      logs.clear();
      await new Person(t.server).login(`flood${i}@example.com`, 'not the password at all');
      warned = logs.lines().find((line) => line.context === 'Login' && line.level === 'warn');
    }
    expect(warned).toBeDefined();
    const post = logs.requests().find((line) => line.method === 'POST');
    expect(post).toMatchObject({ route: '/login' });
    expect(warned!.reqId).toBe(post!.reqId);
  });
});

describe('the start-up route map', () => {
  it('is not written unless LOG_ROUTES=true', async () => {
    const quiet = new LogCapture();
    const a = await createTestApp({ logDestination: quiet, env: { LOG_LEVEL: 'info' } });
    await a.close();
    expect(quiet.lines().some((line) => /Nest application successfully started/.test(line.msg))).toBe(true);
    expect(quiet.text()).not.toMatch(/Mapped \{/);
    expect(quiet.lines().filter((line) => line.context === 'InstanceLoader')).toEqual([]);

    const loud = new LogCapture();
    const b = await createTestApp({ logDestination: loud, env: { LOG_LEVEL: 'info', LOG_ROUTES: 'true' } });
    await b.close();
    expect(
      loud.lines().some((line) => line.context === 'RouterExplorer' && /Mapped \{\/login, POST\}/.test(line.msg)),
    ).toBe(true);
  });
});

describe('/metrics', () => {
  it('answers 404 like any unknown page when no METRICS_TOKEN is set', async () => {
    const t = await createTestApp();
    try {
      const res = await request(t.server).get('/metrics').set('Authorization', `Bearer ${METRICS_TOKEN}`);
      expect(res.status).toBe(404);
      expect(res.text).not.toContain('tixngo_');
    } finally {
      await t.close();
    }
  });

  describe('with METRICS_TOKEN', () => {
    let t: TestApp;
    const scrape = async () => {
      const res = await request(t.server).get('/metrics').set('Authorization', `Bearer ${METRICS_TOKEN}`);
      expect(res.status).toBe(200);
      return res;
    };

    beforeAll(async () => {
      t = await createTestApp({ env: { METRICS_TOKEN } });
    });
    afterAll(() => t?.close());

    it('refuses a missing or wrong token with the 404 page, and never sets a cookie', async () => {
      const unknown = await request(t.server).get('/no-such-page');
      for (const auth of [undefined, 'Bearer wrong-token', `Bearer ${METRICS_TOKEN}x`, `Basic ${METRICS_TOKEN}`]) {
        const req = request(t.server).get('/metrics');
        const res = auth ? await req.set('Authorization', auth) : await req;
        expect([auth, res.status]).toEqual([auth, 404]);
        expect(res.text).toBe(unknown.text);
      }
      const ok = await scrape();
      expect(ok.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
      expect(ok.headers['set-cookie']).toBeUndefined();
      expect(ok.text).toContain('# TYPE tixngo_http_request_duration_seconds histogram');
      expect(ok.text).toContain('process_cpu_user_seconds_total');
    });

    it('counts sign-ins, codes and locks by outcome, times password hashes and requests by route', async () => {
      const before = (await scrape()).text;
      const user = await createUser(t, { twoFactor: true });
      const person = new Person(t.server);
      expect((await person.login(user.email, 'a wrong password here')).status).toBe(401);
      expect((await person.login(user.email, 'correct horse battery staple')).headers.location).toBe('/2fa/setup');
      const { secret } = await person.setUpTwoFactor(t.clock);
      await person.post('/logout', {});
      t.clock.advance(30_000);
      const later = new Person(t.server);
      expect((await later.login(user.email, 'correct horse battery staple')).headers.location).toBe('/2fa/verify');
      for (let i = 0; i < 5; i++)
        await later.submit('/2fa/verify', '/2fa/verify', { code: wrongCode(secret, t.clock) });
      const refused = await later.submit('/2fa/verify', '/2fa/verify', { code: codeAt(secret, t.clock) });
      expect(refused.status).toBe(429);

      const after = (await scrape()).text;
      const delta = (series: string) => (sample(after, series) ?? 0) - (sample(before, series) ?? 0);
      expect(delta('tixngo_sign_ins_total{outcome="wrong-password"}')).toBe(1);
      expect(delta('tixngo_sign_ins_total{outcome="succeeded"}')).toBe(2);
      expect(delta('tixngo_signed_in_total{method="setup"}')).toBe(1);
      expect(delta('tixngo_codes_total{factor="totp",outcome="wrong"}')).toBe(5);
      expect(delta('tixngo_codes_total{factor="totp",outcome="locked"}')).toBe(1);
      expect(delta('tixngo_locks_total{kind="code"}')).toBe(1);
      expect(delta('tixngo_password_hash_seconds_count{operation="verify"}')).toBe(3);
      expect(delta('tixngo_password_hash_seconds_count{operation="hash"}')).toBeGreaterThanOrEqual(1);
      expect(delta('tixngo_http_request_duration_seconds_count{method="POST",route="/2fa/verify",status="401"}')).toBe(
        4,
      );
      expect(delta('tixngo_http_request_duration_seconds_count{method="GET",route="/login",status="200"}')).toBe(3);
      expect(sample(after, 'tixngo_db_pool_max')).toBe(t.config.databaseKind === 'postgres' ? t.config.dbPoolSize : 1);
      expect(sample(after, 'tixngo_db_pool_connections{state="total"}')).toBeGreaterThanOrEqual(1);
      // Labels stay bounded: unknown addresses share one route label.
      await request(t.server).get('/a/b/c');
      await request(t.server).get('/d/e/f');
      expect(
        sample(
          (await scrape()).text,
          'tixngo_http_request_duration_seconds_count{method="GET",route="(unmatched)",status="404"}',
        ),
      ).toBeGreaterThanOrEqual(2);
    });

    it('reads the outbox’s counts at each scrape and counts its failures', async () => {
      let queued = 3;
      t.get(MetricsService).watchOutbox({ countsByState: async () => ({ queued, sent: 10, failed: 1 }) });
      t.get(MetricsService).outboxFailed();
      let text = (await scrape()).text;
      expect(sample(text, 'tixngo_outbox_messages{state="queued"}')).toBe(3);
      expect(sample(text, 'tixngo_outbox_messages{state="sent"}')).toBe(10);
      expect(sample(text, 'tixngo_outbox_failures_total')).toBe(1);
      queued = 0;
      text = (await scrape()).text;
      expect(sample(text, 'tixngo_outbox_messages{state="queued"}')).toBe(0);
    });
  });

  it('is served without a token on METRICS_PORT, and only there and only /metrics', async () => {
    const t = await createTestApp({ env: { METRICS_PORT: '0' } });
    try {
      const port = await t.get(MetricsServer).start();
      expect(port).toBeGreaterThan(0);
      const ok = await httpText(`http://127.0.0.1:${port}/metrics`);
      expect(ok.status).toBe(200);
      expect(ok.type).toMatch(/^text\/plain; version=0\.0\.4/);
      expect(ok.body).toContain('tixngo_sign_ins_total');
      expect((await httpText(`http://127.0.0.1:${port}/login`)).status).toBe(404);
      // Not on the main port (no token configured).
      expect((await request(t.server).get('/metrics')).status).toBe(404);
    } finally {
      await t.close();
    }
  });
});

describe('the pruner', () => {
  let t: TestApp;
  const logs = new LogCapture();

  beforeAll(async () => {
    t = await createTestApp({ logDestination: logs, env: { LOG_LEVEL: 'info', AUDIT_RETENTION_DAYS: '30' } });
  });
  afterAll(() => t?.close());

  it('deletes audit events older than AUDIT_RETENTION_DAYS, in batches, and keeps the rest', async () => {
    const audit = t.get(AuditService);
    const user = await createUser(t);
    for (let i = 0; i < 5; i++)
      await audit.record({
        type: 'login.failed',
        userId: user.id,
        organizerId: user.organizerId,
        detail: { pool: 'untrusted' },
      });
    t.clock.advance(20 * DAY_MS);
    for (let i = 0; i < 2; i++)
      await audit.record({
        type: 'login.failed',
        userId: user.id,
        organizerId: user.organizerId,
        detail: { pool: 'untrusted' },
      });
    t.clock.advance(11 * DAY_MS);

    expect(await t.get(PrunerService).runOnce()).toMatchObject({ 'audit events': 5 });
    expect(await audit.recentForUser(user.id)).toHaveLength(2);
    expect(logs.lines().some((line) => line.context === 'Pruner' && /Pruned .*5 audit events/.test(line.msg))).toBe(
      true,
    );
    // Batches smaller than the backlog still delete it all.
    t.clock.advance(30 * DAY_MS);
    expect(await audit.prune(new Date(t.clock.nowMs()), 1)).toBe(2);
    expect(await audit.recentForUser(user.id)).toEqual([]);
  });

  it('runs every step even when one fails, and logs the failure', async () => {
    const pruner = t.get(PrunerService);
    expect(pruner.stepNames).toEqual(expect.arrayContaining(['expired sessions', 'attempt counters', 'audit events']));
    pruner.register('broken step', () => Promise.reject(new Error('disk on fire')));
    pruner.register('later step', async () => 7);
    logs.clear();
    const result = await pruner.runOnce();
    expect(result).toMatchObject({ 'broken step': 'failed', 'later step': 7, 'audit events': 0 });
    expect(
      logs.lines().some((line) => line.level === 'warn' && /Pruning broken step failed: disk on fire/.test(line.msg)),
    ).toBe(true);
  });
});
