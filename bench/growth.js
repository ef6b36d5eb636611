'use strict';
/**
 * The growth phase of npm run bench (issue 16): does every admin page of a list or a log cost
 * the same for an organizer of 1,000 users as for one of 100,000 (300,000 with --scale)? And
 * does an admin working on those pages, or exporting the CSV, stall everyone's GET /login?
 *
 *   node bench/growth.js [--scale] [--no-pg] [--pg-only] [--sizes=1000,100000] [--runs=11]
 *   npm run bench -- --only=growth [same options]
 *
 * Runs the BUILT app (dist/, `npm run build` first) in a child process (bench/lib/processes.js),
 * so this client's loop never shares the app's event loop. For each database and size:
 *   1. a fresh DATA_DIR (and a throw-away PostgreSQL database); `node bench/growth.js
 *      --seed-admin=<file>` with the app's environment migrates it the way the app does at
 *      start and creates, through the app's services, the organizer and its admin (a password
 *      and an active TOTP device whose secret the bench knows: the admin signs in for real);
 *   2. N users in bulk SQL, in one transaction, on the migrated database (SQLite: prepared
 *      INSERTs through better-sqlite3 on the app's file; PostgreSQL: multi-row INSERT … SELECT
 *      FROM unnest($1::text[], …) of 5,000 rows): names from a few hundred first and last names
 *      (ties), five people with one rare surname, unique emails, ≈ 60 % with an active TOTP
 *      device, ≈ 10 % not required to use 2FA, a few code-locked (attempt_counters) and
 *      account-locked, 20 audit events each over the last year (appended in time order, as the
 *      app does), a session per 10 users.
 *      Triggers that migrations put on these tables fire, as for any insert: their cost is
 *      part of seed_seconds. PostgreSQL then gets VACUUM ANALYZE (what autovacuum would do
 *      after such a load; the app analyzes at start only after it migrated), SQLite nothing:
 *   3. the app starts again on the seeded database (its own ANALYZE / PRAGMA optimize), the
 *      admin signs in over HTTP, and every page below is asked 2 times to warm up, then --runs
 *      times one after the other (median ms). Links are read from the pages (rel="next", a
 *      "Last" link (rel="last") or "Page x of y"), so the phase works with any paging the list has; a page
 *      the app does not offer is "n/a";
 *   4. the CSV export: time to first byte, whole time, and the app's RSS growth (peak while
 *      it runs, sampled every 20 ms from /proc, over the figure after a full GC);
 *   5. at the largest size only, GET /login paced at 50/s for 5 s, idle and then while two
 *      admin loops ask one heavy page (or the export) over and over: p50, p99, max.
 * Results: the object growthPhase() returns (run.js puts it in bench/results/latest.json and
 * prints growthTable()); alone, bench/results/growth-<time>.json and the tables printed.
 */
const { createHash, randomBytes, randomUUID } = require('node:crypto');
const { readFileSync } = require('node:fs');
const os = require('node:os');
const { join } = require('node:path');
const { setTimeout: sleep } = require('node:timers/promises');
const { setInterval, clearInterval } = require('node:timers');
const { keepAliveAgent, request, median } = require('./lib/http');
const { fullJourney, pacedGets, expect } = require('./lib/journey');
const { option, flag, databasesAsked, benchEnvironment, writeResults } = require('./lib/in-process');
const { DIST_MAIN, startApp, stopChild, runNode, freePort, rssMb, askApp, tail } = require('./lib/processes');

const SCALE = flag('scale');
const SIZES = option('sizes', SCALE ? '1000,100000,300000' : '1000,100000')
  .split(',')
  .map(Number)
  .sort((a, b) => a - b);
const RUNS = Number(option('runs', '11'));
const CSV_RUNS = 3;
/** GET /login at 50/s for 5 s; one unanswered after 10 s counts as timed out (the app stalled). */
const PACED = { rate: 50, seconds: 5, timeoutMs: 10000 };
const ADMIN_LOOPS = 2;
const EVENTS_PER_USER = 20;
const USERS_PER_SESSION = 10;
const PASSWORD = 'Bench mark: an organizer that grows 2026';
const RARE_SURNAME = 'Quillfeather';
const RARE_PEOPLE = 5;
const TWO_LETTERS = 'ma';
const DAY = 86_400_000;

const GOALS = {
  ratio: { goal: '≤ ×2', ok: (v) => v <= 2 },
  csv_first_byte_ms: { goal: '< 1,000 ms', ok: (v) => v < 1000 },
  csv_rss_growth_mb: { goal: '≤ 50 MB', ok: (v) => v <= 50 },
  login_p99_during_ms: { goal: '≤ 100 ms', ok: (v) => v <= 100 },
};

/** The pages timed, in the table's order: label, and how to find the path from what was seen. */
const PAGES = [
  ['users_first', '`GET /admin/users`'],
  ['users_next', 'next page (rel="next")'],
  ['users_middle', 'middle page (`?from=m`)'],
  ['users_last', 'last page'],
  ['users_search', `search \`?q=\` a surname (${RARE_PEOPLE} people)`],
  ['users_search_two_letters', `search \`?q=${TWO_LETTERS}\``],
  ['users_not_set_up', '`?show=not-set-up`'],
  ['organizer', '`GET /admin/organizer`'],
  ['log_first', '`GET /admin/security-log`'],
  ['log_next', 'security log, next page'],
  ['log_kind', 'security log `?kind=failed-sign-ins`'],
  ['user_page', 'a user’s page (control)'],
  ['dashboard', '`GET /` dashboard (control)'],
];
/** The pages hammered while GET /login is paced, at the largest size. */
const HEAVY = ['users_last', 'users_search', 'users_search_two_letters', 'organizer', 'log_first', 'csv'];

