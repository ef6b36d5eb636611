/**
 * A same-site path to redirect to after sign-in, or undefined (SECURITY.md 21).
 * Refuses absolute and scheme-relative URLs (`//evil`, `/\evil`), control characters,
 * and the sign-in pages themselves.
 */
export function safeReturnPath(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length > 512) return undefined;
  if (!value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\')) return undefined;
  // eslint-disable-next-line no-control-regex -- refusing control characters is the point
  if (/[\u0000-\u001f\u007f\\]/.test(value)) return undefined;
  try {
    const url = new URL(value, 'http://same.invalid');
    if (url.host !== 'same.invalid') return undefined;
    if (/^\/(login|logout|2fa\/|invitations\/)/.test(url.pathname)) return undefined;
    return url.pathname + url.search;
  } catch {
    return undefined;
  }
}
