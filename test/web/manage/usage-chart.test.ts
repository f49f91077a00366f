/** The server-side SVG usage chart on its own: stacking, the "Others" series, and days without use. */
import { describe, expect, it } from 'vitest';
import { buildSeries, lastDays, MAX_SERIES, UsageChart, type UsagePoint } from '../../../web/views/usage-chart.js';

const render = (points: UsagePoint[], days: string[]) => String(UsageChart({ points, days, title: 'Usage' }));

describe('usage chart', () => {
  it('lists the last 30 UTC days ending today, oldest first', () => {
    const days = lastDays(30, new Date('2025-03-01T23:59:00Z'));
    expect(days).toHaveLength(30);
    expect(days[0]).toBe('2025-01-31');
    expect(days.at(-1)).toBe('2025-03-01');
  });

  it('stacks members on the same day, biggest user first, each segment titled with who and how many', () => {
    const html = render(
      [
        { userId: 1, username: 'ann', day: '2025-03-01', credits: 2 },
        { userId: 2, username: 'ben', day: '2025-03-01', credits: 5 },
      ],
      ['2025-02-28', '2025-03-01'],
    );
    expect(html.match(/<rect x=/g)).toHaveLength(2);
    expect(html.indexOf('ben: 5 on 2025-03-01')).toBeLessThan(html.indexOf('ann: 2 on 2025-03-01'));
    expect(html).toContain('7 SMS credits used in the last 2 days: ben 5, ann 2.');
  });

  it('folds members beyond the palette into one grey "Others" series so colours never repeat', () => {
    const points = Array.from({ length: MAX_SERIES + 3 }, (_, i) => ({ userId: i + 1, username: `u${i + 1}`, day: '2025-03-01', credits: 20 - i }));
    const { series } = buildSeries(points);
    expect(series).toHaveLength(MAX_SERIES);
    expect(series.at(-1)).toMatchObject({ userId: 0, username: 'Others', total: points.slice(MAX_SERIES - 1).reduce((a, p) => a + p.credits, 0) });
    expect(new Set(series.map((s) => s.colour)).size).toBe(MAX_SERIES);
  });

  it('says plainly when nothing was used, and draws no bars', () => {
    const html = render([], lastDays(30));
    expect(html).toContain('No SMS credits used in the last 30 days.');
    expect(html).not.toContain('<rect x=');
  });
});
