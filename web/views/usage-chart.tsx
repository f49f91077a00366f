/**
 * SMS usage per member over the last 30 days as a stacked bar chart, drawn on the server as SVG: no chart
 * script, nothing for the Content-Security-Policy to allow, readable with JavaScript off. Colours are SVG
 * presentation attributes (not inline CSS, which the CSP forbids). Each bar segment carries a <title>, and
 * the page repeats the numbers in a table for screen readers and printing.
 */
export interface UsagePoint {
  userId: number;
  username: string | null;
  /** "YYYY-MM-DD" (UTC). */
  day: string;
  credits: number;
}

export interface UsageSeries {
  userId: number;
  username: string;
  colour: string;
  total: number;
}

/** Distinguishable in print and for the common colour-vision deficiencies (Okabe–Ito). */
const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442', '#000000'];
const OTHERS = '#9aa4b2';
export const MAX_SERIES = PALETTE.length;

/** The `days` UTC dates ending today, oldest first. */
export function lastDays(days: number, now = new Date()): string[] {
  const out: string[] = [];
  for (let i = days - 1; i >= 0; i--) out.push(new Date(now.getTime() - i * 86_400_000).toISOString().slice(0, 10));
  return out;
}

/**
 * One series per member, biggest user first; beyond the palette the rest share one grey "Others" series
 * (userId 0) so the chart stays readable for a large business.
 */
export function buildSeries(points: UsagePoint[]): { series: UsageSeries[]; seriesOf: (userId: number) => UsageSeries } {
  const totals = new Map<number, { username: string; total: number }>();
  for (const p of points) {
    const t = totals.get(p.userId) ?? { username: p.username ?? `user ${p.userId}`, total: 0 };
    t.total += Math.max(0, p.credits);
    totals.set(p.userId, t);
  }
  const ranked = [...totals].sort((a, b) => b[1].total - a[1].total || a[1].username.localeCompare(b[1].username));
  const named = ranked.length > MAX_SERIES ? ranked.slice(0, MAX_SERIES - 1) : ranked;
  const series: UsageSeries[] = named.map(([userId, t], i) => ({ userId, username: t.username, colour: PALETTE[i]!, total: t.total }));
  const others: UsageSeries = { userId: 0, username: 'Others', colour: OTHERS, total: 0 };
  for (const [, t] of ranked.slice(named.length)) others.total += t.total;
  if (ranked.length > named.length) series.push(others);
  const byUser = new Map(series.map((s) => [s.userId, s]));
  return { series, seriesOf: (userId) => byUser.get(userId) ?? others };
}

/** A round upper bound for the y axis: 1, 2, 5, 10, 20, 50 … */
function niceMax(n: number): number {
  if (n <= 1) return 1;
  const p = 10 ** Math.floor(Math.log10(n));
  return ([1, 2, 5, 10].map((m) => m * p).find((m) => m >= n) ?? 10 * p);
}

const W = 760;
const H = 280;
const M = { left: 44, right: 12, top: 14, bottom: 42 };

export function UsageChart(p: { points: UsagePoint[]; days: string[]; title: string }) {
  const { series, seriesOf } = buildSeries(p.points);
  const perDay = new Map<string, Map<number, number>>();
  for (const pt of p.points) {
    if (pt.credits <= 0) continue;
    const s = seriesOf(pt.userId);
    const day = perDay.get(pt.day) ?? new Map<number, number>();
    day.set(s.userId, (day.get(s.userId) ?? 0) + pt.credits);
    perDay.set(pt.day, day);
  }
  const dayTotal = (d: string) => [...(perDay.get(d)?.values() ?? [])].reduce((a, b) => a + b, 0);
  const max = niceMax(Math.max(0, ...p.days.map(dayTotal)));
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const step = plotW / p.days.length;
  const barW = Math.max(4, step * 0.7);
  const y = (v: number) => M.top + plotH - (v / max) * plotH;
  const ticks = max <= 4 ? Array.from({ length: max + 1 }, (_, i) => i) : [0, max / 2, max].filter(Number.isInteger);
  const grand = series.reduce((a, s) => a + s.total, 0);
  const summary = grand
    ? `${grand} SMS credit${grand === 1 ? '' : 's'} used in the last ${p.days.length} days: ${series.map((s) => `${s.username} ${s.total}`).join(', ')}.`
    : `No SMS credits used in the last ${p.days.length} days.`;

  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${W} ${H}`} width="100%" role="img" aria-labelledby="chart-title chart-desc" class="usage-chart" xmlns="http://www.w3.org/2000/svg">
        <title id="chart-title">{p.title}</title>
        <desc id="chart-desc">{summary}</desc>
        {ticks.map((t) => (
          <g>
            <line x1={M.left} x2={W - M.right} y1={y(t)} y2={y(t)} stroke={t === 0 ? '#5b6675' : '#e3e7ed'} stroke-width="1" />
            <text x={M.left - 8} y={y(t) + 4} text-anchor="end" font-size="13" fill="#5b6675">
              {String(t)}
            </text>
          </g>
        ))}
        {p.days.map((d, i) => {
          const x = M.left + i * step + (step - barW) / 2;
          let acc = 0;
          const stack = series.filter((s) => perDay.get(d)?.get(s.userId));
          return (
            <g class="day" data-day={d}>
              {stack.map((s) => {
                const v = perDay.get(d)!.get(s.userId)!;
                const top = y(acc + v);
                const rect = (
                  <rect x={x.toFixed(1)} y={top.toFixed(1)} width={barW.toFixed(1)} height={(y(acc) - top).toFixed(1)} fill={s.colour}>
                    <title>{`${s.username}: ${v} on ${d}`}</title>
                  </rect>
                );
                acc += v;
                return rect;
              })}
              {i % 5 === 4 || i === 0 ? (
                <text x={(x + barW / 2).toFixed(1)} y={H - M.bottom + 18} text-anchor="middle" font-size="13" fill="#5b6675">
                  {d.slice(5)}
                </text>
              ) : null}
            </g>
          );
        })}
        <text x={M.left} y={H - 6} font-size="13" fill="#5b6675">
          Day (UTC)
        </text>
      </svg>
      <figcaption>
        {series.length ? (
          <ul class="legend">
            {series.map((s) => (
              <li>
                <svg width="14" height="14" viewBox="0 0 14 14" aria-hidden="true">
                  <rect width="14" height="14" rx="3" fill={s.colour} />
                </svg>
                {s.username} <span class="muted">({s.total})</span>
              </li>
            ))}
          </ul>
        ) : (
          <p class="muted">{summary}</p>
        )}
      </figcaption>
    </figure>
  );
}
