'use strict';
/**
 * npm run bench: how fast and how cheap sign-in is, next to baselines measured in the
 * same run (issue 6). Runs the BUILT app (dist/), never builds it.
 *
 * For each database (SQLite, then PostgreSQL when 127.0.0.1:5432 answers):
 *   1. a fresh DATA_DIR (and a throw-away PostgreSQL database), N users seeded through
 *      the app's services with TOTP secrets the bench knows (bench/seed.js);
 *   2. `node dist/main.js` in a child process (NODE_ENV=production), on 127.0.0.1;
 *   3. the figures below, each against a baseline measured in the same run, in
 *      alternating rounds because this machine is shared and noisy.
 *
 * Options: --no-pg (SQLite only) · --pg (fail when PostgreSQL is not reachable) ·
 * --pg-only · --app-env=NAME=VALUE (extra app environment, e.g. DB_POOL_SIZE=30) ·
 * --quick (short rounds, 2,000 sessions scaled to 10,000; for trying things out) ·
 * --only=a,b (phases: costs, pages, dashboard, logins, during, journey, rss, growth) ·
 * --profile (a CPU profile of the app during each phase, in bench/results/profiles;
 * read one with node bench/profile-summary.js <file>).
 *
 * The growth phase (bench/growth.js, issue 16) runs apart, on its own seeded organizers of
 * 1k and 100k users: every admin page of a list or a log at each size, the CSV export, and
 * GET /login p99 while an admin works. Its options: --scale (adds 300k) · --sizes=1000,100000 ·
 * --runs=11 (requests per page).
 */
const { spawn, execFileSync } = require('node:child_process');
const { existsSync, mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } = require('node:fs');
const os = require('node:os');
const { join } = require('node:path');
const { setTimeout: sleep } = require('node:timers/promises');
const { setTimeout, clearTimeout } = require('node:timers');
const { CookieJar, keepAliveAgent, request, csrfFrom, percentile, median } = require('./lib/http');
const { passwordStep, fullJourney, pacedGets, expect } = require('./lib/journey');
const { growthPhase, growthTable } = require('./growth');
const { ROOT, DIST_MAIN, startApp, stopChild, runNode, freePort, rssMb, askApp, tail } = require('./lib/processes');

const RESULTS_DIR = join(__dirname, 'results');
const APP_SECRET = 'bench-app-secret-' + 'f'.repeat(40);

const args = process.argv.slice(2);
const flag = (name) => args.includes(`--${name}`);
const onlyArg = args.find((a) => a.startsWith('--only='));
const ONLY = onlyArg ? new Set(onlyArg.slice('--only='.length).split(',')) : null;
const QUICK = flag('quick');
/** --app-env=NAME=VALUE (repeatable): extra environment for the app, e.g. DB_POOL_SIZE=30, to try a setting. */
const APP_ENV = Object.fromEntries(
  args
    .filter((a) => a.startsWith('--app-env='))
    .map((a) => {
      const [name, ...value] = a.slice('--app-env='.length).split('=');
      return [name, value.join('=')];
    }),
);
const PROFILE = flag('profile');

/** Sizes of every phase: all loops are bounded by these counts. */
const PLAN = {
  seededUsers: QUICK ? 600 : 1500,
  // Many short alternating rounds follow the machine's changing load better than a few long ones.
  rounds: QUICK ? 5 : 7,
  pageSeconds: 2,
  pageConnections: 10,
  loginSeconds: QUICK ? 2 : 2.5,
  loginConcurrency: 4,
  pacedRate: 100,
  pacedSeconds: QUICK ? 4 : 8,
  saturatingLogins: 8,
  journeys: QUICK ? 300 : 1000,
  journeyConcurrency: 50,
  journeyMaxSeconds: QUICK ? 30 : 60,
  journeysAlone: QUICK ? 30 : 100,
  sessions: QUICK ? 2000 : 10000,
  // On a machine busy with other work 10,000 sign-ins can take many minutes: stop there and scale.
  sessionsMaxSeconds: QUICK ? 30 : 100,
  // The control: sign-ins of unknown emails (the same hash work, no session), per 10,000.
  failedMaxSeconds: QUICK ? 15 : 40,
};

const GOALS = {
  login_page_ratio: { goal: '≥ 0.7', ok: (v) => v >= 0.7 },
  dashboard_ratio: { goal: '≥ 0.5', ok: (v) => v >= 0.5 },
  login_vs_hash: { goal: '≥ 0.85', ok: (v) => v >= 0.85 },
  verify_p99_ms: { goal: '≤ 25 ms', ok: (v) => v <= 25 },
  login_page_p99_during_logins_ms: { goal: '≤ 50 ms', ok: (v) => v <= 50 },
  full_journey_per_s: { goal: 'report', ok: null },
  rss_growth_mb_per_10k_sessions: { goal: '≤ 30', ok: (v) => v <= 30 },
};

/** Undo steps of whatever is running (children, temp dirs, databases), run on Ctrl-C too. */
const cleanups = new Set();
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, async () => {
    console.error(`\nbench: ${signal}, cleaning up`);
    for (const cleanup of [...cleanups].reverse()) await cleanup().catch(() => undefined);
    process.exit(130);
  });
}
async function withCleanup(cleanup, work) {
  cleanups.add(cleanup);
  try {
    return await work();
  } finally {
    cleanups.delete(cleanup);
    await cleanup();
  }
}

const log = (...parts) =>
  console.log(`[bench ${new Date().toISOString().slice(11, 19)} load ${os.loadavg()[0].toFixed(1)}]`, ...parts);
