import { EVENT_GROUP_KEYS, EVENT_GROUPS, EventGroup } from './event-kinds';
import { DAY_MS, isoDay } from './utc-day';

/** How many days the chart shows, today (UTC) included. */
export const CHART_DAYS = 30;

/** What the database counted: events of one group on one day (days since 1970-01-01 UTC). */
export interface DayCount {
  group: EventGroup;
  day: number;
  count: number;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

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
 * for the SVG's description. Pure: the counts and today's day number in, shapes out.
 */
export function buildSecurityChart(counts: DayCount[], today: number) {
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
      { y: y(max), label: compact(max), baseline: 'hanging' },
      { y: y(0), label: '0', baseline: 'auto' },
    ];
    return {
      key: group,
      label: EVENT_GROUPS[group].label,
      total,
      heading: `${EVENT_GROUPS[group].label}: ${total.toLocaleString('en')}`,
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

  const totals = panels.map((panel) => `${panel.total.toLocaleString('en')} ${panel.label.toLowerCase()}`);
  const busiest = panels
    .filter((panel) => panel.total > 0)
    .map((panel) => {
      const values = perDay.get(panel.key)!;
      const most = Math.max(...values);
      return `most ${panel.label.toLowerCase()} on ${longDate(days[values.indexOf(most)])} (${most.toLocaleString('en')})`;
    });
  const range = `${longDate(first)} to ${longDate(today)}`;

  return {
    title: 'Sign-ins, failed sign-ins and locks per day, last 30 days',
    description:
      `From ${range} (UTC): ${list(totals)}.` + (busiest.length ? ` ${capitalise(list(busiest))}.` : ' No events.'),
    range,
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

/** 1,500 as "1.5k", 2,000,000 as "2M": the scale's labels stay short on a phone. */
function compact(value: number): string {
  if (value >= 1e6) return `${trim(value / 1e6)}M`;
  if (value >= 1e3) return `${trim(value / 1e3)}k`;
  return trim(value);
}

function trim(value: number): string {
  return String(Number(value.toFixed(1)));
}

function shortDate(day: number): string {
  const date = new Date(day * DAY_MS);
  return `${MONTHS[date.getUTCMonth()]} ${date.getUTCDate()}`;
}

function longDate(day: number): string {
  const date = new Date(day * DAY_MS);
  return `${date.getUTCDate()} ${MONTHS[date.getUTCMonth()]} ${date.getUTCFullYear()}`;
}

function list(items: string[]): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
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
