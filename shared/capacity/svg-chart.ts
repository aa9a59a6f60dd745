// The daily pod concurrency as an SVG line chart: the daily max, the daily (time-weighted) median and the
// 7-day moving median of the max, over the report's days. Written as text: three polylines, two axes and a
// legend do not need a library.
import type { CapacityReport } from './capacity.js';

const WIDTH = 800;
const HEIGHT = 400;
const MARGIN = { left: 60, right: 20, top: 40, bottom: 60 };
const PLOT_W = WIDTH - MARGIN.left - MARGIN.right;
const PLOT_H = HEIGHT - MARGIN.top - MARGIN.bottom;
const Y_TICKS = 5;

const SERIES = [
  { key: 'dailyMax', label: 'daily max', colour: '#d62728', dash: '' },
  { key: 'dailyMedian', label: 'daily median (time-weighted)', colour: '#1f77b4', dash: '6 4' },
  { key: 'movingMedian', label: '7-day moving median of the max', colour: '#2ca02c', dash: '' },
] as const;

const escape = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const round = (n: number): string => String(Math.round(n * 10) / 10);

/** The smallest of 1, 2, 5 × 10^k at or above `value` / Y_TICKS, times Y_TICKS: a top with round ticks. */
export function niceTop(value: number): number {
  if (value <= 0) return Y_TICKS;
  const step = value / Y_TICKS;
  const magnitude = 10 ** Math.floor(Math.log10(step));
  const nice = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= step)!;
  return Math.max(Y_TICKS, Math.ceil(nice) * Y_TICKS);
}

export function concurrencyChart(report: CapacityReport): string {
  const { pods } = report.metrics;
  const count = report.days.length;
  const top = niceTop(Math.max(0, ...pods.dailyMax));
  const x = (i: number) => MARGIN.left + (count > 1 ? (i / (count - 1)) * PLOT_W : PLOT_W / 2);
  const y = (v: number) => MARGIN.top + PLOT_H - (v / top) * PLOT_H;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
    `<text x="${WIDTH / 2}" y="20" text-anchor="middle" font-size="14">${escape(`Concurrent Seakeeper pods per day, ${report.window.from} to ${report.window.to} (UTC)`)}</text>`,
  ];
  for (let t = 0; t <= Y_TICKS; t++) {
    const value = (top / Y_TICKS) * t;
    parts.push(
      `<line x1="${MARGIN.left}" y1="${round(y(value))}" x2="${MARGIN.left + PLOT_W}" y2="${round(y(value))}" stroke="#ddd"/>`,
      `<text x="${MARGIN.left - 6}" y="${round(y(value) + 4)}" text-anchor="end">${round(value)}</text>`,
    );
  }
  const labelEvery = Math.max(1, Math.ceil(count / 10));
  report.days.forEach((day, i) => {
    if (i % labelEvery !== 0 && i !== count - 1) return;
    parts.push(
      `<line x1="${round(x(i))}" y1="${MARGIN.top + PLOT_H}" x2="${round(x(i))}" y2="${MARGIN.top + PLOT_H + 4}" stroke="black"/>`,
      `<text x="${round(x(i))}" y="${MARGIN.top + PLOT_H + 18}" text-anchor="middle">${escape(day.date.slice(5))}</text>`,
    );
  });
  parts.push(
    `<line x1="${MARGIN.left}" y1="${MARGIN.top}" x2="${MARGIN.left}" y2="${MARGIN.top + PLOT_H}" stroke="black"/>`,
    `<line x1="${MARGIN.left}" y1="${MARGIN.top + PLOT_H}" x2="${MARGIN.left + PLOT_W}" y2="${MARGIN.top + PLOT_H}" stroke="black"/>`,
    `<text x="16" y="${MARGIN.top + PLOT_H / 2}" text-anchor="middle" transform="rotate(-90 16 ${MARGIN.top + PLOT_H / 2})">pods running at once</text>`,
    `<text x="${MARGIN.left + PLOT_W / 2}" y="${HEIGHT - 24}" text-anchor="middle">day (MM-DD, UTC)</text>`,
  );
  for (const series of SERIES) {
    const points = pods[series.key].map((v, i) => `${round(x(i))},${round(y(v))}`).join(' ');
    parts.push(`<polyline fill="none" stroke="${series.colour}" stroke-width="2"${series.dash ? ` stroke-dasharray="${series.dash}"` : ''} points="${points}"/>`);
  }
  SERIES.forEach((series, i) => {
    const lx = MARGIN.left + 10 + i * 240;
    const ly = HEIGHT - 8;
    parts.push(
      `<line x1="${lx}" y1="${ly - 4}" x2="${lx + 24}" y2="${ly - 4}" stroke="${series.colour}" stroke-width="2"${series.dash ? ` stroke-dasharray="${series.dash}"` : ''}/>`,
      `<text x="${lx + 30}" y="${ly}">${escape(series.label)}</text>`,
    );
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
