// The capacity report as text for a release engineer: what was read, a line per day, the trend and quota per
// measure, the quota as ResourceQuota values, and the assumptions behind every figure.
import type { CapacityReport, MetricName, MetricSummary } from './capacity.js';

const MI = 2 ** 20;
const GI = 2 ** 30;

/** Cores to the millicore, without trailing zeros: 30.25, 2, 0.1. */
export const cores = (millis: number): string => String(Number((millis / 1000).toFixed(3)));
export const memory = (bytes: number): string => (bytes >= GI ? `${(bytes / GI).toFixed(1)}Gi` : `${Math.ceil(bytes / MI)}Mi`);
const percent = (ratio: number): string => `${ratio >= 0 ? '+' : ''}${(ratio * 100).toFixed(1)} %`;

const FORMAT: Record<MetricName, { label: string; value: (v: number) => string }> = {
  pods: { label: 'pods', value: (v) => (Number.isInteger(v) ? String(v) : v.toFixed(1)) },
  cpu: { label: 'CPU (cores)', value: cores },
  memory: { label: 'memory', value: memory },
};

const pad = (text: string, width: number): string => text.padStart(width);

function metricLine(name: MetricName, metric: MetricSummary): string {
  const { label, value } = FORMAT[name];
  return `${label.padEnd(12)}${pad(value(metric.latest), 12)}${pad(percent(metric.growthPerWeek), 13)}${pad(value(metric.slopePerWeek), 12)}${pad(value(metric.quota), 12)}`;
}

/** `notes`: what the shell read and from where (the archive, or why it was skipped). */
export function reportText(report: CapacityReport, notes: readonly string[] = []): string {
  const { history, metrics } = report;
  const skipped = Object.entries(history.skippedWorkflows)
    .map(([reason, count]) => `${reason} ${count}`)
    .join(', ');
  const lines = [
    `Seakeeper capacity report: ${report.window.from} to ${report.window.to} (${report.window.days} days, UTC), at ${report.generatedAt}`,
    ...notes,
    `Workflows read: ${history.workflows} (skipped: ${skipped}; duplicates read once: ${history.duplicates})`,
    `Pods: ${history.pods} (still running, counted to now: ${history.runningPods}; pod nodes skipped for bad timestamps: ${history.skippedPods})`,
    `Pods without a CPU request: ${history.podsWithoutCpuRequest}; without a memory request: ${history.podsWithoutMemoryRequest} (counted as 0)`,
    '',
    `${'date'.padEnd(12)}${pad('pods max', 9)}${pad('median', 8)}${pad('mean', 8)}${pad('CPU max', 10)}${pad('median', 9)}${pad('mem max', 10)}${pad('median', 9)}${pad('7d median', 11)}`,
    ...report.days.map(
      (day, i) =>
        `${day.date.padEnd(12)}${pad(String(day.maxPods), 9)}${pad(String(day.medianPods), 8)}${pad(day.meanPods.toFixed(1), 8)}` +
        `${pad(cores(day.maxCpuMillis), 10)}${pad(cores(day.medianCpuMillis), 9)}${pad(memory(day.maxMemoryBytes), 10)}${pad(memory(day.medianMemoryBytes), 9)}` +
        `${pad(FORMAT.pods.value(metrics.pods.movingMedian[i] ?? 0), 11)}`,
    ),
    '',
    `${''.padEnd(12)}${pad('Q', 12)}${pad('growth/week', 13)}${pad('slope/week', 12)}${pad(`in ${report.horizonWeeks} weeks`, 12)}`,
    metricLine('pods', metrics.pods),
    metricLine('cpu', metrics.cpu),
    metricLine('memory', metrics.memory),
    '',
    `Recommended ResourceQuota (all project namespaces together): pods: ${metrics.pods.quota}, requests.cpu: ${metrics.cpu.quota}m, requests.memory: ${Math.ceil(metrics.memory.quota / MI)}Mi`,
    '',
    'Assumptions:',
    ...report.assumptions.map((line) => `- ${line}`),
  ];
  return `${lines.join('\n')}\n`;
}
