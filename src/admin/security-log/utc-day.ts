/** A UTC day as the log's date filters and its chart use it. */
export const DAY_MS = 86_400_000;

/** The start (epoch ms) of a YYYY-MM-DD UTC day, or undefined when the text is not a real date. */
export function parseUtcDay(text: string): number | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!match) return undefined;
  const [year, month, day] = match.slice(1).map(Number);
  const start = Date.UTC(year, month - 1, day);
  const back = new Date(start);
  // 2026-02-30 would roll over into March: not a date.
  if (year < 1970 || back.getUTCFullYear() !== year || back.getUTCMonth() !== month - 1 || back.getUTCDate() !== day)
    return undefined;
  return start;
}

/** The day number (days since 1970-01-01 UTC) of an instant: what the chart's SQL groups by. */
export function dayNumber(at: Date | number): number {
  return Math.floor((typeof at === 'number' ? at : at.getTime()) / DAY_MS);
}

/** YYYY-MM-DD of a day number. */
export function isoDay(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}