const round = (value, digits = 2) => (Number.isFinite(value) ? Number(value.toFixed(digits)) : value);
const runs = (phase) => !ONLY || ONLY.has(phase);
/** Whether any phase of the sign-in app (seeded through the services, with baselines) is asked, or only growth. */
const signInPhases = !ONLY || [...ONLY].some((phase) => phase !== 'growth');

async function main() {
  if (!existsSync(DIST_MAIN)) {
    console.error(
      'bench: dist/main.js is missing: run npm run build first (the bench measures the built app and builds nothing).',
    );
    process.exit(1);
  }
  mkdirSync(RESULTS_DIR, { recursive: true });
  const machine = machineInfo();
  log(
    `machine: ${machine.cpus} × ${machine.cpuModel}, ${machine.memory}, node ${machine.node}, load ${machine.loadAverage.join(' ')}`,
  );

  const databases = flag('pg-only') ? [] : ['sqlite'];
  const pgReachable = !flag('no-pg') && (await postgresReachable());
  if ((flag('pg') || flag('pg-only')) && !pgReachable)
    throw new Error('--pg: PostgreSQL is not reachable on 127.0.0.1:5432 (user postgres)');
  if (pgReachable) databases.push('postgres');
  else log(flag('no-pg') ? 'PostgreSQL skipped (--no-pg)' : 'PostgreSQL not reachable on 127.0.0.1:5432: SQLite only');

  const results = {
    startedAt: new Date().toISOString(),
    machine,
    plan: { ...PLAN, quick: QUICK, appEnv: APP_ENV },
    goals: Object.fromEntries(Object.entries(GOALS).map(([k, v]) => [k, v.goal])),
    databases: {},
  };
  if (signInPhases) {
    // Bare Express + hbs (every ratio's denominator), and bare NestJS + helmet (the framework's floor, login page only).
    const baseline = {
      ...(await startBaseline('baseline-server.js')),
      nest: await startBaseline('nest-baseline-server.js'),
    };
    await withCleanup(
      () => Promise.all([stopChild(baseline.child), stopChild(baseline.nest.child)]),
      async () => {
        for (const kind of databases) {
          const started = Date.now();
          results.databases[kind] = await benchDatabase(kind, baseline);
          results.databases[kind].benchSeconds = round((Date.now() - started) / 1000, 1);
        }
      },
    );
  }
  if (runs('growth')) results.growth = await growthPhase({ databases, logger: log });
  results.finishedAt = new Date().toISOString();
  const file = join(RESULTS_DIR, 'latest.json');
  writeFileSync(file, JSON.stringify(results, null, 2) + '\n');
  if (signInPhases) console.log('\n' + table(results));
  if (results.growth) console.log('\n' + growthTable(results.growth));
  log(`wrote ${file}`);
}

// ---------------------------------------------------------------------------------------
// One database: seed, start the app, measure, clean up.

async function benchDatabase(kind, baseline) {
  log(`=== ${kind} ===`);
  const dataDir = mkdtempSync(join(os.tmpdir(), `tixngo-bench-${kind}-`));
  return withCleanup(
    async () => rmSync(dataDir, { recursive: true, force: true }),
    async () => {
      if (kind !== 'postgres') return benchApp(kind, baseline, dataDir, null);
      const pg = await createPostgresDatabase();
      return withCleanup(
        () => dropPostgresDatabase(pg),
        () => benchApp(kind, baseline, dataDir, pg),
      );
    },
  );
}

async function benchApp(kind, baseline, dataDir, pg) {
  const port = await freePort();
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME ?? os.tmpdir(),
    NODE_ENV: 'production',
    SEED_DEMO_DATA: 'false',
    APP_SECRET,
    DATA_DIR: dataDir,
    PORT: String(port),
    // Every sign-in of the bench comes from 127.0.0.1, which stands for many people here: the
    // per-client limit (20 unsettled or wrong passwords) would answer the 50 journeys at once with 429.
    CLIENT_MAX_FAILURES: '1000000',
    ...(pg ? { DATABASE_URL: pg.url } : {}),
    ...APP_ENV,
  };
  const usersFile = join(dataDir, 'bench-users.json');
  const seedStarted = Date.now();
  await runNode([join(__dirname, 'seed.js'), String(PLAN.seededUsers), usersFile], env, 'seed');
  const seeded = JSON.parse(readFileSync(usersFile, 'utf8'));
  log(`seeded ${seeded.users.length} users with 2FA in ${((Date.now() - seedStarted) / 1000).toFixed(1)} s`);

  const app = await startApp(env, dataDir, port, log);
  return withCleanup(
    () => stopChild(app.child),
    async () => {
      try {
        const ctx = {
          kind,
          port,
          pid: app.child.pid,
          child: app.child,
          baseline,
          password: seeded.password,
          users: seeded.users,
          nextFresh: 0,
          dataDir,
          pg,
        };
        const figures = { database: kind, loadAverageAtStart: os.loadavg().map((l) => round(l)) };
        await warmUp(ctx);
        figures.app_threads = threadNiceness(ctx.pid);
        if (runs('costs')) Object.assign(figures, await profiled(ctx, 'costs', () => costsPhase(ctx)));
        if (runs('rss')) Object.assign(figures, await rssPhase(ctx));
        if (runs('pages'))
          Object.assign(figures, await profiled(ctx, 'pages', () => pageRatio(ctx, '/login', 'login_page', null)));
        if (runs('dashboard')) {
          const signedIn = await fullJourney(ctx, ctx.users[takeFresh(ctx)], keepAliveAgent(1));
          const cookie = signedIn.jar.header();
          Object.assign(figures, await profiled(ctx, 'dashboard', () => pageRatio(ctx, '/', 'dashboard', cookie)));
        }
        if (runs('logins')) Object.assign(figures, await profiled(ctx, 'logins', () => loginVsHash(ctx)));
        if (runs('during')) Object.assign(figures, await profiled(ctx, 'during', () => pageDuringLogins(ctx)));
        if (runs('journey')) Object.assign(figures, await profiled(ctx, 'journey', () => journeyPhase(ctx)));
        figures.loadAverageAtEnd = os.loadavg().map((l) => round(l));
        return figures;
      } catch (error) {
        log(`app log (last lines):\n${tail(app.logFile)}`);
        throw error;
      }
    },
  );
}

