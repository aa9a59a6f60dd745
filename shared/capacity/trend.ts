// A daily series → its trend and the quota it asks for. The 7-day moving median smooths the weekly cycle
// (weekends are quiet) without letting one busy day set the level; the growth is the least-squares slope of
// the daily peaks, relative to their mean, per week; and the quota is the latest level grown over the
// planning horizon:
//
//   quota = Q × (1 + weeks × max(0, growth))
//
// Q is the last 7-day moving median of the daily peaks. A shrinking trend does not lower the quota below Q:
// the history says the cluster needed Q recently, whatever the slope.
import { median } from '../statistics.js';

export const MOVING_WINDOW_DAYS = 7;

/** For each day, the median of it and the days before it, `window` in all (fewer at the start of the series). */
export function movingMedian(values: readonly number[], window = MOVING_WINDOW_DAYS): number[] {
  return values.map((_, i) => median(values.slice(Math.max(0, i - window + 1), i + 1)));
}

/** The least-squares slope of `values` over their index (per day for a daily series); 0 of fewer than two. */
export function leastSquaresSlope(values: readonly number[]): number {
  const n = values.length;
  if (n < 2) return 0;
  const meanX = (n - 1) / 2;
  const meanY = values.reduce((a, b) => a + b, 0) / n;
  let covariance = 0;
  let variance = 0;
  values.forEach((y, x) => {
    covariance += (x - meanX) * (y - meanY);
    variance += (x - meanX) ** 2;
  });
  return covariance / variance;
}

export interface Trend {
  /** The least-squares slope of the daily values, in their unit per week. */
  readonly slopePerWeek: number;
  /** slopePerWeek relative to the mean daily value (0.05 = 5 % a week); 0 when the mean is 0. */
  readonly growthPerWeek: number;
}

export function trendOf(daily: readonly number[]): Trend {
  const slopePerWeek = leastSquaresSlope(daily) * 7;
  const mean = daily.length ? daily.reduce((a, b) => a + b, 0) / daily.length : 0;
  return { slopePerWeek, growthPerWeek: mean > 0 ? slopePerWeek / mean : 0 };
}

/** Q × (1 + weeks × growth), growth taken as 0 when negative. */
export function recommendedQuota(q: number, growthPerWeek: number, weeks: number): number {
  return q * (1 + weeks * Math.max(0, growthPerWeek));
}
