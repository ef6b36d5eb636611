import { Catalogue, MessageValues } from '../../i18n/catalogue';
import type { Language } from '../../i18n/languages';
import { buildSecurityChart as build, CHART_DAYS, DayCount, niceMax } from './security-chart';
import { dayNumber } from './utc-day';

const catalogue = Catalogue.load();
const words = (language: Language) => ({
  language,
  t: (key: string, values?: MessageValues) => catalogue.format(language, key, values),
});
/** The chart in English, unless told. */
const buildSecurityChart = (counts: DayCount[], today: number, language: Language = 'en') =>
  build(counts, today, words(language));

describe('buildSecurityChart', () => {
  const today = dayNumber(Date.UTC(2026, 2, 10, 15));

  it('has 30 days ending today, each group’s counts per day, and zeros where nothing happened', () => {
    const chart = buildSecurityChart(
      [
        { group: 'sign-ins', day: today, count: 7 },
        { group: 'sign-ins', day: today - 29, count: 2 },
        { group: 'failed-sign-ins', day: today - 3, count: 4 },
        // The database grouped by type: two types of one group on one day add up.
        { group: 'failed-sign-ins', day: today - 3, count: 1 },
        { group: 'locks', day: today - 1, count: 1 },
        // Outside the 30 days: not drawn, not counted.
        { group: 'sign-ins', day: today - 30, count: 100 },
        { group: 'sign-ins', day: today + 1, count: 100 },
      ],
      today,
    );
    expect(chart.table.rows).toHaveLength(CHART_DAYS);
    expect(chart.table.rows[0]).toMatchObject({ date: '2026-02-09', label: 'Feb 9, 2026' });
    expect(chart.table.rows[29]).toMatchObject({ date: '2026-03-10', counts: [7, 0, 0] });
    expect(chart.table.rows[26].counts).toEqual([0, 5, 0]);
    expect(chart.table.rows[28].counts).toEqual([0, 0, 1]);
    expect(chart.table.totals).toEqual([9, 5, 1]);
    expect(chart.table.headings).toEqual(['Sign-ins', 'Failed sign-ins', 'Locks']);
    expect(chart.panels.map((panel) => panel.bars.length)).toEqual([2, 1, 1]);
    expect(chart.panels.map((panel) => panel.heading)).toEqual(['Sign-ins: 9', 'Failed sign-ins: 5', 'Locks: 1']);
  });

  it('describes the totals and the busiest day of each group in a sentence (the SVG’s description)', () => {
    const chart = buildSecurityChart(
      [
        { group: 'sign-ins', day: today - 2, count: 1200 },
        { group: 'sign-ins', day: today, count: 300 },
        { group: 'failed-sign-ins', day: today - 10, count: 3 },
      ],
      today,
    );
    expect(chart.description).toBe(
      'From Feb 9, 2026 to Mar 10, 2026 (UTC): 1,500 sign-ins, 3 failed sign-ins and 0 locks. ' +
        'Most sign-ins on Mar 8, 2026 (1,200) and most failed sign-ins on Feb 28, 2026 (3).',
    );
    expect(buildSecurityChart([], today).description).toBe(
      'From Feb 9, 2026 to Mar 10, 2026 (UTC): 0 sign-ins, 0 failed sign-ins and 0 locks. No events.',
    );
  });

  it('draws each panel on its own scale: the tallest bar reaches the nice top of its scale, one event stays visible', () => {
    const chart = buildSecurityChart(
      [
        { group: 'sign-ins', day: today, count: 2000 },
        { group: 'sign-ins', day: today - 1, count: 1 },
        { group: 'locks', day: today, count: 5 },
      ],
      today,
    );
    const [signIns, , locks] = chart.panels;
    expect(signIns.ticks.map((tick) => tick.label)).toEqual(['2K', '0']);
    // The scale's numbers as the page's language writes them.
    expect(
      buildSecurityChart([{ group: 'sign-ins', day: today, count: 1500 }], today, 'fr').panels[0].ticks[0].label,
    ).toBe('2\u00a0k');
    const [small, tall] = signIns.bars;
    expect(tall.height).toBe(88);
    expect(small.height).toBe(2);
    expect(tall.y + tall.height).toBe(small.y + small.height);
    expect(small.x).toBeLessThan(tall.x);
    expect(locks.ticks[0].label).toBe('5');
    expect(locks.bars[0].height).toBe(88);
    // Every shape is inside the drawing.
    for (const panel of chart.panels)
      for (const bar of panel.bars) {
        expect(bar.x).toBeGreaterThanOrEqual(panel.plotLeft);
        expect(bar.x + bar.width).toBeLessThanOrEqual(panel.plotRight);
        expect(bar.y + bar.height).toBeLessThanOrEqual(chart.height);
      }
  });

  it('labels the day axis every 7 days counted back from today', () => {
    const chart = buildSecurityChart([], today);
    expect(chart.dayLabels.map((label) => label.text)).toEqual(['Feb 10', 'Feb 17', 'Feb 24', 'Mar 3', 'Mar 10']);
  });
});

describe('buildSecurityChart in other languages', () => {
  const today = dayNumber(Date.UTC(2026, 2, 10, 15));

  it('writes its title, days, numbers and sentence in the language (French, German)', () => {
    const counts: DayCount[] = [
      { group: 'sign-ins', day: today - 2, count: 1200 },
      { group: 'locks', day: today, count: 1 },
    ];
    const fr = buildSecurityChart(counts, today, 'fr');
    expect(fr.title).toBe('Connexions, connexions échouées et verrouillages par jour, 30 derniers jours');
    expect(fr.table.headings).toEqual(['Connexions', 'Connexions échouées', 'Verrouillages']);
    expect(fr.dayLabels[0].text).toBe('10 févr.');
    expect(fr.description).toMatch(
      /^Du 9 févr\. 2026 au 10 mars 2026 \(UTC\) : 1\u202f200 connexions, 0 connexion échouée et 1 verrouillage\. Le plus de connexions le 8 mars 2026 \(1\u202f200\) et le plus de verrouillages le 10 mars 2026 \(1\)\.$/,
    );
    const de = buildSecurityChart([], today, 'de');
    expect(de.range).toBe('9. Feb. 2026 bis 10. März 2026');
    expect(de.description).toBe(
      'Vom 9. Feb. 2026 bis 10. März 2026 (UTC): 0 Anmeldungen, 0 fehlgeschlagene Anmeldungen und 0 Sperren. Keine Ereignisse.',
    );
  });
});

describe('niceMax', () => {
  it('rounds up to 1, 2 or 5 times a power of ten, at least 5', () => {
    expect([0, 1, 5, 6, 11, 20, 21, 99, 101, 1500, 2_000_001].map(niceMax)).toEqual([
      5, 5, 5, 10, 20, 20, 50, 100, 200, 2000, 5_000_000,
    ]);
  });
});