/** JIT, view cache, connection pools and the hash threads' memory, before anything is timed. */
async function warmUp(ctx) {
  const autocannon = require('autocannon');
  await autocannon({ url: `http://127.0.0.1:${ctx.port}/login`, connections: 4, duration: 1 });
  await autocannon({ url: `http://127.0.0.1:${ctx.baseline.port}/login`, connections: 4, duration: 1 });
  await autocannon({ url: `http://127.0.0.1:${ctx.baseline.nest.port}/login`, connections: 4, duration: 1 });
  await runLogins(ctx, { count: 40, concurrency: PLAN.saturatingLogins });
  const agent = keepAliveAgent(4);
  await Promise.all([0, 1, 2, 3].map(() => fullJourney(ctx, ctx.users[takeFresh(ctx)], agent)));
  agent.destroy();
}

// ---------------------------------------------------------------------------------------
// Figures.

/** App req/s ÷ bare Express req/s for the same page, in alternating rounds; the median round ratio. */
async function pageRatio(ctx, path, name, cookie) {
  const autocannon = require('autocannon');
  const measure = async (port, pid) => {
    const cpuBefore = cpuMs(pid);
    const result = await autocannon({
      url: `http://127.0.0.1:${port}${path}`,
      connections: PLAN.pageConnections,
      duration: PLAN.pageSeconds,
      headers: cookie ? { cookie } : {},
    });
    const good = result['2xx'];
    if (result.non2xx || result.errors || result.timeouts) {
      throw new Error(
        `${path} on port ${port}: ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts`,
      );
    }
    return { perSecond: good / result.duration, cpuMicrosPerRequest: ((cpuMs(pid) - cpuBefore) * 1000) / good };
  };
  // The login page is also measured on bare NestJS + helmet: the framework's share of the gap.
  const sides = name === 'login_page' ? ['app', 'baseline', 'nest'] : ['app', 'baseline'];
  const servers = {
    app: [ctx.port, ctx.pid],
    baseline: [ctx.baseline.port, ctx.baseline.child.pid],
    nest: [ctx.baseline.nest.port, ctx.baseline.nest.child.pid],
  };
  const rounds = [];
  for (let r = 0; r < PLAN.rounds; r++) {
    // Alternate which goes first, so a slow spell of the machine hits every side alike.
    const order = r % 2 === 0 ? sides : [...sides].reverse();
    const row = {};
    for (const side of order) row[side] = await measure(...servers[side]);
    row.ratio = row.app.perSecond / row.baseline.perSecond;
    row.cpuRatio = row.baseline.cpuMicrosPerRequest / row.app.cpuMicrosPerRequest;
    if (row.nest) row.nestRatio = row.nest.perSecond / row.baseline.perSecond;
    rounds.push(row);
    log(
      `${name} round ${r + 1}: app ${row.app.perSecond.toFixed(0)} req/s (${row.app.cpuMicrosPerRequest.toFixed(0)} µs CPU each), ` +
        `bare Express ${row.baseline.perSecond.toFixed(0)} req/s (${row.baseline.cpuMicrosPerRequest.toFixed(0)} µs), ratio ${row.ratio.toFixed(3)}` +
        (row.nest
          ? `; bare NestJS + helmet ${row.nest.perSecond.toFixed(0)} req/s (${row.nest.cpuMicrosPerRequest.toFixed(0)} µs), ratio ${row.nestRatio.toFixed(3)}`
          : ''),
    );
  }
  const nestFigures = sides.includes('nest')
    ? {
        [`${name}_bare_nest_ratio`]: round(median(rounds.map((r) => r.nestRatio)), 3),
        [`${name}_bare_nest_cpu_us`]: round(median(rounds.map((r) => r.nest.cpuMicrosPerRequest)), 0),
      }
    : {};
  return {
    [`${name}_ratio`]: round(median(rounds.map((r) => r.ratio)), 3),
    [`${name}_app_req_s`]: round(median(rounds.map((r) => r.app.perSecond)), 0),
    [`${name}_baseline_req_s`]: round(median(rounds.map((r) => r.baseline.perSecond)), 0),
    // The same comparison in server CPU time per request (/proc): less sensitive to other load on the machine.
    [`${name}_cpu_ratio`]: round(median(rounds.map((r) => r.cpuRatio)), 3),
    [`${name}_app_cpu_us`]: round(median(rounds.map((r) => r.app.cpuMicrosPerRequest)), 0),
    [`${name}_baseline_cpu_us`]: round(median(rounds.map((r) => r.baseline.cpuMicrosPerRequest)), 0),
    ...nestFigures,
    [`${name}_rounds`]: rounds.map((r) => ({
      app: round(r.app.perSecond, 0),
      baseline: round(r.baseline.perSecond, 0),
      ratio: round(r.ratio, 3),
      appCpuUs: round(r.app.cpuMicrosPerRequest, 0),
      baselineCpuUs: round(r.baseline.cpuMicrosPerRequest, 0),
      ...(r.nest ? { bareNest: round(r.nest.perSecond, 0), bareNestCpuUs: round(r.nest.cpuMicrosPerRequest, 0) } : {}),
    })),
  };
}

