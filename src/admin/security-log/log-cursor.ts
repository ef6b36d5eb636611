/**
 * Where a page of the security log ends: the (created_at, id) of its last event, the key the
 * next page continues below (keyset pagination: every page costs the same, however deep).
 * Opaque in the link (base64url) but not secret: it can only point inside the admin's own
 * organizer, so a changed one is refused as malformed, never trusted for anything else.
 */
export interface LogCursor {
  createdAt: number;
  id: string;
}

const MAX_INSTANT = 8.64e15;

export function encodeCursor(cursor: LogCursor): string {
  return Buffer.from(`${cursor.createdAt}:${cursor.id}`, 'utf8').toString('base64url');
}

/** The cursor of a link, or undefined when it is not one this app wrote (changed, cut, made up): ids are UUIDs (newId). */
export function decodeCursor(text: string): LogCursor | undefined {
  if (!/^[A-Za-z0-9_-]{4,80}$/.test(text)) return undefined;
  const match = /^(\d{1,16}):([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/.exec(
    Buffer.from(text, 'base64url').toString('utf8'),
  );
  if (!match) return undefined;
  const createdAt = Number(match[1]);
  if (!Number.isSafeInteger(createdAt) || createdAt > MAX_INSTANT) return undefined;
  return { createdAt, id: match[2] };
}
