const BASE = 'http://same.invalid';

/** Where a person is never sent back to after signing in (routes match case-insensitively, with or without a trailing slash). */
const SIGN_IN_PAGES = /^\/(login|logout|2fa|invitations|password)(\/|$)/i;

/**
 * A same-site path to redirect to after sign-in, or undefined (SECURITY.md 21, 25).
 * The value returned is the one checked: a path starting with exactly one `/` (not `//`,
 * not `/\`), without backslashes or control characters, and not a sign-in page, after
 * the URL parser has normalised it (`/.//evil` becomes `//evil`, which is refused).
 */
export function safeReturnPath(value: unknown): string | undefined {
  const path = sameSitePath(value);
  if (path === undefined || SIGN_IN_PAGES.test(decodedPath(new URL(path, BASE).pathname))) return undefined;
  return path;
}

/**
 * A same-site path to send a browser back to (any page, the sign-in pages included: the
 * language menu), or undefined: the same checks as safeReturnPath, before and after the URL
 * parser normalised it.
 */
export function sameSitePath(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length > 512 || !isSameSitePath(value)) return undefined;
  let url: URL;
  try {
    url = new URL(value, BASE);
  } catch {
    return undefined;
  }
  if (url.origin !== BASE) return undefined;
  const path = url.pathname + url.search;
  return isSameSitePath(path) ? path : undefined;
}

/** A path a browser resolves on the current host whatever page it is on: one leading `/`, no `\`, no control character. */
function isSameSitePath(path: string): boolean {
  // eslint-disable-next-line no-control-regex -- refusing control characters (C0, DEL, C1) is the point
  return path.startsWith('/') && !path.startsWith('//') && !/[\u0000-\u001f\u007f-\u009f\\]/.test(path);
}

/** The path as the router matches it (`/%6cogin` is `/login` to a person reading it); unreadable escapes stay as they are. */
function decodedPath(pathname: string): string {
  try {
    return decodeURIComponent(pathname);
  } catch {
    return pathname;
  }
}
