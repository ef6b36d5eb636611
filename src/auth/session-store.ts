import { createHash } from 'node:crypto';
import { SessionData, Store } from 'express-session';
import { LessThan, Repository } from 'typeorm';
import { Clock } from '../common/clock';
import { SessionRecord } from './session.entity';

/** 30 minutes without a request ends a session (ASVS 3.3.2). */
export const SESSION_IDLE_MS = 30 * 60 * 1000;
/** A session whose expiry moved less than this is not rewritten on every request. */
const TOUCH_INTERVAL_MS = 60 * 1000;

const idHash = (sid: string): string => createHash('sha256').update(sid).digest('hex');

/**
 * express-session store on the app's database (never the memory store), so sessions
 * are shared by every instance. The cookie's id is stored only as a SHA-256: a read of
 * the table does not yield usable session ids. Rows carry the user id, so every session
 * of a user can be ended with one DELETE.
 */
export class TypeOrmSessionStore extends Store {
  constructor(
    private readonly sessions: Repository<SessionRecord>,
    private readonly clock: Clock,
  ) {
    super();
  }

  get(sid: string, callback: (err: unknown, session?: SessionData | null) => void): void {
    this.sessions
      .findOneBy({ idHash: idHash(sid) })
      .then((row) => {
        if (!row || row.expiresAt.getTime() <= this.clock.nowMs()) return callback(null, null);
        const data = JSON.parse(row.data) as SessionData & { __expiresAt?: number };
        data.__expiresAt = row.expiresAt.getTime();
        callback(null, data);
      })
      .catch((error) => callback(error));
  }

  set(sid: string, session: SessionData, callback?: (err?: unknown) => void): void {
    const { __expiresAt: _ignored, ...data } = session as SessionData & { __expiresAt?: number };
    const record: SessionRecord = {
      idHash: idHash(sid),
      userId: data.auth?.userId ?? null,
      data: JSON.stringify(data),
      expiresAt: new Date(this.clock.nowMs() + SESSION_IDLE_MS),
    };
    this.sessions
      .upsert(record, ['idHash'])
      .then(() => callback?.())
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
    this.sessions
      .update({ idHash: idHash(sid) }, { expiresAt: new Date(expiresAt) })
      .then(() => callback?.())
      .catch((error) => callback?.(error));
  }

  destroy(sid: string, callback?: (err?: unknown) => void): void {
    this.sessions
      .delete({ idHash: idHash(sid) })
      .then(() => callback?.())
      .catch((error) => callback?.(error));
  }

  /** Ends every session of a user, on every instance. */
  async destroyAllForUser(userId: string): Promise<void> {
    await this.sessions.delete({ userId });
  }

  /** Deletes expired rows; returns how many. */
  async prune(): Promise<number> {
    const result = await this.sessions.delete({ expiresAt: LessThan(new Date(this.clock.nowMs())) });
    return result.affected ?? 0;
  }
}
