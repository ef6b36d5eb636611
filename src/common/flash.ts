/** A message shown once on the next page (after a redirect). */
export interface Flash {
  type: 'success' | 'error' | 'info';
  /** A message key of locales/*.json, shown in the language of the page that shows it. */
  key: string;
  /** Its placeholders' values (kept in the session: plain values, dates as text). */
  values?: Record<string, string | number>;
}

declare module 'express-session' {
  interface SessionData {
    /** Messages shown once on the next page. */
    flash?: Flash[];
  }
}
