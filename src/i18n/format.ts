import type { Language } from './languages';

export const DEFAULT_TIME_ZONE = 'UTC';

const formats = new Map<string, Intl.DateTimeFormat>();

function cached(language: Language, timeZone: string, kind: 'datetime' | 'date'): Intl.DateTimeFormat {
  const id = `${language} ${timeZone} ${kind}`;
  let format = formats.get(id);
  if (!format) {
    format = new Intl.DateTimeFormat(language, {
      timeZone,
      year: 'numeric',
      month: 'short',
      day: 'numeric',
      ...(kind === 'datetime' ? { hour: '2-digit', minute: '2-digit', timeZoneName: 'short' } : {}),
    });
    formats.set(id, format);
  }
  return format;
}

/** An instant as people of `language` read it, in `timeZone` (the organizer's), with the zone named: "15 janv. 2026, 09:00 UTC". */
export function formatDateTime(at: Date | number, language: Language, timeZone = DEFAULT_TIME_ZONE): string {
  const date = typeof at === 'number' ? new Date(at) : at;
  return Number.isNaN(date.getTime()) ? '' : cached(language, timeZone, 'datetime').format(date);
}

/** A day as people of `language` read it, in `timeZone`: "15 janv. 2026". */
export function formatDate(at: Date | number, language: Language, timeZone = DEFAULT_TIME_ZONE): string {
  const date = typeof at === 'number' ? new Date(at) : at;
  return Number.isNaN(date.getTime()) ? '' : cached(language, timeZone, 'date').format(date);
}

/** Whether `zone` is an IANA time zone this runtime knows (the organizer's setting). */
export function isTimeZone(zone: unknown): zone is string {
  if (typeof zone !== 'string' || zone.length > 64) return false;
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** The time zones offered in the organizer's setting: UTC first, then the runtime's IANA list. */
export function timeZoneChoices(): string[] {
  return ['UTC', ...Intl.supportedValuesOf('timeZone').filter((zone) => zone !== 'UTC')];
}
