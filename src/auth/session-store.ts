import type { Request } from 'express';
import { createHash } from 'node:crypto';
import { SessionData, Store } from 'express-session';
import { LessThan, MoreThan, Not, Repository } from 'typeorm';
import { Clock } from '../common/clock';
import { PreparedSql } from '../database/prepared-sql';
import { SessionRecord } from './session.entity';

/** 30 minutes without a request ends a session (ASVS 3.3.2). */
export const SESSION_IDLE_MS = 30 * 60 * 1000;
/** A session whose expiry moved less than this is not rewritten on every request. */
const TOUCH_INTERVAL_MS = 60 * 1000;

/**
 * The session cookie (SECURITY.md 16): HttpOnly, SameSite=Lax, Path=/, and `__Host-` with
 * Secure when served over https.
 */
export function sessionCookie(config: { secureCookies: boolean }) {
  return {
    name: config.secureCookies ? '__Host-tixngo.sid' : 'tixngo.sid',
    options: { httpOnly: true, sameSite: 'lax' as const, secure: config.secureCookies, path: '/' },
  };
}

/** The row key of a session id: its SHA-256 (the id itself is never stored). */
export const idHash = (sid: string): string => createHash('sha256').update(sid).digest('hex');

/**
 * express-session store on the app's database (never the memory store), so sessions
 * are shared by every instance. The cookie's id is stored only as a SHA-256: a read of
 * the table does not yield usable session ids. Rows carry the user id, so every session
 * of a user can be ended with one DELETE. The statements run on every request, so they
 * are prepared once (database/prepared-sql.ts); the rare bulk deletes use the repository.
 */
export class DatabaseSessionStore extends Store {
  /** What each session object last wrote (cookie aside), so saving it unchanged writes nothing. */
  private readonly written = new WeakMap<object, string>();

  constructor(
    private readonly sql: PreparedSql,
    private readonly sessions: Repository<SessionRecord>,
    private readonly clock: Clock,
  ) {
    super();
  }

  get(sid: string, callback: (err: unknown, session?: SessionData | null) => void): void {
    this.sql
      .get('SELECT "data", "expires_at" FROM "sessions" WHERE "id_hash" = ?', [idHash(sid)])
      .then((row) => {
        const expiresAt = row ? Number(row.expires_at) : 0;
        if (!row || expiresAt <= this.clock.nowMs()) return callback(null, null);
        const data = JSON.parse(row.data as string) as SessionData & { __expiresAt?: number };
        data.__expiresAt = expiresAt;
        callback(null, data);
      })
      .catch((error) => callback(error));
  }

  /**
   * express-session saves a regenerated session again when the response ends even after
   * an explicit save (its "already saved" check compares the id from before regenerate),
   * so an unchanged session is not written a second time. A session read from a row is
   * written back only onto that row: if the row was deleted meanwhile (signed out from
   * another device), a request still in flight cannot bring the session back.
   */
  set(sid: string, session: SessionData, callback?: (err?: unknown) => void): void {
    const { __expiresAt: loadedExpiry, ...data } = session as SessionData & { __expiresAt?: number };
    const { cookie: _cookie, ...content } = data;
    const fingerprint = sid + JSON.stringify(content);
    if (this.written.get(session) === fingerprint) {
      callback?.();
      return;
    }
    const values = [data.auth?.userId ?? null, JSON.stringify(data), this.clock.nowMs() + SESSION_IDLE_MS];
    const write =
      loadedExpiry !== undefined
        ? this.sql.run('UPDATE "sessions" SET "user_id" = ?, "data" = ?, "expires_at" = ? WHERE "id_hash" = ?', [
            ...values,
            idHash(sid),
          ])
        : this.sql.run(
            'INSERT INTO "sessions" ("id_hash", "user_id", "data", "expires_at") VALUES (?, ?, ?, ?) ' +
              'ON CONFLICT ("id_hash") DO UPDATE SET "user_id" = excluded."user_id", "data" = excluded."data", "expires_at" = excluded."expires_at"',
            [idHash(sid), ...values],
          );
    write
      .then(() => {
        this.written.set(session, fingerprint);
        callback?.();
      })
      .catch((error) => callback?.(error));
  }

  /** Moves the idle expiry forward; skipped when it moved less than a minute ago. */
  touch(sid: string, session: SessionData, callback?: (err?: unknown) => void): void {
    const expiresAt = this.clock.nowMs() + SESSION_IDLE_MS;
    const previous = (session as SessionData & { __expiresAt?: number }).__expiresAt;
    if (previous !== undefined && expiresAt - previous < TOUCH_INTERVAL_MS) {
      callback?.();
      return;
    }
    this.sql
      .run('UPDATE "sessions" SET "expires_at" = ? WHERE "id_hash" = ?', [expiresAt, idHash(sid)])
      .then(() => callback?.())
      .catch((error) => callback?.(error));
  }

  /**
   * A new id for the request's session (each sign-in step). The old row is deleted, unless
   * the session never had one: a visitor's first POST (the password step) comes without a
   * session, and there is nothing to delete.
   */
  regenerate(req: Request, callback: (err?: unknown) => void): void {
    const session = req.session as (SessionData & { __expiresAt?: number }) | undefined;
    if (session && session.__expiresAt === undefined && !this.written.has(session)) {
      // express-session gives every store its generate() (a new id, an empty session).
      (this as unknown as { generate(req: Request): void }).generate(req);
      callback();
      return;
    }
    super.regenerate(req, callback);
  }

  destroy(sid: string, callback?: (err?: unknown) => void): void {
    this.sql
      .run('DELETE FROM "sessions" WHERE "id_hash" = ?', [idHash(sid)])
      .then(() => callback?.())
      .catch((error) => callback?.(error));
  }

  /** Ends every session of a user, on every instance. */
  async destroyAllForUser(userId: string): Promise<void> {
    await this.sessions.delete({ userId });
  }

  /** The unexpired rows of a user's sessions, with their data ("Your sessions"; a rare read, not per request). */
  async listForUser(userId: string): Promise<{ idHash: string; data: SessionData; expiresAt: number }[]> {
    const rows = await this.sessions.find({ where: { userId, expiresAt: MoreThan(new Date(this.clock.nowMs())) } });
    return rows.flatMap((row) => {
      try {
        return [{ idHash: row.idHash, data: JSON.parse(row.data) as SessionData, expiresAt: row.expiresAt.getTime() }];
      } catch {
        return [];
      }
    });
  }

  /** Deletes one session of a user, found by its row key; another user's row is left alone. Returns whether one went. */
  async destroyForUser(userId: string, rowKey: string): Promise<boolean> {
    const result = await this.sessions.delete({ userId, idHash: rowKey });
    return (result.affected ?? 0) > 0;
  }

  /** Deletes every session of a user except the one with row key `keep`; returns how many went. */
  async destroyOthersForUser(userId: string, keep: string): Promise<number> {
    const result = await this.sessions.delete({ userId, idHash: Not(keep) });
    return result.affected ?? 0;
  }

  /** Deletes expired rows; returns how many. */
  async prune(): Promise<number> {
    const result = await this.sessions.delete({ expiresAt: LessThan(new Date(this.clock.nowMs())) });
    return result.affected ?? 0;
  }
}
