/** A message shown once on the next page (after a redirect). */
export interface Flash {
  type: 'success' | 'error' | 'info';
  text: string;
}

declare module 'express-session' {
  interface SessionData {
    /** Messages shown once on the next page. */
    flash?: Flash[];
  }
}