/** Full POST /login per second at concurrency 4 ÷ bare argon2id hashes per second at concurrency 4. */
async function loginVsHash(ctx) {
  const rounds = [];
  for (let r = 0; r < PLAN.rounds; r++) {
    const order = r % 2 === 0 ? ['hash', 'app'] : ['app', 'hash'];
    const row = {};
    for (const side of order) {
      if (side === 'hash') {
        const out = await runNode(
          [join(__dirname, 'hash-baseline.js'), String(PLAN.loginSeconds), String(PLAN.loginConcurrency)],
          { PATH: process.env.PATH },
          'hash baseline',
        );
        const result = JSON.parse(out.trim().split('\n').pop());
        row.hash = result.perSecond;
        row.hashThreadNice = [...new Set(result.threadNice)];
      } else {
        const logins = await cannonLogins(ctx, { concurrency: PLAN.loginConcurrency, seconds: PLAN.loginSeconds });
        row.app = logins.perSecond;
        row.driverCpuUs = logins.driverCpuUsPerSignIn;
        row.loopCpuUs = logins.loopCpuUsPerSignIn;
        row.appCpuUs = logins.appCpuUsPerSignIn;
      }
    }
    row.ratio = row.app / row.hash;
    rounds.push(row);
    log(
      `logins round ${r + 1}: app ${row.app.toFixed(1)} logins/s, @node-rs/argon2 ${row.hash.toFixed(1)} hashes/s, ratio ${row.ratio.toFixed(3)}; ` +
        `CPU per sign-in: event loop ${row.loopCpuUs.toFixed(0)} µs, whole app ${row.appCpuUs.toFixed(0)} µs, load generator ${row.driverCpuUs.toFixed(0)} µs`,
    );
  }
  return {
    login_vs_hash: round(median(rounds.map((r) => r.ratio)), 3),
    logins_per_s: round(median(rounds.map((r) => r.app)), 1),
    hashes_per_s: round(median(rounds.map((r) => r.hash)), 1),
    // CPU per sign-in (GET /login + POST /login): the load generator, the app's event loop, the whole app (hashing included).
    login_driver_cpu_us: round(median(rounds.map((r) => r.driverCpuUs)), 0),
    login_loop_cpu_us: round(median(rounds.map((r) => r.loopCpuUs)), 0),
    login_app_cpu_us: round(median(rounds.map((r) => r.appCpuUs)), 0),
    login_rounds: rounds.map((r) => ({
      app: round(r.app, 1),
      hash: round(r.hash, 1),
      ratio: round(r.ratio, 3),
      driverCpuUs: round(r.driverCpuUs, 0),
      hashThreadNice: r.hashThreadNice,
    })),
  };
}

/**
 * GET /login at a steady 100 requests/s (open loop: one is sent every 10 ms whatever the
 * answers do), first on the idle app, then while 8 sign-ins at a time keep every hash
 * thread busy. The p99 of the second run is the figure; the first is its baseline.
 */
async function pageDuringLogins(ctx) {
  const idle = await pacedGets(ctx, '/login', { rate: PLAN.pacedRate, seconds: PLAN.pacedSeconds });
  log(`GET /login at ${PLAN.pacedRate}/s, idle app: p50 ${idle.p50.toFixed(1)} ms, p99 ${idle.p99.toFixed(1)} ms`);
  const stop = { requested: false };
  const logins = runLogins(ctx, { count: 100000, concurrency: PLAN.saturatingLogins, stop });
  await sleep(1000); // the hash pool is full before the first timed request
  const busy = await pacedGets(ctx, '/login', { rate: PLAN.pacedRate, seconds: PLAN.pacedSeconds });
  stop.requested = true;
  const done = await logins;
  log(
    `GET /login at ${PLAN.pacedRate}/s during ${done.count} sign-ins (${done.perSecond.toFixed(1)}/s): p50 ${busy.p50.toFixed(1)} ms, p99 ${busy.p99.toFixed(1)} ms, max ${busy.max.toFixed(1)} ms`,
  );
  return {
    login_page_p99_during_logins_ms: round(busy.p99, 1),
    login_page_p50_during_logins_ms: round(busy.p50, 1),
    login_page_max_during_logins_ms: round(busy.max, 1),
    login_page_p99_idle_ms: round(idle.p99, 1),
    logins_per_s_during: round(done.perSecond, 1),
  };
}

/**
 * 50 people signing in at once, each with a user no one used before in this run (a TOTP
 * step is accepted once per user): GET /login, POST /login, GET /2fa/verify, POST
 * /2fa/verify with the current code, GET /. Only POST /2fa/verify is timed for the p99.
 */
