import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config';
import type { FinishedRequest } from './logging';

/**
 * The outcome of one password step (POST /login, and the password asked on a Resend QR link):
 * `succeeded` means the password was right (a second factor may still be owed).
 */
export const SIGN_IN_OUTCOMES = ['succeeded', 'wrong-password', 'locked', 'client-locked', 'account-locked'] as const;
export type SignInOutcome = (typeof SIGN_IN_OUTCOMES)[number];

/** How a person ended up fully signed in. */
export const SIGN_IN_METHODS = ['password', 'totp', 'recovery-code', 'passkey', 'passkey-only', 'setup'] as const;
export type SignInMetricMethod = (typeof SIGN_IN_METHODS)[number];

/** The second factors whose checks are counted, and what a check can come to. */
export const CODE_FACTORS = ['totp', 'recovery', 'passkey'] as const;
export type CodeFactor = (typeof CODE_FACTORS)[number];
export const CODE_OUTCOMES = ['ok', 'wrong', 'replayed', 'locked'] as const;
export type CodeMetricOutcome = (typeof CODE_OUTCOMES)[number];

/** What a lock was about: an account's passwords, a client address's sign-ins, an account's codes. */
export const LOCK_KINDS = ['password', 'client', 'code'] as const;
export type LockKind = (typeof LOCK_KINDS)[number];

export const HASH_OPERATIONS = ['hash', 'verify'] as const;
export type HashOperation = (typeof HASH_OPERATIONS)[number];

/** The methods the request-time histogram names; any other is `other`, so its labels stay bounded. */
const HTTP_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/**
 * What the mail outbox tells the metrics (its worker registers one with `watchOutbox`): how many
 * messages are in each state now. Asked only when /metrics is scraped.
 */
export interface OutboxMetricsSource {
  countsByState(): Promise<Record<string, number>>;
}

/** One pg Pool's counts, as pg exposes them. */
interface PgPool {
  totalCount: number;
  idleCount: number;
  waitingCount: number;
}

