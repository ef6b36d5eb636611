/**
 * A position in the users list's order, (LOWER(name), email): the sort key of a row as the
 * database lowers it (SQLite lowers ASCII only, JavaScript more), and its email (unique, so
 * the pair names one row even among people of the same name).
 */
export interface ListKey {
  name: string;
  email: string;
}

/**
 * Where a page of the users list starts or ends, for its Next and Previous links: the key of
 * the edge row and the number of the page the link opens (0 when it is not known: after a
 * "go to" jump). Opaque in the link (base64url of JSON) but not secret: it is only a position
 * inside the admin's own organizer, so a changed one is refused as malformed, never trusted
 * for anything else (a sibling of the security log's log-cursor.ts, whose key is different).
 */
export interface UserListCursor extends ListKey {
  page: number;
}

/** Longer than any real cursor: a name of 200 characters (up to 4 bytes each), an email of 254, base64url. */
const MAX_CURSOR_LENGTH = 1800;
const MAX_PAGE = 1_000_000;

export function encodeListCursor(cursor: UserListCursor): string {
  return Buffer.from(JSON.stringify([cursor.page, cursor.name, cursor.email]), 'utf8').toString('base64url');
}

/** The cursor of a link, or undefined when it is not one this app wrote (changed, cut, made up). */
export function decodeListCursor(text: string): UserListCursor | undefined {
  if (text.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(text)) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (!Array.isArray(value) || value.length !== 3) return undefined;
  const [page, name, email] = value as unknown[];
  if (!Number.isSafeInteger(page) || (page as number) < 0 || (page as number) > MAX_PAGE) return undefined;
  if (typeof name !== 'string' || [...name].length > 200) return undefined;
  if (typeof email !== 'string' || !email || email.length > 254) return undefined;
  return { page: page as number, name, email };
}