async function journeyPhase(ctx) {
  // The floor this machine sets: the same journey by one person at a time.
  const alone = [];
  const single = keepAliveAgent(1);
  for (let i = 0; i < PLAN.journeysAlone; i++)
    alone.push((await fullJourney(ctx, ctx.users[takeFresh(ctx)], single)).verifyMs);
  single.destroy();
  log(
    `${alone.length} journeys one at a time: POST /2fa/verify p50 ${percentile(alone, 50).toFixed(1)} ms, p99 ${percentile(alone, 99).toFixed(1)} ms`,
  );

  const agent = keepAliveAgent(PLAN.journeyConcurrency);
  const verifyMs = [];
  let started = 0;
  let timeUp = false;
  const timer = setTimeout(() => (timeUp = true), PLAN.journeyMaxSeconds * 1000);
  const begin = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: PLAN.journeyConcurrency }, async () => {
      while (started < PLAN.journeys && !timeUp) {
        started += 1;
        const result = await fullJourney(ctx, ctx.users[takeFresh(ctx)], agent);
        verifyMs.push(result.verifyMs);
      }
    }),
  ).finally(() => clearTimeout(timer));
  const seconds = Number(process.hrtime.bigint() - begin) / 1e9;
  agent.destroy();
  const perSecond = verifyMs.length / seconds;
  log(
    `${verifyMs.length} journeys by ${PLAN.journeyConcurrency} people: ${perSecond.toFixed(1)}/s; POST /2fa/verify p50 ${percentile(verifyMs, 50).toFixed(1)} ms, p99 ${percentile(verifyMs, 99).toFixed(1)} ms`,
  );
  return {
    verify_p99_ms: round(percentile(verifyMs, 99), 1),
    verify_p50_ms: round(percentile(verifyMs, 50), 1),
    verify_max_ms: round(Math.max(...verifyMs), 1),
    verify_p99_alone_ms: round(percentile(alone, 99), 1),
    verify_p50_alone_ms: round(percentile(alone, 50), 1),
    full_journey_per_s: round(perSecond, 1),
    journeys: verifyMs.length,
  };
}

/**
 * Where the CPU of one sign-in goes, step by step, one person at a time: the app's event
 * loop thread (/proc/<pid>/task/<pid>/schedstat, in ns), the whole app process (hash
 * threads included) and this process, the load generator. Not a goal: the diagnosis
 * behind the ratios above.
 */
async function costsPhase(ctx) {
  const steps = ['GET /login', 'POST /login', 'GET /2fa/verify', 'POST /2fa/verify', 'GET /'];
  const totals = Object.fromEntries(steps.map((s) => [s, { loop: 0, driver: 0 }]));
  const agent = keepAliveAgent(1);
  const journeys = QUICK ? 100 : 250;
  const appBefore = cpuMs(ctx.pid);
  for (let i = 0; i < journeys; i++) {
    await fullJourney(ctx, ctx.users[takeFresh(ctx)], agent, (step, measure) => {
      const loop = loopNs(ctx.pid);
      const driver = process.cpuUsage();
      return measure().then((res) => {
        totals[step].loop += loopNs(ctx.pid) - loop;
        const used = process.cpuUsage(driver);
        totals[step].driver += (used.user + used.system) * 1000;
        return res;
      });
    });
  }
  agent.destroy();
  const appMsPerJourney = (cpuMs(ctx.pid) - appBefore) / journeys;
  const perStep = Object.fromEntries(
    steps.map((s) => [
      s,
      { loopUs: round(totals[s].loop / journeys / 1000, 0), driverUs: round(totals[s].driver / journeys / 1000, 0) },
    ]),
  );
  log(
    `${journeys} journeys one at a time, µs per request (app event loop / load generator): ${steps.map((s) => `${s} ${perStep[s].loopUs} / ${perStep[s].driverUs}`).join(', ')}; whole app ${appMsPerJourney.toFixed(1)} ms per journey`,
  );
  return { cost_per_step_us: perStep, cost_app_ms_per_journey: round(appMsPerJourney, 1) };
}

