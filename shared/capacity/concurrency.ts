// Pod intervals → per UTC day, how many pods ran at once and what they requested together. One sweep over the
// intervals' start and end events in time order; between two event times the sums are constant, and each
// such stretch is credited to the day(s) it falls in (split at midnight). Intervals are half-open, so a pod
// ending at 10:00 and one starting at 10:00 never ran at once.
//
// Per day and per measure (pods, CPU, memory): the peak, the largest value held for any positive time; and
// the time-weighted median, the smallest value the measure was at or below for at least half of the day
// (a day at 4 pods for 12 hours and 10 for 12 hours has median 4). Idle time counts as 0, so an idle day is
// a day of zeros, never a missing one. Each measure's peak is its own: the CPU peak need not be at the moment
// of the pod peak.
import type { PodIntervals } from './pod-intervals.js';

export const DAY_MS = 86_400_000;

/** Whole UTC days: `days` of them from `start` (a UTC midnight, ms since the epoch). */
export interface DayWindow {
  readonly start: number;
  readonly days: number;
}

export interface DayStats {
  /** YYYY-MM-DD (UTC). */
  readonly date: string;
  readonly maxPods: number;
  readonly medianPods: number;
  /** Pod-seconds over the day divided by its length: the mean number of pods running. */
  readonly meanPods: number;
  readonly maxCpuMillis: number;
  readonly medianCpuMillis: number;
  readonly maxMemoryBytes: number;
  readonly medianMemoryBytes: number;
}

/** The `days` whole UTC days before the day of `now`: today is not over, so it is left out. */
export function windowBefore(now: number, days: number): DayWindow {
  const today = Math.floor(now / DAY_MS) * DAY_MS;
  return { start: today - days * DAY_MS, days };
}

export const dateOf = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/** Durations (ms) per value of one measure over one day, and its peak. */
class DayMeasure {
  readonly #durations = new Map<number, number>();
  max = 0;

  add(value: number, ms: number): void {
    this.#durations.set(value, (this.#durations.get(value) ?? 0) + ms);
    if (value > this.max) this.max = value;
  }

  median(dayMs: number): number {
    const values = [...this.#durations.keys()].sort((a, b) => a - b);
    let covered = 0;
    for (const value of values) {
      covered += this.#durations.get(value)!;
      if (covered * 2 >= dayMs) return value;
    }
    return 0;
  }
}

class DayAccumulator {
  readonly pods = new DayMeasure();
  readonly cpu = new DayMeasure();
  readonly memory = new DayMeasure();
  podMs = 0;
}

/** Daily statistics over `window`; parts of intervals outside it are ignored. */
export function dailyConcurrency(intervals: PodIntervals, window: DayWindow): DayStats[] {
  const windowEnd = window.start + window.days * DAY_MS;
  const n = intervals.count;
  // Clipped to the window; `pod[k]` is the interval the k-th kept one came from.
  const starts = new Float64Array(n);
  const ends = new Float64Array(n);
  const pod = new Uint32Array(n);
  let kept = 0;
  for (let i = 0; i < n; i++) {
    const from = Math.max(intervals.starts[i]!, window.start);
    const to = Math.min(intervals.ends[i]!, windowEnd);
    if (to <= from) continue;
    starts[kept] = from;
    ends[kept] = to;
    pod[kept] = i;
    kept += 1;
  }
  const byStart = sortedIndices(starts, kept);
  const byEnd = sortedIndices(ends, kept);

  const days = Array.from({ length: window.days }, () => new DayAccumulator());
  let pods = 0;
  let cpu = 0;
  let memory = 0;
  let at = window.start;
  const credit = (until: number) => {
    while (at < until) {
      const day = Math.floor((at - window.start) / DAY_MS);
      const stretch = Math.min(until, window.start + (day + 1) * DAY_MS) - at;
      const accumulator = days[day]!;
      accumulator.pods.add(pods, stretch);
      accumulator.cpu.add(cpu, stretch);
      accumulator.memory.add(memory, stretch);
      accumulator.podMs += pods * stretch;
      at += stretch;
    }
  };

  let s = 0;
  let e = 0;
  while (s < kept || e < kept) {
    const next = Math.min(s < kept ? starts[byStart[s]!]! : Infinity, e < kept ? ends[byEnd[e]!]! : Infinity);
    credit(next);
    // Every event at this instant before the next stretch: ends and starts at one time do not overlap.
    while (e < kept && ends[byEnd[e]!] === next) {
      const i = pod[byEnd[e]!]!;
      pods -= 1;
      cpu -= intervals.cpuMillis[i]!;
      memory -= intervals.memoryBytes[i]!;
      e += 1;
    }
    while (s < kept && starts[byStart[s]!] === next) {
      const i = pod[byStart[s]!]!;
      pods += 1;
      cpu += intervals.cpuMillis[i]!;
      memory += intervals.memoryBytes[i]!;
      s += 1;
    }
  }
  credit(windowEnd);

  return days.map((day, i) => ({
    date: dateOf(window.start + i * DAY_MS),
    maxPods: day.pods.max,
    medianPods: day.pods.median(DAY_MS),
    meanPods: day.podMs / DAY_MS,
    maxCpuMillis: day.cpu.max,
    medianCpuMillis: day.cpu.median(DAY_MS),
    maxMemoryBytes: day.memory.max,
    medianMemoryBytes: day.memory.median(DAY_MS),
  }));
}

/** Indices 0..count-1 ordered by `times`. */
function sortedIndices(times: Float64Array, count: number): Uint32Array {
  const order = new Uint32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  return order.sort((a, b) => times[a]! - times[b]!);
}