const log = (...parts) =>
  console.log(`[growth ${new Date().toISOString().slice(11, 19)} load ${os.loadavg()[0].toFixed(1)}]`, ...parts);
const round = (value, digits = 1) => (Number.isFinite(value) ? Number(value.toFixed(digits)) : value);

// ---------------------------------------------------------------------------------------
// The phase.

/** Every database × size; `databases` as run.js found them reachable. */
async function growthPhase({ databases = databasesAsked(), logger = log } = {}) {
  const started = Date.now();
  const growth = {
    sizes: SIZES,
    runs: RUNS,
    goals: Object.fromEntries(Object.entries(GOALS).map(([k, v]) => [k, v.goal])),
  };
  growth.databases = {};
  for (const database of databases) {
    growth.databases[database] = {};
    for (const size of SIZES) {
      const largest = size === SIZES[SIZES.length - 1];
      logger(`growth: ${database}, ${size.toLocaleString('en')} users`);
      growth.databases[database][size] = await measure(database, size, largest, logger);
    }
  }
  growth.seconds = round((Date.now() - started) / 1000, 0);
  return growth;
}

async function measure(database, size, largest, logger) {
  const environment = await benchEnvironment(`growth${size}`, database, 'g');
  let app;
  try {
    const port = await freePort();
    const env = {
      ...environment.env,
      PATH: process.env.PATH,
      HOME: process.env.HOME ?? os.tmpdir(),
      PORT: String(port),
    };
    const adminFile = join(env.DATA_DIR, 'growth-admin.json');
    await runNode([__filename, `--seed-admin=${adminFile}`], env, 'growth admin seed');
    const admin = JSON.parse(readFileSync(adminFile, 'utf8'));

    const seedStarted = Date.now();
    const counts = await seedUsers(database, env, admin, size);
    const seedSeconds = round((Date.now() - seedStarted) / 1000);
    logger(`growth: seeded ${JSON.stringify(counts)} in ${seedSeconds} s`);

    const startAt = Date.now();
    app = await startApp(env, env.DATA_DIR, port);
    const startSeededMs = Date.now() - startAt;
    try {
      const ctx = { port, password: PASSWORD };
      const agent = keepAliveAgent(ADMIN_LOOPS + 1);
      const { jar } = await fullJourney(ctx, { email: admin.email, secret: admin.secret }, agent);
      const { searchRows, ...paths } = await discover(port, agent, jar);
      const pages = {};
      for (const [name] of PAGES) {
        pages[name] = paths[name] ? await timePage(port, agent, jar, paths[name]) : null;
        logger(`growth: ${name} ${paths[name] ?? 'n/a'}: ${pages[name] ? `${pages[name].median_ms} ms` : 'n/a'}`);
      }
      const csv = await timeCsv(port, jar, app.child);
      logger(`growth: CSV ${JSON.stringify(csv)}`);
      const during = largest ? await loginDuringAdminWork(ctx, agent, jar, { ...paths, csv: CSV_PATH }, logger) : null;
      agent.destroy();
      return {
        users: size,
        seeded: counts,
        seed_seconds: seedSeconds,
        start_seeded_ms: startSeededMs,
        search_rows: searchRows,
        paths,
        pages,
        csv,
        during,
      };
    } catch (error) {
      logger(`app log (last lines):\n${tail(app.logFile)}`);
      throw error;
    }
  } finally {
    if (app) await stopChild(app.child);
    await environment.dispose();
  }
}

// ---------------------------------------------------------------------------------------
// Pages: found from the HTML, then timed.

const CSV_PATH = '/admin/users/export.csv';

/** The paths of PAGES for this app, read from its pages (null where it offers none). */
async function discover(port, agent, jar) {
  // A page the app fails to answer (a 503 after its statement timeout) has no links: it is timed all the same.
  const get = async (path) => {
    const res = await request({ port, agent, path, jar });
    if (res.status >= 500) return '';
    expect(res, 200, `GET ${path}`);
    return res.body;
  };
  const first = await get('/admin/users');
  const rows = userRows(first);
  const paths = {
    users_first: '/admin/users',
    users_next: linkWith(first, (a) => a.rel === 'next'),
    users_search: `/admin/users?q=${RARE_SURNAME}`,
    users_search_two_letters: `/admin/users?q=${TWO_LETTERS}`,
    users_not_set_up: '/admin/users?show=not-set-up',
    organizer: '/admin/organizer',
    log_first: '/admin/security-log',
    log_kind: '/admin/security-log?kind=failed-sign-ins',
    user_page: rows.find((row) => !/admin/i.test(row.name))?.href ?? rows[0]?.href ?? null,
    dashboard: '/',
  };
  const pageCount = /Page\s+\d+\s+of\s+([\d,]+)/.exec(first)?.[1]?.replace(/,/g, '');
  paths.users_last =
    linkWith(first, (a) => a.rel === 'last' || /^\s*Last\s*$/.test(a.text)) ??
    (pageCount ? `/admin/users?page=${pageCount}` : null);
  // A middle page only where the list answers a starting letter: its first row then starts at m or after.
  const middle = await request({ port, agent, path: '/admin/users?from=m', jar });
  const middleFirst = middle.status === 200 ? userRows(middle.body)[0]?.name : undefined;
  paths.users_middle = middleFirst && middleFirst.toLowerCase() >= 'm' ? '/admin/users?from=m' : null;
  paths.searchRows = userRows(await get(paths.users_search)).length;
  paths.log_next = linkWith(await get(paths.log_first), (a) => a.rel === 'next');
  return paths;
}