/**
 * The app's Prometheus metrics (issue 15), in a registry of its own (not prom-client's global
 * one: several apps may run in one process, as in the tests). Features record through the small
 * methods below; each outcome is a label child made once, so recording on the sign-in path is
 * one addition, no lookup by label.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  private readonly signIns = new Counter({
    name: 'tixngo_sign_ins_total',
    help: 'Password steps (POST /login and the password on a Resend QR link) by outcome; succeeded = right password',
    labelNames: ['outcome'],
    registers: [this.registry],
  });
  private readonly signInChildren = children(SIGN_IN_OUTCOMES, (outcome) => zero(this.signIns.labels(outcome)));

  private readonly signedIn = new Counter({
    name: 'tixngo_signed_in_total',
    help: 'People fully signed in, by the last step they passed',
    labelNames: ['method'],
    registers: [this.registry],
  });
  private readonly signedInChildren = children(SIGN_IN_METHODS, (method) => zero(this.signedIn.labels(method)));

  private readonly codes = new Counter({
    name: 'tixngo_codes_total',
    help: 'Second-factor checks (TOTP codes, recovery codes, passkeys) by factor and outcome',
    labelNames: ['factor', 'outcome'],
    registers: [this.registry],
  });
  private readonly codeChildren = children(CODE_FACTORS, (factor) =>
    children(CODE_OUTCOMES, (outcome) => zero(this.codes.labels(factor, outcome))),
  );

  private readonly locks = new Counter({
    name: 'tixngo_locks_total',
    help: 'Locks started by too many failures, by kind (an account’s passwords, a client address, an account’s codes)',
    labelNames: ['kind'],
    registers: [this.registry],
  });
  private readonly lockChildren = children(LOCK_KINDS, (kind) => zero(this.locks.labels(kind)));

  private readonly passwordHash = new Histogram({
    name: 'tixngo_password_hash_seconds',
    help: 'Time of one argon2id hash or verification',
    labelNames: ['operation'],
    buckets: [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  private readonly hashChildren = children(HASH_OPERATIONS, (operation) => this.passwordHash.labels(operation));

  private readonly httpDuration = new Histogram({
    name: 'tixngo_http_request_duration_seconds',
    help: 'Time to answer a request, by method, route pattern and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  private readonly outboxFailures = new Counter({
    name: 'tixngo_outbox_failures_total',
    help: 'Emails the outbox gave up on (marked failed)',
    registers: [this.registry],
  });
  private outboxSource?: OutboxMetricsSource;

  constructor(config: AppConfig, dataSource: DataSource) {
    collectDefaultMetrics({ register: this.registry });
    const source = () => this.outboxSource;
    new Gauge({
      name: 'tixngo_outbox_messages',
      help: 'Emails in the outbox by state',
      labelNames: ['state'],
      registers: [this.registry],
      async collect() {
        this.reset();
        const counts = await source()?.countsByState();
        for (const [state, count] of Object.entries(counts ?? {})) this.set({ state }, count);
      },
    });
    const postgres = config.databaseKind === 'postgres';
    new Gauge({
      name: 'tixngo_db_pool_connections',
      help: postgres
        ? 'PostgreSQL pool connections: total open, idle, and requests waiting for one'
        : 'SQLite: one connection, used synchronously (no idle or waiting counts)',
      labelNames: ['state'],
      registers: [this.registry],
      collect() {
        if (!dataSource.isInitialized) return;
        const pool = postgres ? (dataSource.driver as unknown as { master?: PgPool }).master : undefined;
        if (pool) {
          this.set({ state: 'total' }, pool.totalCount);
          this.set({ state: 'idle' }, pool.idleCount);
          this.set({ state: 'waiting' }, pool.waitingCount);
        } else {
          this.set({ state: 'total' }, 1);
        }
      },
    });
    new Gauge({
      name: 'tixngo_db_pool_max',
      help: 'The most connections the pool opens (DB_POOL_SIZE on PostgreSQL; 1 on SQLite)',
      registers: [this.registry],
    }).set(postgres ? config.dbPoolSize : 1);
  }

  /** One password step's outcome. */
  signIn(outcome: SignInOutcome): void {
    this.signInChildren[outcome].inc();
  }

  /** A person is fully signed in. */
  signedInWith(method: SignInMetricMethod): void {
    this.signedInChildren[method].inc();
  }

  /** One second-factor check. */
  code(factor: CodeFactor, outcome: CodeMetricOutcome): void {
    this.codeChildren[factor][outcome].inc();
  }

  /** A lock started. */
  lock(kind: LockKind): void {
    this.lockChildren[kind].inc();
  }

  /** Times one argon2id operation; the promise's result is passed through. */
  async timeHash<T>(operation: HashOperation, work: () => Promise<T>): Promise<T> {
    const started = process.hrtime.bigint();
    try {
      return await work();
    } finally {
      this.hashChildren[operation].observe(Number(process.hrtime.bigint() - started) / 1e9);
    }
  }

  /** A finished request (called by the request log). */
  request({ method, route, status, seconds }: FinishedRequest): void {
    this.httpDuration.observe(
      { method: HTTP_METHODS.has(method) ? method : 'other', route, status: String(status) },
      seconds,
    );
  }

  /** The outbox's counts by state, read at each scrape (the outbox worker calls this once). */
  watchOutbox(source: OutboxMetricsSource): void {
    this.outboxSource = source;
  }

  /** An email the outbox gave up on. */
  outboxFailed(): void {
    this.outboxFailures.inc();
  }

  /** The text a scrape gets, and its content type. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

/** A counter's child shown from the first scrape, at 0 (so `rate()` and alerts see it before its first event). */
function zero<C extends { inc(value?: number): void }>(child: C): C {
  child.inc(0);
  return child;
}

/** One value per name, made once (the label children of a counter). */
function children<K extends string, V>(names: readonly K[], make: (name: K) => V): Record<K, V> {
  return Object.fromEntries(names.map((name) => [name, make(name)])) as Record<K, V>;
}
