// The capacity report: Seakeeper's run history (Workflows) → daily pod concurrency and requests → trend and
// recommended quota. Pure; the shell (capacity-shell.ts) lists the Workflows and prints or stores the result.
import { dailyConcurrency, dateOf, DAY_MS, windowBefore, type DayStats } from './concurrency.js';
import { podHistory, type PodHistory } from './pod-intervals.js';
import { MOVING_WINDOW_DAYS, movingMedian, recommendedQuota, trendOf } from './trend.js';

export const DEFAULT_DAYS = 30;
export const DEFAULT_HORIZON_WEEKS = 4;
/** What a report may be asked for (the CLI's --days and --weeks, the weekly run's data): a year of history, two years of planning. */
export const DAYS_BOUNDS = { min: 1, max: 366 } as const;
export const WEEKS_BOUNDS = { min: 0, max: 104 } as const;

export interface CapacityOptions {
  /** ms since the epoch: ends running pods, and the window is the whole days before its day. */
  readonly now: number;
  readonly days: number;
  /** How far ahead the quota is planned, in weeks. */
  readonly horizonWeeks: number;
}

export type MetricName = 'pods' | 'cpu' | 'memory';

export interface MetricSummary {
  readonly unit: 'pods' | 'millicores' | 'bytes';
  readonly dailyMax: number[];
  readonly dailyMedian: number[];
  /** The 7-day moving median of dailyMax. */
  readonly movingMedian: number[];
  /** Q: the last day's moving median. */
  readonly latest: number;
  readonly slopePerWeek: number;
  readonly growthPerWeek: number;
  /** Q × (1 + horizonWeeks × max(0, growthPerWeek)), rounded up to a whole unit. */
  readonly quota: number;
}

export interface CapacityReport {
  readonly generatedAt: string;
  readonly window: { readonly from: string; readonly to: string; readonly days: number };
  readonly horizonWeeks: number;
  readonly history: Omit<PodHistory, 'intervals'>;
  readonly days: DayStats[];
  readonly metrics: Record<MetricName, MetricSummary>;
  readonly assumptions: string[];
}

export function assumptions(options: Pick<CapacityOptions, 'days' | 'horizonWeeks'>): string[] {
  return [
    `Window: the ${options.days} whole UTC days before today; today is left out because it is not over.`,
    'A pod is a Workflow node of type Pod, running from its startedAt (Argo sets it when it creates the pod, so scheduling waits count) to its finishedAt; without finishedAt, to the Workflow\'s finishedAt, or to now while the Workflow runs.',
    'Requests are those of the template the pod ran: containers and sidecars summed, or the largest init container if more; a missing request is the limit, else 0 (counted as pods without requests). Argo\'s executor containers are not included.',
    'Max: the peak over the day, each measure on its own. Median: time-weighted over the 24 hours, the smallest value held or undercut for at least half the day; idle time counts as 0.',
    `Moving median: of the daily max over the day and the ${MOVING_WINDOW_DAYS - 1} before it (fewer at the start of the window).`,
    'Growth per week: the least-squares slope of the daily max over the window, times 7, divided by the mean daily max.',
    `Quota: Q × (1 + ${options.horizonWeeks} weeks × growth per week), Q the latest 7-day moving median of the daily max; a negative growth counts as 0; rounded up.`,
  ];
}

function summary(unit: MetricSummary['unit'], dailyMax: number[], dailyMedian: number[], horizonWeeks: number): MetricSummary {
  const moving = movingMedian(dailyMax);
  const latest = moving.at(-1) ?? 0;
  const { slopePerWeek, growthPerWeek } = trendOf(dailyMax);
  // The small epsilon keeps float noise (77.00000000001) from adding a whole unit.
  const quota = Math.ceil(recommendedQuota(latest, growthPerWeek, horizonWeeks) - 1e-9);
  return { unit, dailyMax, dailyMedian, movingMedian: moving, latest, slopePerWeek, growthPerWeek, quota: Math.max(0, quota) };
}

export function analyseCapacity(workflows: Iterable<unknown>, options: CapacityOptions): CapacityReport {
  return analyseHistory(podHistory(workflows, options.now), options);
}

/** The report from pods already read (HistoryBuilder, as the shell reads a list page by page). */
export function analyseHistory(pods: PodHistory, options: CapacityOptions): CapacityReport {
  const { intervals, ...history } = pods;
  const window = windowBefore(options.now, options.days);
  const days = dailyConcurrency(intervals, window);
  const column = (key: keyof Omit<DayStats, 'date'>) => days.map((day) => day[key]);
  return {
    generatedAt: new Date(options.now).toISOString(),
    window: { from: dateOf(window.start), to: dateOf(window.start + (window.days - 1) * DAY_MS), days: window.days },
    horizonWeeks: options.horizonWeeks,
    history,
    days,
    metrics: {
      pods: summary('pods', column('maxPods'), column('medianPods'), options.horizonWeeks),
      cpu: summary('millicores', column('maxCpuMillis'), column('medianCpuMillis'), options.horizonWeeks),
      memory: summary('bytes', column('maxMemoryBytes'), column('medianMemoryBytes'), options.horizonWeeks),
    },
    assumptions: assumptions(options),
  };
}
