'use strict';
/**
 * The HTTP steps of a sign-in as the bench makes them (run.js, growth.js), each checked:
 * GET /login, POST /login, GET and POST /2fa/verify with the code of bench/lib/totp.js,
 * then the dashboard; and GET /login paced at a steady rate (open loop) for its latencies.
 * `ctx` is { port, password }.
 */
const { performance } = require('node:perf_hooks');
const { setTimeout: sleep } = require('node:timers/promises');
const { CookieJar, keepAliveAgent, request, csrfFrom, percentile } = require('./http');
const { totp } = require('./totp');

/** Runs one request; `timed` (run.js's costs phase) may wrap it to measure it by step name. */
const untimed = (_step, measure) => measure();

async function passwordStep(ctx, user, jar, agent, timed = untimed) {
  const page = await timed('GET /login', () => request({ port: ctx.port, agent, path: '/login', jar }));
  expect(page, 200, 'GET /login');
  const login = await timed('POST /login', () =>
    request({
      port: ctx.port,
      agent,
      method: 'POST',
      path: '/login',
      jar,
      form: { _csrf: csrfFrom(page.body), next: '', email: user.email, password: ctx.password },
    }),
  );
  expect(login, 303, 'POST /login', '/2fa/verify');
  return login;
}

/** Password, then the TOTP code of `user.secret`, then the dashboard: a signed-in cookie jar. */
async function fullJourney(ctx, user, agent, timed = untimed) {
  const jar = new CookieJar();
  await passwordStep(ctx, user, jar, agent, timed);
  const page = await timed('GET /2fa/verify', () => request({ port: ctx.port, agent, path: '/2fa/verify', jar }));
  expect(page, 200, 'GET /2fa/verify');
  const verify = await timed('POST /2fa/verify', () =>
    request({
      port: ctx.port,
      agent,
      method: 'POST',
      path: '/2fa/verify',
      jar,
      form: { _csrf: csrfFrom(page.body), code: totp(user.secret) },
    }),
  );
  expect(verify, 303, 'POST /2fa/verify', '/');
  const dashboard = await timed('GET /', () => request({ port: ctx.port, agent, path: '/', jar }));
  expect(dashboard, 200, 'GET /');
  if (!dashboard.body.includes('Signed in as')) throw new Error('GET / after the code is not the dashboard');
  return { jar, verifyMs: verify.ms };
}

/**
 * GET `path` every 1/rate s for `seconds`, without waiting for answers; latencies in ms, from
 * the moment each was sent. A reset of a reused keep-alive socket (the server closing
 * it as it is reused: more likely while the app's loop is stalled) is retried once, as a
 * browser does, within the same latency; any other failure fails the whole measure, unless
 * `timeoutMs` is given: then a request unanswered after it counts as `timedOut`, with that
 * latency (a stalled app's p99 is then "at least timeoutMs", and the measure ends).
 */
async function pacedGets(ctx, path, { rate, seconds, timeoutMs }) {
  // As many sockets as requests in flight: each waits at the app, never in this client's queue.
  const agent = keepAliveAgent(Infinity);
  const total = rate * seconds;
  const interval = 1000 / rate;
  const latencies = [];
  const errors = [];
  let retried = 0;
  let timedOut = 0;
  const inFlight = [];
  const start = performance.now();
  const get = () => request({ port: ctx.port, agent, path, ...(timeoutMs ? { timeoutMs } : {}) });
  for (let i = 0; i < total; i++) {
    const wait = start + i * interval - performance.now();
    if (wait > 0) await sleep(wait);
    const sent = performance.now();
    inFlight.push(
      get()
        .catch((error) => {
          if (error.code !== 'ECONNRESET') throw error;
          retried += 1;
          return get();
        })
        .then((res) => {
          expect(res, 200, `GET ${path}`);
          latencies.push(performance.now() - sent);
        })
        .catch((error) => {
          if (timeoutMs && error.code === 'ETIMEDOUT') {
            timedOut += 1;
            latencies.push(performance.now() - sent);
          } else errors.push(error);
        }),
    );
  }
  await Promise.all(inFlight);
  agent.destroy();
  if (errors.length) throw new Error(`GET ${path}: ${errors.length} of ${total} failed, first: ${errors[0].message}`);
  return {
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: Math.max(...latencies),
    count: latencies.length,
    retried,
    timedOut,
  };
}

function expect(res, status, what, location) {
  if (res.status === status && (location === undefined || res.headers.location === location)) return;
  const text = res.body.replace(/\s+/g, ' ').slice(0, 400);
  throw new Error(
    `${what}: expected ${status}${location ? ` → ${location}` : ''}, got ${res.status}${res.headers.location ? ` → ${res.headers.location}` : ''}: ${text}`,
  );
}

module.exports = { untimed, passwordStep, fullJourney, pacedGets, expect };
