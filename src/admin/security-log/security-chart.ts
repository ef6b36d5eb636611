import type { MessageValues } from '../../i18n/catalogue';
import { formatDate } from '../../i18n/format';
import type { Language } from '../../i18n/languages';
import { EVENT_GROUP_KEYS, EVENT_GROUPS, EventGroup } from './event-kinds';
import { DAY_MS, isoDay } from './utc-day';

/** The chart's words: the page's language and its messages (I18n.t in that language). */
export interface ChartText {
  language: Language;
  t: (key: string, values?: MessageValues) => string;
}

/** The sentence part "most … on {day} ({count})" of each group (the SVG's description). */
const MOST: Record<EventGroup, string> = {
  'sign-ins': 'securityLog.chart.mostSignIns',
  'failed-sign-ins': 'securityLog.chart.mostFailedSignIns',
  locks: 'securityLog.chart.mostLocks',
};

/** How many days the chart shows, today (UTC) included. */
export const CHART_DAYS = 30;

/** What the database counted: events of one group on one day (days since 1970-01-01 UTC). */
export interface DayCount {
  group: EventGroup;
  day: number;
  count: number;
}

// The drawing, in the SVG's own units (it scales to the page's width; the stylesheet sizes its text).
const WIDTH = 720;
const LEFT = 64;
/** Room for the last day's label, centred under the last bar. */
const RIGHT = 32;
const TOP = 6;
const TITLE_HEIGHT = 42;
const PLOT_HEIGHT = 88;
const PANEL_GAP = 16;
const AXIS_HEIGHT = 40;
const BAR_SHARE = 0.7;
/** Every how many days the day axis has a label (counted back from today, which always has one). */
const LABEL_EVERY = 7;

/**
 * The chart of the security log as a view model the template draws: sign-ins, failed
 * sign-ins and locks per day over the last 30 UTC days, one small panel per group with its
 * own scale (a few locks stay visible next to hundreds of sign-ins), each with its colour
 * AND its pattern, named beside its swatch; the same numbers as a table, and a sentence
 * for the SVG's description, in `text`'s language (the days are UTC days, named as that
 * language names them). Pure: the counts, today's day number and the words in, shapes out.
 */