/** The links of a page: href (entities decoded), rel and text. */
function links(html) {
  return [...html.matchAll(/<a\b([^>]*)>([\s\S]*?)<\/a>/g)].map(([, attributes, text]) => ({
    href: decode(/\bhref="([^"]*)"/.exec(attributes)?.[1] ?? ''),
    rel: /\brel="([^"]*)"/.exec(attributes)?.[1],
    text: decode(text.replace(/<[^>]*>/g, '')),
  }));
}

function linkWith(html, test) {
  return links(html).find((a) => a.href.startsWith('/') && test(a))?.href ?? null;
}

/** The rows of the users list: links to a user's page. */
function userRows(html) {
  return links(html)
    .filter((a) => /^\/admin\/users\/[0-9a-f-]{36}$/.test(a.href))
    .map((a) => ({ href: a.href, name: a.text.trim() }));
}

function decode(text) {
  return text
    .replace(/&#x([0-9a-f]+);/gi, (_, hex) => String.fromCodePoint(parseInt(hex, 16)))
    .replace(/&#(\d+);/g, (_, dec) => String.fromCodePoint(Number(dec)))
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/** 2 warm-ups, then RUNS requests one after the other: the median and the spread. */
/**
 * 2 warm-ups, then RUNS requests one after the other: the median and the spread. An answer of
 * 500 or more (the app gave up, e.g. PostgreSQL's statement timeout) is timed too and counted.
 */
async function timePage(port, agent, jar, path) {
  const times = [];
  const failed = {};
  for (let i = 0; i < RUNS + 2; i++) {
    const res = await request({ port, agent, path, jar });
    if (res.status >= 500) failed[res.status] = (failed[res.status] ?? 0) + 1;
    else expect(res, 200, `GET ${path}`);
    if (i >= 2) times.push(res.ms);
  }
  return {
    median_ms: round(median(times)),
    min_ms: round(Math.min(...times)),
    max_ms: round(Math.max(...times)),
    ...(Object.keys(failed).length ? { failed } : {}),
  };
}

/** The CSV export CSV_RUNS times, read as it comes: first byte, whole time (medians), the app's worst RSS growth. */
async function timeCsv(port, jar, child) {
  const runs = [];
  for (let i = 0; i < CSV_RUNS; i++) {
    await askApp(child, 'gc');
    const before = rssMb(child.pid);
    let peak = before;
    const sampler = setInterval(() => {
      try {
        peak = Math.max(peak, rssMb(child.pid));
      } catch {
        // the app is gone: the request fails below
      }
    }, 20);
    try {
      runs.push({ ...(await streamed(port, jar, CSV_PATH)), rssGrowth: peak - before });
    } finally {
      clearInterval(sampler);
    }
  }
  return {
    first_byte_ms: round(median(runs.map((r) => r.firstByte))),
    total_ms: round(median(runs.map((r) => r.total))),
    rows: runs[0].lines - 1,
    megabytes: round(runs[0].bytes / 1e6, 2),
    rss_growth_mb: round(Math.max(...runs.map((r) => r.rssGrowth))),
  };
}

/** GET `path`, counted as it arrives (not kept): status, first byte and total ms, bytes, lines. */
function streamed(port, jar, path) {
  const http = require('node:http');
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const since = () => Number(process.hrtime.bigint() - started) / 1e6;
    const headers = { host: `127.0.0.1:${port}`, accept: 'text/csv', cookie: jar.header() };
    const req = http.request({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
      let firstByte = null;
      let bytes = 0;
      let lines = 0;
      res.on('data', (chunk) => {
        firstByte ??= since();
        bytes += chunk.length;
        for (let i = 0; i < chunk.length; i++) if (chunk[i] === 10) lines += 1;
      });
      res.on('end', () => {
        if (res.statusCode !== 200) reject(new Error(`GET ${path}: ${res.statusCode}`));
        else resolve({ firstByte, total: since(), bytes, lines });
      });
      res.on('error', reject);
    });
    req.setTimeout(120000, () => req.destroy(new Error(`GET ${path} timed out after 120 s`)));
    req.on('error', reject);
    req.end();
  });
}

/**
 * GET /login paced (PACED) on the idle app, then while ADMIN_LOOPS loops of the signed-in admin
 * ask one heavy page over and over, for each of HEAVY: the anonymous visitor's p50, p99, max.
 */
async function loginDuringAdminWork(ctx, agent, jar, paths, logger) {
  const during = {};
  const idle = await pacedGets(ctx, '/login', PACED);
  during.idle = summary(idle);
  logger(`growth: GET /login at ${PACED.rate}/s idle: ${JSON.stringify(during.idle)}`);
  for (const name of HEAVY) {
    const path = paths[name];
    if (!path) {
      during[name] = null;
      continue;
    }
    const stop = { requested: false };
    let adminRequests = 0;
    let adminFailed = 0;
    // Each loop ends at its first failure (a reset keep-alive socket is asked again); the failure is thrown below.
    const loops = Array.from({ length: ADMIN_LOOPS }, async () => {
      while (!stop.requested) {
        try {
          if (name === 'csv') await streamed(ctx.port, jar, path);
          else {
            const res = await request({ port: ctx.port, agent, path, jar });
            if (res.status >= 500) adminFailed += 1;
            else expect(res, 200, `GET ${path}`);
          }
          adminRequests += 1;
        } catch (error) {
          if (error.code !== 'ECONNRESET') return error;
        }
      }
      return null;
    });
    await sleep(200); // the admin's requests are under way before the first timed one
    const paced = await pacedGets(ctx, '/login', PACED).finally(() => (stop.requested = true));
    const failure = (await Promise.all(loops)).find(Boolean);
    if (failure) throw failure;
    await sleep(1000); // what the app still had queued is done before the next page
    during[name] = { ...summary(paced), admin_requests: adminRequests, admin_failed: adminFailed };
    logger(`growth: GET /login at ${PACED.rate}/s during ${name} (${path}): ${JSON.stringify(during[name])}`);
  }
  return during;
}

const summary = (paced) => ({
  p50_ms: round(paced.p50),
  p99_ms: round(paced.p99),
  max_ms: round(paced.max),
  count: paced.count,
  retried: paced.retried,
  timed_out: paced.timedOut,
});

// ---------------------------------------------------------------------------------------
// Seeding.

/* prettier-ignore */
const FIRST_NAMES = (
  'James Mary John Patricia Robert Jennifer Michael Linda William Elizabeth David Barbara Richard Susan Joseph Jessica ' +
  'Thomas Sarah Charles Karen Christopher Nancy Daniel Lisa Matthew Betty Anthony Margaret Mark Sandra Donald Ashley ' +
  'Steven Kimberly Paul Emily Andrew Donna Joshua Michelle Kenneth Dorothy Kevin Carol Brian Amanda George Melissa ' +
  'Edward Deborah Ronald Stephanie Timothy Rebecca Jason Sharon Jeffrey Laura Ryan Cynthia Jacob Kathleen Gary Amy ' +
  'Nicholas Shirley Eric Angela Jonathan Helen Stephen Anna Larry Brenda Justin Pamela Scott Nicole Brandon Emma ' +
  'Benjamin Samantha Samuel Katherine Gregory Christine Frank Debra Alexander Rachel Raymond Catherine Patrick Carolyn ' +
  'Jack Janet Dennis Ruth Jerry Maria Tyler Heather Aaron Diane Jose Virginia Adam Julie Henry Joyce Nathan Victoria ' +
  'Douglas Olivia Zachary Kelly Peter Christina Kyle Lauren Walter Joan Ethan Evelyn Jeremy Judith Harold Megan Keith ' +
  'Cheryl Christian Andrea Roger Hannah Noah Martha Gerald Jacqueline Carl Frances Terry Gloria Sean Ann Austin Teresa ' +
  'Arthur Kathryn Lawrence Sara Jesse Janice Dylan Jean Bryan Alice Joe Madison Jordan Doris Billy Abigail Bruce Julia ' +
  'Albert Judy Willie Grace Gabriel Denise Logan Amber Alan Marilyn Juan Beverly Wayne Danielle Roy Theresa Ralph Sophia ' +
  'Randy Marie Eugene Diana Vincent Brittany Russell Natalie Elijah Isabella Louis Charlotte Bobby Rose Philip Alexis ' +
  'Johnny Kayla Zoé Léa Chloé Manon Inès Lucas Hugo Louis Gabriel Arthur Jules Raphaël Léo Mathis Björn Søren Ingrid ' +
  'Åsa Jürgen Małgorzata Wojciech Núria Joaquín Sofía Mateo Valentina Santiago Giulia Lorenzo Francesca Matteo ' +
  'Aiko Haruto Yuna Sota Mei Wei Jun Min-jun Seo-yeon Aarav Priya Arjun Ananya Omar Fatima Youssef Amina Kwame Ama'
).split(' ');
/* prettier-ignore */
const LAST_NAMES = (
  'Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez Wilson Anderson ' +
  'Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez Clark Ramirez Lewis Robinson Walker Young ' +
  'Allen King Wright Scott Torres Nguyen Hill Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter ' +
  'Roberts Gomez Phillips Evans Turner Diaz Parker Cruz Edwards Collins Reyes Stewart Morris Morales Murphy Cook Rogers ' +
  'Gutierrez Ortiz Morgan Cooper Peterson Bailey Reed Kelly Howard Ramos Kim Cox Ward Richardson Watson Brooks Chavez ' +
  'Wood James Bennett Gray Mendoza Ruiz Hughes Price Alvarez Castillo Sanders Patel Myers Long Ross Foster Jimenez ' +
  'Powell Jenkins Perry Russell Sullivan Bell Coleman Butler Henderson Barnes Gonzales Fisher Vasquez Simmons Romero ' +
  'Jordan Patterson Alexander Hamilton Graham Reynolds Griffin Wallace Moreno West Cole Hayes Bryant Herrera Gibson ' +
  'Ellis Tran Medina Aguilar Stevens Murray Ford Castro Marshall Owens Harrison Fernandez McDonald Woods Washington ' +
  'Kennedy Wells Vargas Henry Chen Freeman Webb Tucker Guzman Burns Crawford Olson Simpson Porter Hunter Gordon Mendez ' +
  'Silva Shaw Snyder Mason Dixon Muñoz Hunt Hicks Holmes Palmer Wagner Black Robertson Boyd Rose Stone Salazar Fox ' +
  'Warren Mills Meyer Rice Schmidt Garza Daniels Ferguson Nichols Stephens Soto Weaver Ryan Gardner Payne Grant Dunn ' +
  'Martin Bernard Dubois Durand Lefèvre Moreau Laurent Simon Michel Lefebvre Leroy Roux Müller Schneider Fischer Weber ' +
  'Schäfer Koch Bauer Richter Klein Wolf Schröder Neumann Rossi Russo Ferrari Esposito Bianchi Romano Colombo Ricci ' +
  'Marino Greco Nowak Kowalski Wiśniewski Wójcik Novák Svoboda Dvořák Jensen Nielsen Hansen Pedersen Andersen ' +
  'Johansson Karlsson Nilsson Eriksson Larsson Virtanen Korhonen Sato Suzuki Takahashi Tanaka Watanabe Wang Li Zhang ' +
  'Liu Yang Huang Park Choi Jung Kang Singh Kumar Sharma Gupta Khan Ali Hassan Ibrahim Mensah Okafor Adeyemi Diallo ' +
  "O'Brien O'Connor Van der Berg De Jong Da Silva Dos Santos"
).split(' ');
/** The types of a person's events, per 100 (most sign-ins, some failures, a few locks and changes). */
const EVENT_MIX = Object.entries({
  'login.succeeded': 55,
  'session.logout': 12,
  'login.failed': 14,
  'code.failed': 5,
  'login.passkey_failed': 1,
  'login.locked': 1,
  'code.locked': 1,
  'password.changed': 2,
  'two_factor.setup': 3,
  'recovery_code.used': 1,
  'account.invitation_accepted': 1,
  'two_factor.reset': 1,
  'mail.failed': 1,
  'account.created': 2,
}).flatMap(([type, weight]) => Array(weight).fill(type));
const EVENT_DETAIL = {
  'login.succeeded': (r) => ({ method: r() < 0.9 ? 'totp' : 'password' }),
  'login.failed': () => ({ pool: 'untrusted' }),
  'login.passkey_failed': () => ({ reason: 'unknown passkey' }),
  'login.locked': () => ({ minutes: 15, pool: 'untrusted' }),
  'code.failed': (r) => (r() < 0.2 ? { clockOffsetSeconds: 30 } : {}),
  'code.locked': () => ({ minutes: 15 }),
  'two_factor.setup': () => ({ viaResetLink: false }),
  'two_factor.reset': () => ({ linkId: randomUUID() }),
  'recovery_code.used': (r) => ({ remaining: Math.floor(r() * 10) }),
  'mail.failed': () => ({ template: 'invitation', error: 'connect ECONNREFUSED' }),
  'account.created': () => ({ role: 'member', twoFactorRequired: true }),
};
/** Types an admin does to a person (the actor is then the organizer's admin). */
const BY_ADMIN = new Set(['two_factor.reset', 'account.created']);
const USER_AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148',
  'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0',
];
const DOMAINS = ['example.com', 'example.org', 'example.net', 'tickets.example', 'mail.example'];