/** CPU time of the app's event loop thread so far, in ns (the first field of schedstat). */
function loopNs(pid) {
  return Number(readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').split(' ')[0]);
}

/**
 * Resident memory of the app after 10,000 more sessions (one sign-in each) minus before.
 * Runs right after the warm-up, before the 50-user phases swell the heap. Every reading
 * follows a full GC in the app (bench/lib/app-hook.js), so it compares what the sessions
 * keep rather than where the last collection happened to be; a reading after each fifth
 * of the sign-ins gives a least-squares slope beside the end-to-end figure, because argon2's
 * 19 MiB blocks make the allocator's footprint jump by tens of MB either way.
 */
async function rssPhase(ctx) {
  await sleep(1000);
  const rawBefore = rssMb(ctx.pid);
  const before = await collectGarbage(ctx);
  const rowsBefore = await countSessions(ctx);
  const samples = [{ sessions: 0, ...before }];
  const started = Date.now();
  let signIns = 0;
  for (let part = 1; part <= 5; part++) {
    const secondsLeft = PLAN.sessionsMaxSeconds - (Date.now() - started) / 1000;
    if (secondsLeft <= 0) break;
    const done = await runLogins(ctx, {
      count: PLAN.sessions / 5,
      concurrency: PLAN.loginConcurrency,
      maxSeconds: secondsLeft,
    });
    signIns += done.count;
    samples.push({ sessions: signIns, ...(await collectGarbage(ctx)) });
  }
  const seconds = (Date.now() - started) / 1000;
  const after = samples[samples.length - 1];
  const rawAfter = rssMb(ctx.pid);
  const created = (await countSessions(ctx)) - rowsBefore;
  if (created !== signIns) throw new Error(`${signIns} sign-ins but ${created} new session rows`);
  const per10k = (mb) => (mb * 10000) / created;
  const slope = leastSquaresSlope(samples.map((s) => [s.sessions, s.rss]));
  const mb = (s) => `${s.rss.toFixed(1)} (heap ${s.heapTotal.toFixed(1)}, used ${s.heapUsed.toFixed(1)})`;
  log(
    `${created} new sessions in ${seconds.toFixed(0)} s (${(created / seconds).toFixed(1)} sign-ins/s): RSS after GC ${samples.map(mb).join(' → ')} MB; raw RSS ${rawBefore.toFixed(1)} (before GC) → ${rawAfter.toFixed(1)} MB`,
  );

  // The control: the same sign-in work with no session made, to tell the sessions' memory from the hashing's.
  const failed = await runLogins(ctx, {
    count: PLAN.sessions,
    concurrency: PLAN.loginConcurrency,
    maxSeconds: PLAN.failedMaxSeconds,
    unknownEmails: true,
  });
  const afterFailed = await collectGarbage(ctx);
  if ((await countSessions(ctx)) - rowsBefore !== created) throw new Error('a failed sign-in made a session');
  const controlPer10k = ((afterFailed.rss - after.rss) * 10000) / failed.count;
  log(
    `control: ${failed.count} sign-ins with unknown emails (no session): RSS after GC ${mb(after)} → ${mb(afterFailed)} MB, ${controlPer10k.toFixed(1)} MB per 10,000`,
  );
  return {
    rss_growth_mb_per_10k_sessions: round(per10k(after.rss - before.rss), 1),
    rss_slope_mb_per_10k_sessions: round(slope * 10000, 1),
    heap_used_growth_mb_per_10k_sessions: round(per10k(after.heapUsed - before.heapUsed), 1),
    rss_growth_mb_per_10k_failed_sign_ins: round(controlPer10k, 1),
    failed_sign_ins: failed.count,
    rss_samples_mb: samples.map((s) => ({
      sessions: s.sessions,
      rss: round(s.rss, 1),
      heapTotal: round(s.heapTotal, 1),
      heapUsed: round(s.heapUsed, 1),
      external: round(s.external, 1),
    })),
    rss_before_mb: round(before.rss, 1),
    rss_after_mb: round(after.rss, 1),
    rss_raw_before_mb: round(rawBefore, 1),
    rss_raw_after_mb: round(rawAfter, 1),
    sessions_created: created,
    sign_ins_per_s_during_rss: round(created / seconds, 1),
    ...(created !== 10000
      ? {
          rss_note: `measured over ${created} sessions (${PLAN.sessionsMaxSeconds} s limit or --quick), scaled to 10,000`,
        }
      : {}),
  };
}

function leastSquaresSlope(points) {
  const n = points.length;
  const mx = points.reduce((a, [x]) => a + x, 0) / n;
  const my = points.reduce((a, [, y]) => a + y, 0) / n;
  const sxx = points.reduce((a, [x]) => a + (x - mx) ** 2, 0);
  return sxx ? points.reduce((a, [x, y]) => a + (x - mx) * (y - my), 0) / sxx : NaN;
}

/** A full GC in the app, then its RSS (from /proc, as the kernel counts it) and heap, in MB. */
async function collectGarbage(ctx) {
  const { memoryUsage } = await ask(ctx, 'gc');
  const mb = (bytes) => bytes / 2 ** 20;
  return {
    rss: rssMb(ctx.pid),
    heapTotal: mb(memoryUsage.heapTotal),
    heapUsed: mb(memoryUsage.heapUsed),
    external: mb(memoryUsage.external),
  };
}

/** Sends a message to bench/lib/app-hook.js in the app and waits for its answer. */
const ask = (ctx, message) => askApp(ctx.child, message);

/** With --profile, a CPU profile of the app during one phase: bench/results/profiles/<db>-<phase>.cpuprofile. */
async function profiled(ctx, phase, work) {
  if (!PROFILE) return work();
  const dir = join(RESULTS_DIR, 'profiles');
  mkdirSync(dir, { recursive: true });
  await ask(ctx, { profile: 'start' });
  try {
    return await work();
  } finally {
    const file = join(dir, `${ctx.kind}-${phase}.cpuprofile`);
    await ask(ctx, { profile: 'stop', file });
    log(`profile: ${file} (node bench/profile-summary.js ${file})`);
  }
}

// ---------------------------------------------------------------------------------------
// Load drivers.

/**
 * Password sign-ins (GET /login for the token, then POST /login), `concurrency` at a time:
 * `count` of them, or fewer when `maxSeconds` pass or `stop.requested` is set first.
 */
async function runLogins(
  ctx,
  { count, concurrency, stop = { requested: false }, maxSeconds = Infinity, unknownEmails = false },
) {
  const agent = keepAliveAgent(concurrency);
  let started = 0;
  let done = 0;
  let userIndex = 0;
  const begin = process.hrtime.bigint();
  const timer = Number.isFinite(maxSeconds) ? setTimeout(() => (stop.requested = true), maxSeconds * 1000) : null;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (started < count && !stop.requested) {
        started += 1;
        if (unknownEmails) await unknownEmailStep(ctx, agent);
        else await passwordStep(ctx, ctx.users[userIndex++ % ctx.users.length], new CookieJar(), agent);
        done += 1;
      }
    }),
  ).finally(() => timer && clearTimeout(timer));
  const seconds = Number(process.hrtime.bigint() - begin) / 1e9;
  agent.destroy();
  return { count: done, seconds, perSecond: done / seconds };
}