export function buildSecurityChart(counts: DayCount[], today: number, text: ChartText) {
  const { language, t } = text;
  const longDate = (day: number) => formatDate(day * DAY_MS, language, 'UTC');
  const shortDate = (day: number) => shortDay(day, language);
  const first = today - CHART_DAYS + 1;
  const days = Array.from({ length: CHART_DAYS }, (_, index) => first + index);
  const perDay = new Map<EventGroup, number[]>(EVENT_GROUP_KEYS.map((group) => [group, days.map(() => 0)]));
  for (const { group, day, count } of counts) {
    const index = day - first;
    if (index >= 0 && index < CHART_DAYS && perDay.has(group)) perDay.get(group)![index] += count;
  }

  const slot = (WIDTH - LEFT - RIGHT) / CHART_DAYS;
  const barWidth = round(slot * BAR_SHARE);
  const panelHeight = TITLE_HEIGHT + PLOT_HEIGHT + PANEL_GAP;
  const panels = EVENT_GROUP_KEYS.map((group, index) => {
    const values = perDay.get(group)!;
    const total = sum(values);
    const top = TOP + index * panelHeight;
    const plotTop = top + TITLE_HEIGHT;
    const base = plotTop + PLOT_HEIGHT;
    const max = niceMax(Math.max(...values));
    const y = (value: number) => round(base - (value / max) * PLOT_HEIGHT);
    // The scale's top and bottom are labelled (the top's label hangs below its line, clear of
    // the panel's title); a line without a label marks the middle.
    const ticks = [
      { y: y(max), label: compact(max, language), baseline: 'hanging' },
      { y: y(0), label: compact(0, language), baseline: 'auto' },
    ];
    const label = t(EVENT_GROUPS[group].label);
    return {
      key: group,
      label,
      total,
      heading: t('securityLog.chart.heading', { label, total }),
      swatchY: top + 8,
      titleY: top + 24,
      middleY: y(max / 2),
      plotLeft: LEFT,
      plotRight: WIDTH - RIGHT,
      tickLabelX: LEFT - 8,
      ticks,
      bars: values.flatMap((value, day) => {
        if (!value) return [];
        // A day with one event among hundreds still shows: at least 2 units tall.
        const height = Math.max(2, round((value / max) * PLOT_HEIGHT));
        return [
          { x: round(LEFT + day * slot + (slot - barWidth) / 2), y: round(base - height), width: barWidth, height },
        ];
      }),
    };
  });

  const axisY = TOP + EVENT_GROUP_KEYS.length * panelHeight - PANEL_GAP + 28;
  const dayLabels = days
    .map((day, index) => ({ day, index }))
    .filter(({ index }) => (CHART_DAYS - 1 - index) % LABEL_EVERY === 0)
    .map(({ day, index }) => ({ x: round(LEFT + index * slot + slot / 2), y: axisY, text: shortDate(day) }));

  const [signIns, failed, locks] = panels.map((panel) => panel.total);
  const totals = t('securityLog.chart.totals', { signIns, failed, locks });
  const busiest = panels
    .filter((panel) => panel.total > 0)
    .map((panel) => {
      const values = perDay.get(panel.key)!;
      const most = Math.max(...values);
      return t(MOST[panel.key], { day: longDate(days[values.indexOf(most)]), count: most });
    });
  const from = longDate(first);
  const to = longDate(today);

  return {
    title: t('securityLog.chart.title'),
    description: busiest.length
      ? t('securityLog.chart.description', { from, to, totals, busiest: capitalise(list(busiest, language)) })
      : t('securityLog.chart.descriptionEmpty', { from, to, totals }),
    range: t('securityLog.chart.range', { from, to }),
    width: WIDTH,
    height: axisY + AXIS_HEIGHT - 28,
    panels,
    dayLabels,
    table: {
      headings: panels.map((panel) => panel.label),
      rows: days.map((day, index) => ({
        date: isoDay(day),
        label: longDate(day),
        counts: EVENT_GROUP_KEYS.map((group) => perDay.get(group)![index]),
      })),
      totals: panels.map((panel) => panel.total),
    },
  };
}

export type SecurityChart = ReturnType<typeof buildSecurityChart>;

/** The top of a panel's scale: 1, 2 or 5 times a power of ten, at least the largest value and at least 5 (one lock is not a wall). */
export function niceMax(value: number): number {
  if (value <= 5) return 5;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

const compactNumbers = new Map<Language, Intl.NumberFormat>();

/** 1,500 as "1.5K" ("1,5 k" in French), 2,000,000 as "2M": the scale's labels stay short on a phone, in the language's digits. */
function compact(value: number, language: Language): string {
  let format = compactNumbers.get(language);
  if (!format) {
    format = new Intl.NumberFormat(language, { notation: 'compact', maximumFractionDigits: 1 });
    compactNumbers.set(language, format);
  }
  return format.format(value);
}

const shortDays = new Map<Language, Intl.DateTimeFormat>();

/** A day of the axis, short ("Mar 10", "10 mars"): month and day as the language writes them. */
function shortDay(day: number, language: Language): string {
  let format = shortDays.get(language);
  if (!format) {
    format = new Intl.DateTimeFormat(language, { timeZone: 'UTC', month: 'short', day: 'numeric' });
    shortDays.set(language, format);
  }
  return format.format(day * DAY_MS);
}

/** "a, b and c" as the language joins a list (British English: no comma before "and"). */
function list(items: string[], language: Language): string {
  return new Intl.ListFormat(language === 'en' ? 'en-GB' : language, { type: 'conjunction' }).format(items);
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function sum(values: number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