/** The columns of the tables seeded, with their PostgreSQL types (for unnest). */
const TABLES = {
  users: {
    id: 'text',
    organizer_id: 'text',
    email: 'text',
    name: 'text',
    role: 'text',
    password_hash: 'text',
    is_active: 'boolean',
    two_factor_required: 'boolean',
    security_stamp: 'text',
    two_factor_deadline: 'bigint',
    last_login_at: 'bigint',
    created_at: 'bigint',
    account_locked_at: 'bigint',
  },
  totp_devices: {
    id: 'text',
    user_id: 'text',
    slot: 'text',
    secret_enc: 'text',
    last_step: 'bigint',
    confirmed_at: 'bigint',
    created_at: 'bigint',
  },
  attempt_counters: {
    key: 'text',
    user_id: 'text',
    reserved_count: 'integer',
    failed_count: 'integer',
    window_started_at: 'bigint',
    locked_until: 'bigint',
    updated_at: 'bigint',
  },
  sessions: { id_hash: 'text', user_id: 'text', data: 'text', expires_at: 'bigint' },
  audit_events: {
    id: 'text',
    organizer_id: 'text',
    user_id: 'text',
    actor_id: 'text',
    type: 'text',
    detail: 'text',
    ip: 'text',
    created_at: 'bigint',
  },
};

