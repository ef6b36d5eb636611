import { Injectable, OnModuleInit, Optional } from '@nestjs/common';
import { hash, verify } from '@node-rs/argon2';
import { readdirSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { MetricsService } from '../operations/metrics.service';

/** OWASP Password Storage: argon2id, m = 19 MiB, t = 2, p = 1. */
export const ARGON2_OPTIONS = {
  // Algorithm.Argon2id: the package exports a const enum, which isolated compilation cannot inline.
  algorithm: 2,
  memoryCost: 19456,
  timeCost: 2,
  parallelism: 1,
} as const;

/**
 * The one password hasher. @node-rs/argon2 runs on the libuv thread pool, so hashing
 * never blocks the event loop; it measured 2.4× faster than `argon2` on this machine.
 * Each hash and verification is timed (tixngo_password_hash_seconds), the dummy one too.
 */
@Injectable()
export class PasswordHasher implements OnModuleInit {
  /** A real hash of a random password: verified against when the email is unknown, so timing matches. */
  private dummyHash = '';

  constructor(@Optional() private readonly metrics?: MetricsService) {}

  async onModuleInit(): Promise<void> {
    this.dummyHash = await hash(`dummy-${Math.random()}-${Date.now()}`, ARGON2_OPTIONS);
    // The hash above started the libuv pool, so its threads exist now.
    yieldThreadsToEventLoop();
  }

  hash(password: string): Promise<string> {
    return this.timed('hash', () => hash(password, ARGON2_OPTIONS));
  }

  /**
   * Verifies a password against a stored hash; with no hash (unknown email, invitation not
   * accepted) it still does the same work against a dummy and answers false (SECURITY.md 4).
   */
  async verify(storedHash: string | null | undefined, password: string): Promise<boolean> {
    if (!storedHash) {
      await this.timed('verify', () => verify(this.dummyHash, password).catch(() => false));
      return false;
    }
    try {
      return await this.timed('verify', () => verify(storedHash, password));
    } catch {
      return false;
    }
  }

  private timed<T>(operation: 'hash' | 'verify', work: () => Promise<T>): Promise<T> {
    return this.metrics ? this.metrics.timeHash(operation, work) : work();
  }
}

/** The niceness of every thread but the event loop's (Linux): they get a core only after it. */
export const BACKGROUND_NICE = 10;

/**
 * Off the event loop is not enough when sign-ins keep more hashes running than there are
 * cores: the four libuv threads hashing at full speed get as much CPU as the event loop,
 * and every page waits its turn (bench, issue 6: GET /login p99 of seconds during a burst
 * of sign-ins on 2 cores). On Linux each thread has its own niceness, so every thread but
 * the main one (the libuv pool running argon2, V8's helpers) is lowered to nice 10: the
 * event loop gets a core first and hashing uses the rest. Best effort: elsewhere, or when
 * /proc is unreadable, nothing changes.
 */
export function yieldThreadsToEventLoop(): void {
  if (process.platform !== 'linux') return;
  try {
    for (const entry of readdirSync('/proc/self/task')) {
      const thread = Number(entry);
      if (thread !== process.pid && getPriority(thread) < BACKGROUND_NICE) setPriority(thread, BACKGROUND_NICE);
    }
  } catch {
    // No /proc, a thread that just ended, or a sandbox refusing setpriority: keep the defaults.
  }
}