/**
 * Sign-ins as fast as `concurrency` connections allow for `seconds`, driven by autocannon:
 * each connection loops GET /login (a fresh visitor: its CSRF cookie and token) then POST
 * /login with the next seeded user, and every answer is checked (303 → /2fa/verify). A
 * lighter load generator than the cookie-jar client above, which matters here: it shares
 * the 2 cores with the hashing it measures. Its own CPU per sign-in is reported.
 */
async function cannonLogins(ctx, { concurrency, seconds }) {
  const autocannon = require('autocannon');
  let next = 0;
  const problems = [];
  const header = (headers, name) => {
    const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
    return key === undefined ? undefined : headers[key];
  };
  const cpuBefore = process.cpuUsage();
  const loopBefore = loopNs(ctx.pid);
  const appBefore = cpuMs(ctx.pid);
  const result = await autocannon({
    url: `http://127.0.0.1:${ctx.port}`,
    connections: concurrency,
    duration: seconds,
    requests: [
      {
        method: 'GET',
        path: '/login',
        setupRequest: (req, context) => {
          context.user = ctx.users[next++ % ctx.users.length];
          return { ...req, headers: { accept: 'text/html' } };
        },
        onResponse: (status, body, context, headers) => {
          if (status !== 200) problems.push(`GET /login ${status}`);
          context.csrf = csrfFrom(body);
          context.cookie = []
            .concat(header(headers, 'set-cookie') ?? [])
            .map((c) => c.split(';')[0])
            .join('; ');
        },
      },
      {
        method: 'POST',
        path: '/login',
        setupRequest: (req, context) => ({
          ...req,
          headers: { accept: 'text/html', cookie: context.cookie, 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({
            _csrf: context.csrf,
            next: '',
            email: context.user.email,
            password: ctx.password,
          }).toString(),
        }),
        onResponse: (status, _body, _context, headers) => {
          if (status !== 303 || header(headers, 'location') !== '/2fa/verify')
            problems.push(`POST /login ${status} → ${header(headers, 'location')}`);
        },
      },
    ],
  });
  const cpu = process.cpuUsage(cpuBefore);
  const loopUs = (loopNs(ctx.pid) - loopBefore) / 1000;
  const appUs = (cpuMs(ctx.pid) - appBefore) * 1000;
  if (problems.length || result.errors || result.timeouts) {
    throw new Error(
      `autocannon sign-ins: ${result.errors} errors, ${result.timeouts} timeouts, ${problems.slice(0, 3).join('; ')}`,
    );
  }
  const signIns = result['3xx'];
  return {
    count: signIns,
    perSecond: signIns / result.duration,
    driverCpuUsPerSignIn: (cpu.user + cpu.system) / signIns,
    loopCpuUsPerSignIn: loopUs / signIns,
    appCpuUsPerSignIn: appUs / signIns,
  };
}

/** A sign-in with an email no account has: the same hash work (a dummy hash), no session. */
async function unknownEmailStep(ctx, agent) {
  const jar = new CookieJar();
  const page = await request({ port: ctx.port, agent, path: '/login', jar });
  expect(page, 200, 'GET /login');
  ctx.unknown = (ctx.unknown ?? 0) + 1;
  const email = `nobody-${ctx.unknown}@example.com`;
  const login = await request({
    port: ctx.port,
    agent,
    method: 'POST',
    path: '/login',
    jar,
    form: { _csrf: csrfFrom(page.body), next: '', email, password: ctx.password },
  });
  expect(login, 401, 'POST /login with an unknown email');
}

/** A seeded user whose TOTP step has not been used in this run. */
function takeFresh(ctx) {
  if (ctx.nextFresh >= ctx.users.length)
    throw new Error(`more than ${ctx.users.length} sign-ins with a code: seed more users`);
  return ctx.nextFresh++;
}

// ---------------------------------------------------------------------------------------
// Processes, ports, databases, machine.

async function startBaseline(script) {
  const port = await freePort();
  const child = spawn(process.execPath, [join(__dirname, script), String(port)], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} did not start within 10 s`)), 10000);
    child.stdout.once('data', () => {
      clearTimeout(timer);
      resolve();
    });
    child.once('exit', (code) => reject(new Error(`${script} exited (${code})`)));
  });
  return { child, port };
}

/** How many threads of the app run at which niceness, e.g. {"main": 0, "others": {"10": 11}}. */
function threadNiceness(pid) {
  const others = {};
  for (const entry of readdirSync(`/proc/${pid}/task`)) {
    if (Number(entry) === pid) continue;
    try {
      const nice = os.getPriority(Number(entry));
      others[nice] = (others[nice] ?? 0) + 1;
    } catch {
      // the thread ended meanwhile
    }
  }
  return { main: os.getPriority(pid), others };
}

/** User + system CPU time of a process so far, in ms (/proc/<pid>/stat, clock ticks of 10 ms). */
function cpuMs(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function countSessions(ctx) {
  if (ctx.pg) {
    const { Client } = require('pg');
    const client = new Client({ connectionString: ctx.pg.url });
    await client.connect();
    try {
      return Number((await client.query('SELECT count(*) AS n FROM sessions')).rows[0].n);
    } finally {
      await client.end();
    }
  }
  const Database = require('better-sqlite3');
  const db = new Database(join(ctx.dataDir, 'backoffice.sqlite'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT count(*) AS n FROM sessions').get().n;
  } finally {
    db.close();
  }
}

const PG_ADMIN = {
  host: '127.0.0.1',
  port: 5432,
  user: 'postgres',
  database: 'postgres',
  connectionTimeoutMillis: 2000,
};

async function postgresReachable() {
  const { Client } = require('pg');
  const client = new Client(PG_ADMIN);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function withPgAdmin(work) {
  const { Client } = require('pg');
  const client = new Client(PG_ADMIN);
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

async function createPostgresDatabase() {
  const name = `tixngo_bench_${process.pid}_${Date.now()}`;
  await withPgAdmin((client) => client.query(`CREATE DATABASE ${name}`));
  log(`created throw-away PostgreSQL database ${name}`);
  return { name, url: `postgres://postgres@127.0.0.1:5432/${name}` };
}

async function dropPostgresDatabase(pg) {
  await withPgAdmin((client) => client.query(`DROP DATABASE IF EXISTS ${pg.name} WITH (FORCE)`));
  log(`dropped ${pg.name}`);
}

function machineInfo() {
  let memory = `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`;
  try {
    const line = execFileSync('free', ['-h'], { encoding: 'utf8' })
      .split('\n')
      .find((l) => l.startsWith('Mem:'));
    if (line) memory = `${line.split(/\s+/)[1]} RAM (free -h)`;
  } catch {
    // free(1) missing: os.totalmem() above
  }
  return {
    cpus: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memory,
    node: process.version,
    platform: `${os.type()} ${os.release()}`,
    loadAverage: os.loadavg().map((l) => round(l)),
  };
}

// ---------------------------------------------------------------------------------------
// The table.

function table(results) {
  const kinds = Object.keys(results.databases);
  const cell = (kind, figure) => {
    const value = results.databases[kind][figure];
    if (value === undefined) return '–';
    const rule = GOALS[figure];
    const mark = rule.ok ? (rule.ok(value) ? ' ✓' : ' ✗') : '';
    return `${value}${mark}`;
  };
  const header = `| figure | goal | ${kinds.map((k) => (k === 'sqlite' ? 'SQLite' : 'PostgreSQL')).join(' | ')} |`;
  const rule = `| --- | --- | ${kinds.map(() => '---').join(' | ')} |`;
  const rows = Object.keys(GOALS).map(
    (figure) => `| \`${figure}\` | ${GOALS[figure].goal} | ${kinds.map((k) => cell(k, figure)).join(' | ')} |`,
  );
  const detail = (label, pick) => `| ${label} | | ${kinds.map((k) => pick(results.databases[k])).join(' | ')} |`;
  const extra = [
    detail('GET /login req/s: app / bare Express', (d) =>
      d.login_page_app_req_s ? `${d.login_page_app_req_s} / ${d.login_page_baseline_req_s}` : '–',
    ),
    detail('GET /login CPU µs/req: app / bare (ratio)', (d) =>
      d.login_page_app_cpu_us
        ? `${d.login_page_app_cpu_us} / ${d.login_page_baseline_cpu_us} (${d.login_page_cpu_ratio})`
        : '–',
    ),
    detail('GET /login on bare NestJS + helmet: ratio to bare Express; CPU µs/req', (d) =>
      d.login_page_bare_nest_ratio ? `${d.login_page_bare_nest_ratio}; ${d.login_page_bare_nest_cpu_us}` : '–',
    ),
    detail('GET / req/s: app / bare Express', (d) =>
      d.dashboard_app_req_s ? `${d.dashboard_app_req_s} / ${d.dashboard_baseline_req_s}` : '–',
    ),
    detail('GET / CPU µs/req: app / bare (ratio)', (d) =>
      d.dashboard_app_cpu_us
        ? `${d.dashboard_app_cpu_us} / ${d.dashboard_baseline_cpu_us} (${d.dashboard_cpu_ratio})`
        : '–',
    ),
    detail('logins/s / argon2id hashes/s (c = 4)', (d) =>
      d.logins_per_s ? `${d.logins_per_s} / ${d.hashes_per_s}` : '–',
    ),
    detail('GET /login p99 idle (ms)', (d) => d.login_page_p99_idle_ms ?? '–'),
    detail('POST /2fa/verify p50; p50 / p99 one user at a time (ms)', (d) =>
      d.verify_p50_ms ? `${d.verify_p50_ms}; ${d.verify_p50_alone_ms} / ${d.verify_p99_alone_ms}` : '–',
    ),
    detail('RSS after GC before → after (MB; sessions)', (d) =>
      d.rss_before_mb ? `${d.rss_before_mb} → ${d.rss_after_mb} (${d.sessions_created})` : '–',
    ),
    detail('RSS slope; JS heap growth; control without sessions (MB per 10k)', (d) =>
      d.rss_before_mb
        ? `${d.rss_slope_mb_per_10k_sessions}; ${d.heap_used_growth_mb_per_10k_sessions}; ${d.rss_growth_mb_per_10k_failed_sign_ins}`
        : '–',
    ),
  ];
  const m = results.machine;
  const machine = `Machine: ${m.cpus} × ${m.cpuModel}, ${m.memory}, Node ${m.node}, ${m.platform}; load average at start ${m.loadAverage.join(' ')}${results.plan.quick ? ' (QUICK run: shorter rounds)' : ''}.`;
  return [header, rule, ...rows, ...extra].join('\n') + '\n\n' + machine;
}

main().catch((error) => {
  console.error(`bench failed: ${error && error.stack ? error.stack : error}`);
  process.exit(1);
});