/** A small deterministic PRNG (mulberry32): the same people at every run and on both databases. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A UUID in the version 7 layout for `ms` (as the app's timeOrderedId, src/database/columns.ts,
 * but without its per-process counter, which assumes ids are made in time order: these are not).
 */
function uuidV7(ms) {
  const bytes = randomBytes(16);
  bytes.writeUIntBE(ms, 0, 6);
  bytes[6] = 0x70 | (bytes[6] & 0x0f);
  bytes[8] = 0x80 | (bytes[8] & 0x3f);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The rows of `size` people of the admin's organizer, handed to `put(table, row)` (people first, then their events). */
async function generate(admin, size, put, flushEvery) {
  const random = prng(size);
  const pick = (list) => list[Math.floor(random() * list.length)];
  const now = Date.now();
  const sealedVersion = admin.sealedSecret.split('.')[0];
  const rare = new Set(Array.from({ length: RARE_PEOPLE }, (_, k) => Math.floor(((k + 0.5) * size) / RARE_PEOPLE)));
  const counts = { users: 0, totp_devices: 0, attempt_counters: 0, sessions: 0, audit_events: 0, account_locked: 0 };
  const ids = [];
  for (let i = 0; i < size; i++) {
    const id = randomUUID();
    const first = pick(FIRST_NAMES);
    const last = rare.has(i) ? RARE_SURNAME : pick(LAST_NAMES);
    const local = `${first}.${last}`
      .normalize('NFD')
      .replace(/[\u0300-\u036f]/g, '')
      .replace(/[^A-Za-z.-]/g, '')
      .toLowerCase();
    const invited = random() < 0.05; // no password yet
    const required = random() >= 0.1;
    const device = !invited && random() < 0.63;
    const locked = !invited && random() < 0.003;
    const createdAt = now - Math.floor((30 + random() * 700) * DAY);
    put('users', [
      id,
      admin.organizerId,
      `${local}.${i}@${pick(DOMAINS)}`,
      `${first} ${last}`,
      'member',
      invited ? null : admin.passwordHash,
      random() >= 0.02,
      required,
      randomBytes(16).toString('hex'),
      required && !device && random() < 0.5 ? now + Math.floor(random() * 14 * DAY) : null,
      invited ? null : now - Math.floor(random() * 365 * DAY),
      createdAt,
      locked ? now - Math.floor(random() * 30 * DAY) : null,
    ]);
    counts.users += 1;
    if (locked) counts.account_locked += 1;
    if (device) {
      const sealed = [sealedVersion, ...[12, 16, 20].map((n) => randomBytes(n).toString('base64url'))].join('.');
      put('totp_devices', [randomUUID(), id, 'active', sealed, Math.floor(now / 30000) - 100, createdAt, createdAt]);
      counts.totp_devices += 1;
    }
    if (device && random() < 0.003) {
      put('attempt_counters', [`code:${id}`, id, 0, 5, now - 60000, now + 15 * 60000, now - 60000]);
      counts.attempt_counters += 1;
    }
    if (i % USERS_PER_SESSION === 0 && !invited) {
      const startedAt = now - Math.floor(random() * 8 * 3600000);
      const data = {
        cookie: { originalMaxAge: null, expires: null, httpOnly: true, path: '/', sameSite: 'lax', secure: false },
        auth: {
          userId: id,
          stage: 'full',
          stamp: randomBytes(16).toString('hex'),
          startedAt,
          verifiedAt: startedAt,
          client: { userAgent: pick(USER_AGENTS), ip: `203.0.113.${1 + (i % 254)}` },
        },
      };
      const sid = createHash('sha256').update(randomBytes(24)).digest('hex');
      put('sessions', [sid, id, JSON.stringify(data), now + Math.floor((5 + random() * 25) * 60000)]);
      counts.sessions += 1;
    }
    ids.push(id);
    if ((i + 1) % flushEvery === 0) await put.flush?.();
  }
  await put.flush?.();
  // The events in the order they happened, as the app appends them (the tables' physical order
  // and PostgreSQL's correlation statistics as in a real database): exactly EVENTS_PER_USER per
  // person, at times spread over the last year, sorted, dealt to the people shuffled.
  const total = size * EVENTS_PER_USER;
  const times = new Float64Array(total);
  for (let k = 0; k < total; k++) times[k] = now - Math.floor(random() * 365 * DAY);
  times.sort();
  const owners = new Int32Array(total);
  for (let k = 0; k < total; k++) owners[k] = k % size;
  for (let k = total - 1; k > 0; k--) {
    const j = Math.floor(random() * (k + 1));
    [owners[k], owners[j]] = [owners[j], owners[k]];
  }
  // The organizer's 2FA policy was turned on, then off again (its page shows the last change; it is off now).
  const policyChanges = [now - 300 * DAY, now - 40 * DAY];
  let changesPut = 0;
  const putPolicyChange = (at) => {
    const on = changesPut++ === 0;
    const detail = on
      ? { requireTwoFactor: 'on', graceDays: 14, previous: { requireTwoFactor: 'off', graceDays: 0 }, started: at }
      : { requireTwoFactor: 'off', graceDays: 0, previous: { requireTwoFactor: 'on', graceDays: 14 }, cleared: 0 };
    put('audit_events', [
      uuidV7(at),
      admin.organizerId,
      null,
      admin.id,
      'organizer.policy_changed',
      JSON.stringify(detail),
      '198.51.100.1',
      at,
    ]);
    counts.audit_events += 1;
  };
  for (let k = 0; k < total; k++) {
    const id = ids[owners[k]];
    const at = times[k];
    while (policyChanges.length && policyChanges[0] <= at) putPolicyChange(policyChanges.shift());
    const type = pick(EVENT_MIX);
    const detail = EVENT_DETAIL[type]?.(random);
    put('audit_events', [
      uuidV7(at),
      admin.organizerId,
      id,
      BY_ADMIN.has(type) ? admin.id : id,
      type,
      detail && Object.keys(detail).length ? JSON.stringify(detail) : null,
      `198.51.100.${1 + Math.floor(random() * 254)}`,
      at,
    ]);
    counts.audit_events += 1;
    if ((k + 1) % (flushEvery * EVENTS_PER_USER) === 0) await put.flush?.();
  }
  policyChanges.forEach(putPolicyChange);
  await put.flush?.();
  return counts;
}

/** The bulk load, in one transaction, on the migrated database of `env`. */
async function seedUsers(database, env, admin, size) {
  if (database === 'sqlite') {
    const Database = require('better-sqlite3');
    const db = new Database(join(env.DATA_DIR, 'backoffice.sqlite'), { fileMustExist: true });
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('cache_size = -262144'); // 256 MB for this connection only: the load's index pages stay in memory
      const statements = Object.fromEntries(
        Object.entries(TABLES).map(([table, columns]) => {
          const names = Object.keys(columns);
          const sql = `INSERT INTO "${table}" (${names.map((n) => `"${n}"`).join(', ')}) VALUES (${names.map(() => '?').join(', ')})`;
          return [table, db.prepare(sql)];
        }),
      );
      const sqliteValue = (v) => (typeof v === 'boolean' ? Number(v) : v);
      const put = (table, row) => statements[table].run(row.map(sqliteValue));
      db.exec('BEGIN');
      try {
        const counts = await generate(admin, size, put, size);
        db.exec('COMMIT');
        return counts;
      } catch (error) {
        db.exec('ROLLBACK');
        throw error;
      }
    } finally {
      db.close();
    }
  }
  const { Client } = require('pg');
  const client = new Client({ connectionString: env.DATABASE_URL });
  await client.connect();
  try {
    const buffers = Object.fromEntries(Object.keys(TABLES).map((table) => [table, []]));
    const flushTable = async (table) => {
      const rows = buffers[table];
      if (!rows.length) return;
      buffers[table] = [];
      const columns = Object.entries(TABLES[table]);
      const sql =
        `INSERT INTO "${table}" (${columns.map(([n]) => `"${n}"`).join(', ')}) ` +
        `SELECT * FROM unnest(${columns.map(([, type], k) => `$${k + 1}::${type}[]`).join(', ')})`;
      await client.query(
        sql,
        columns.map((_, k) => rows.map((row) => row[k])),
      );
    };
    const put = (table, row) => buffers[table].push(row);
    // Parents first: every table but users refers to a user.
    put.flush = async () => {
      for (const table of Object.keys(TABLES)) await flushTable(table);
    };
    await client.query('SET statement_timeout = 0');
    await client.query('BEGIN');
    let counts;
    try {
      counts = await generate(admin, size, put, 250);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
    // What autovacuum would do after such a load (the app's start analyzes only after migrating).
    await client.query('VACUUM ANALYZE');
    return counts;
  } finally {
    await client.end();
  }
}

/**
 * node bench/growth.js --seed-admin=<file>, with the app's environment: migrates the database
 * as the app does at start, then creates the organizer and its admin through the app's
 * services (password, active TOTP device sealed with the app's KeyRing as the setup page
 * does), and writes what the bench needs to sign in and to seed the organizer's users.
 */
async function seedAdmin(file) {
  require('reflect-metadata');
  const { writeFileSync } = require('node:fs');
  const dist = join(DIST_MAIN, '..');
  const { NestFactory } = require('@nestjs/core');
  const { DataSource } = require('typeorm');
  const { AppModule } = require(join(dist, 'app.module'));
  const { AppConfig } = require(join(dist, 'config', 'app-config'));
  const { runPendingMigrations } = require(join(dist, 'database', 'migrate'));
  const { KeyRing } = require(join(dist, 'common', 'crypto', 'key-ring'));
  const { OrganizersService } = require(join(dist, 'organizers', 'organizers.service'));
  const { UsersService } = require(join(dist, 'users', 'users.service'));
  const { generateTotpSecret } = require(join(dist, 'two-factor', 'totp'));
  const { TotpDevice } = require(join(dist, 'two-factor', 'totp-device.entity'));
  const { User } = require(join(dist, 'users', 'user.entity'));
  const config = AppConfig.fromEnv(process.env);
  const context = await NestFactory.createApplicationContext(AppModule.forRoot({ config }), {
    logger: ['error', 'warn'],
  });
  try {
    const dataSource = context.get(DataSource);
    await runPendingMigrations(dataSource);
    const organizer = await context.get(OrganizersService).create('Growth Events');
    const admin = await context.get(UsersService).create({
      organizerId: organizer.id,
      email: 'ada.admin@growth-events.example',
      name: 'Ada Admin',
      role: 'admin',
      twoFactorRequired: true,
      password: PASSWORD,
    });
    const secret = generateTotpSecret();
    const sealedSecret = context.get(KeyRing).encrypt(secret, `totp:${admin.id}`);
    const devices = dataSource.getRepository(TotpDevice);
    await devices.insert(
      devices.create({
        id: randomUUID(),
        userId: admin.id,
        slot: 'active',
        secretEnc: sealedSecret,
        lastStep: null,
        confirmedAt: new Date(),
        createdAt: new Date(),
      }),
    );
    const { passwordHash } = await dataSource.getRepository(User).findOneByOrFail({ id: admin.id });
    writeFileSync(
      file,
      JSON.stringify({
        organizerId: organizer.id,
        id: admin.id,
        email: admin.email,
        secret,
        sealedSecret,
        passwordHash,
      }),
    );
  } finally {
    await context.close();
  }
}

// ---------------------------------------------------------------------------------------
// The tables.

const DB_LABEL = { sqlite: 'SQLite', postgres: 'PostgreSQL' };
const sizeLabel = (size) => (size >= 1000 ? `${size / 1000}k` : String(size));
const mark = (goal, value) => (Number.isFinite(value) ? `${value}${GOALS[goal].ok(value) ? ' ✓' : ' ✗'}` : '–');
const cell = (value) => (value === null || value === undefined ? 'n/a' : String(value));

/**
 * The growth table in markdown (README-ready): page × size × database, median ms, and the
 * ratio of the 100k (else the largest) to the smallest size against ≤ ×2; then the CSV export
 * and GET /login p99 while an admin works, at the largest size.
 */
function growthTable(growth) {
  const kinds = Object.keys(growth.databases);
  if (!kinds.length) return '';
  const sizes = growth.sizes;
  const small = sizes[0];
  const big = sizes.includes(100000) ? 100000 : sizes[sizes.length - 1];
  const largest = sizes[sizes.length - 1];
  const columns = kinds.flatMap((k) => [
    ...sizes.map((s) => `${DB_LABEL[k]} ${sizeLabel(s)}`),
    `${DB_LABEL[k]} ${sizeLabel(big)}/${sizeLabel(small)}`,
  ]);
  const header = `| page (median ms) | ${columns.join(' | ')} |`;
  const rule = `| --- | ${columns.map(() => '---:').join(' | ')} |`;
  const ratioOf = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? round(a / b, 2) : null);
  // `failures` (of a page): {status: count} of answers ≥ 500, shown beside the time; such a page misses its goal.
  const row = (label, pick, goal = 'ratio', failures = () => undefined) =>
    `| ${label} | ${kinds
      .flatMap((k) => {
        const measured = sizes.map((s) => growth.databases[k][s]);
        const values = measured.map(pick);
        const failed = measured.map(failures);
        const ratio = ratioOf(values[sizes.indexOf(big)], values[0]);
        const cells = values.map(
          (v, i) =>
            cell(v) +
            (failed[i]
              ? ` (${Object.entries(failed[i])
                  .map(([status, n]) => `${n}× ${status}`)
                  .join(', ')})`
              : ''),
        );
        const anyFailed = failed.some(Boolean);
        if (!goal) return [...cells, ''];
        return [...cells, ratio === null ? 'n/a' : anyFailed ? `×${ratio} ✗` : `×${mark(goal, ratio)}`];
      })
      .join(' | ')} |`;
  const lines = [
    `Growth (goal: ${sizeLabel(big)}/${sizeLabel(small)} ${GOALS.ratio.goal}; ${growth.runs} requests each after 2 warm-ups; phase ${growth.seconds} s)`,
    '',
    header,
    rule,
    ...PAGES.map(([name, label]) =>
      row(
        label,
        (m) => m.pages[name]?.median_ms ?? null,
        'ratio',
        (m) => m.pages[name]?.failed,
      ),
    ),
    row('CSV export, first byte', (m) => m.csv.first_byte_ms),
    row('CSV export, whole', (m) => m.csv.total_ms),
    row('CSV export, app RSS growth (MB)', (m) => m.csv.rss_growth_mb, null),
    row('seeding (s)', (m) => m.seed_seconds, null),
  ];
  const at = (k) => growth.databases[k][largest];
  const columns2 = kinds.map((k) => DB_LABEL[k]);
  lines.push(
    '',
    `At ${sizeLabel(largest)} users: the CSV export, and GET /login at ${PACED.rate}/s for ${PACED.seconds} s while ${ADMIN_LOOPS} admin loops ask a page`,
    '',
    `| figure | goal | ${columns2.join(' | ')} |`,
    `| --- | --- | ${columns2.map(() => '---:').join(' | ')} |`,
    `| CSV first byte (ms) | ${GOALS.csv_first_byte_ms.goal} | ${kinds.map((k) => mark('csv_first_byte_ms', at(k).csv.first_byte_ms)).join(' | ')} |`,
    `| CSV app RSS growth (MB) | ${GOALS.csv_rss_growth_mb.goal} | ${kinds.map((k) => mark('csv_rss_growth_mb', at(k).csv.rss_growth_mb)).join(' | ')} |`,
    `| GET /login idle: p50 / p99 / max (ms) | | ${kinds.map((k) => triple(at(k).during?.idle)).join(' | ')} |`,
  );
  for (const name of HEAVY) {
    const label = name === 'csv' ? 'the CSV export' : (PAGES.find(([n]) => n === name)?.[1] ?? name);
    lines.push(
      `| GET /login p99 during ${label} (p50 / max; admin requests) | ${GOALS.login_p99_during_ms.goal} | ${kinds
        .map((k) => {
          const d = at(k).during?.[name];
          return d
            ? `${mark('login_p99_during_ms', d.p99_ms)} (${d.p50_ms} / ${d.max_ms}; ${d.admin_requests}${d.admin_failed ? `, ${d.admin_failed} failed` : ''}${d.timed_out ? `; ${d.timed_out} of ${d.count} unanswered after ${PACED.timeoutMs / 1000} s` : ''})`
            : 'n/a';
        })
        .join(' | ')} |`,
    );
  }
  return lines.join('\n');
}

const triple = (d) => (d ? `${d.p50_ms} / ${d.p99_ms} / ${d.max_ms}` : 'n/a');

module.exports = { growthPhase, growthTable };

if (require.main === module) {
  const seedAdminFile = option('seed-admin', null);
  const run = seedAdminFile
    ? seedAdmin(seedAdminFile)
    : (async () => {
        const results = { startedAt: new Date().toISOString(), growth: await growthPhase() };
        const file = writeResults('growth', results);
        console.log('\n' + growthTable(results.growth));
        log(`wrote ${file}`);
      })();
  run.catch((error) => {
    console.error(error && error.stack ? error.stack : error);
    process.exit(1);
  });
}
