// The capacity report's pure core (shared/capacity/) on synthetic histories whose answers are known by
// construction: steady load, a weekly cycle, linear growth, idle days, pods without requests, pods still
// running, pods across midnight, and Workflows too broken to read.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { analyseCapacity } from '../../shared/capacity/capacity.js';
import { dailyConcurrency, DAY_MS, windowBefore } from '../../shared/capacity/concurrency.js';
import { intervalList, podHistory, templateRequests } from '../../shared/capacity/pod-intervals.js';
import { reportText } from '../../shared/capacity/report-text.js';
import { concurrencyChart, niceTop } from '../../shared/capacity/svg-chart.js';
import { leastSquaresSlope, movingMedian, recommendedQuota, trendOf } from '../../shared/capacity/trend.js';

const HOUR = 3_600_000;
/** A Saturday, UTC midnight. */
const DAY0 = Date.parse('2026-11-07T00:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();

interface PodSpec {
  start: number;
  end?: number | undefined;
  template?: string;
}

let uids = 0;
/** A Workflow as Argo leaves it: one Pod node per spec, a `build` template requesting 500m and 1Gi, `bare` requesting nothing. */
function workflow(pods: PodSpec[], extra: { finishedAt?: string; phase?: string } = {}): object {
  uids += 1;
  const nodes: Record<string, object> = { [`wf-${uids}`]: { type: 'DAG', startedAt: iso(pods[0]?.start ?? DAY0) } };
  pods.forEach((pod, i) => {
    nodes[`wf-${uids}-${i}`] = {
      type: 'Pod',
      templateName: pod.template ?? 'build',
      startedAt: iso(pod.start),
      finishedAt: pod.end === undefined ? null : iso(pod.end),
    };
  });
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Workflow',
    metadata: { name: `wf-${uids}`, namespace: 'sk-p', uid: `uid-${uids}` },
    spec: {
      templates: [
        { name: 'main', dag: { tasks: [] } },
        { name: 'build', container: { image: 'x', resources: { requests: { cpu: '500m', memory: '1Gi' } } } },
        { name: 'bare', container: { image: 'x' } },
      ],
    },
    status: { phase: extra.phase ?? 'Succeeded', finishedAt: extra.finishedAt ?? null, nodes },
  };
}

/** `count` pods over [from, to), each in a Workflow of its own. */
const load = (count: number, from: number, to: number, template?: string) =>
  Array.from({ length: count }, () => workflow([{ start: from, end: to, ...(template ? { template } : {}) }]));

/** `now` at noon of the day after `days` days from DAY0: the window is exactly those days. */
const nowAfter = (days: number) => DAY0 + days * DAY_MS + 12 * HOUR;

test('steady load: k pods all the time → max = median = k every day, growth 0, quota k', () => {
  const days = 14;
  const history = load(3, DAY0 - DAY_MS, DAY0 + (days + 1) * DAY_MS);
  const report = analyseCapacity(history, { now: nowAfter(days), days, horizonWeeks: 4 });
  assert.is(report.window.from, '2026-11-07');
  assert.is(report.window.to, '2026-11-20');
  assert.equal(report.metrics.pods.dailyMax, Array(days).fill(3));
  assert.equal(report.metrics.pods.dailyMedian, Array(days).fill(3));
  assert.equal(report.metrics.pods.movingMedian, Array(days).fill(3));
  assert.is(report.metrics.pods.growthPerWeek, 0);
  assert.is(report.metrics.pods.quota, 3);
  assert.is(report.metrics.cpu.quota, 1500);
  assert.is(report.metrics.memory.quota, 3 * 2 ** 30);
  assert.equal(report.days.map((d) => d.meanPods), Array(days).fill(3));
  assert.is(report.history.pods, 3);
});

test('weekly cycle: weekdays peak at 10 with a median of 4, weekends 2; the moving median by hand', () => {
  const days = 14; // Sat 2026-11-07 … Fri 2026-11-20
  const history: object[] = [];
  for (let d = 0; d < days; d++) {
    const midnight = DAY0 + d * DAY_MS;
    const weekend = d % 7 === 0 || d % 7 === 1;
    if (weekend) {
      history.push(...load(2, midnight, midnight + DAY_MS));
    } else {
      history.push(...load(4, midnight, midnight + DAY_MS), ...load(6, midnight + 8 * HOUR, midnight + 20 * HOUR));
    }
  }
  const report = analyseCapacity(history, { now: nowAfter(days), days, horizonWeeks: 4 });
  const pods = report.metrics.pods;
  assert.equal(pods.dailyMax, [2, 2, 10, 10, 10, 10, 10, 2, 2, 10, 10, 10, 10, 10]);
  // Half the weekday at 4 and half at 10: the time-weighted median is the lower, 4.
  assert.equal(pods.dailyMedian, [2, 2, 4, 4, 4, 4, 4, 2, 2, 4, 4, 4, 4, 4]);
  // [2] [2,2] [2,2,10] [2,2,10,10]→6 [2,2,10,10,10]→10, then every 7-day window holds five 10s and two 2s.
  assert.equal(pods.movingMedian, [2, 2, 2, 6, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10]);
  assert.is(pods.latest, 10);
  assert.equal(report.days.map((d) => d.meanPods), [2, 2, 7, 7, 7, 7, 7, 2, 2, 7, 7, 7, 7, 7]);
  assert.is(report.metrics.cpu.dailyMax[2], 5000);
  assert.is(report.metrics.cpu.dailyMedian[2], 2000);
});

test('linear growth: 10 + d pods on day d → slope 7 pods a week, growth 7 / 24.5 a week, quota from the latest level', () => {
  const days = 30;
  const history: object[] = [];
  for (let d = 0; d < days; d++) history.push(...load(10 + d, DAY0 + d * DAY_MS, DAY0 + (d + 1) * DAY_MS));
  const report = analyseCapacity(history, { now: nowAfter(days), days, horizonWeeks: 4 });
  const pods = report.metrics.pods;
  assert.equal(pods.dailyMax, Array.from({ length: days }, (_, d) => 10 + d));
  assert.ok(Math.abs(pods.slopePerWeek - 7) < 1e-9, String(pods.slopePerWeek));
  // Mean daily max 24.5 (day 14.5 of the fit): 7 / 24.5 = 2/7 a week.
  assert.ok(Math.abs(pods.growthPerWeek - 2 / 7) < 1e-12, String(pods.growthPerWeek));
  assert.is(pods.latest, 36); // median of 33…39
  // 36 × (1 + 4 × 2/7) = 77.14… → 78.
  assert.is(pods.quota, 78);
  // 36 pods of 500m: 18 cores × 15/7 = 38.571… cores → 38572m.
  assert.is(report.metrics.cpu.quota, 38_572);
});

test('idle days are days of zeros, not missing ones', () => {
  const days = 5;
  const history = [...load(4, DAY0 + 1 * DAY_MS + 6 * HOUR, DAY0 + 1 * DAY_MS + 18 * HOUR), ...load(1, DAY0 + 3 * DAY_MS, DAY0 + 4 * DAY_MS)];
  const report = analyseCapacity(history, { now: nowAfter(days), days, horizonWeeks: 4 });
  assert.equal(
    report.days.map((d) => [d.date, d.maxPods, d.medianPods, d.maxCpuMillis]),
    [
      ['2026-11-07', 0, 0, 0],
      ['2026-11-08', 4, 0, 2000], // 12 of 24 hours at 0, 12 at 4: the lower median is 0
      ['2026-11-09', 0, 0, 0],
      ['2026-11-10', 1, 1, 500],
      ['2026-11-11', 0, 0, 0],
    ],
  );
  assert.equal(report.metrics.pods.movingMedian, [0, 2, 0, 0.5, 0]);
});

test('pods without requests count 0 and are reported; limits stand in for missing requests', () => {
  const days = 1;
  const history = [...load(2, DAY0, DAY0 + DAY_MS, 'bare'), ...load(1, DAY0, DAY0 + DAY_MS), workflow([{ start: DAY0, end: DAY0 + DAY_MS, template: 'nowhere' }])];
  const report = analyseCapacity(history, { now: nowAfter(days), days, horizonWeeks: 4 });
  assert.is(report.days[0]!.maxPods, 4);
  assert.is(report.days[0]!.maxCpuMillis, 500);
  assert.is(report.history.podsWithoutCpuRequest, 3);
  assert.is(report.history.podsWithoutMemoryRequest, 3);
  assert.equal(templateRequests({ container: { resources: { limits: { cpu: '2', memory: '100Mi' } } } }), {
    cpuMillis: 2000,
    memoryBytes: 100 * 2 ** 20,
    hasCpu: true,
    hasMemory: true,
  });
  // Containers and sidecars add up; an init container counts only where it is larger.
  assert.equal(
    templateRequests({
      script: { resources: { requests: { cpu: '250m', memory: '64Mi' } } },
      sidecars: [{ resources: { requests: { cpu: '0.25' } } }],
      initContainers: [{ resources: { requests: { cpu: '100m', memory: '1Gi' } } }],
    }),
    { cpuMillis: 500, memoryBytes: 2 ** 30, hasCpu: true, hasMemory: true },
  );
  assert.equal(templateRequests({ containerSet: { containers: [{ resources: { requests: { cpu: '1' } } }, { resources: { requests: { cpu: '1' } } }] } }).cpuMillis, 2000);
});

test('templates are found through storedTemplates and templateRef as Argo keeps them', () => {
  const wf = {
    metadata: { name: 'w', uid: 'stored' },
    spec: { workflowTemplateRef: { name: 'ci' } },
    status: {
      storedTemplates: { 'namespaced/lib/test': { name: 'test', container: { resources: { requests: { cpu: '3' } } } } },
      storedWorkflowTemplateSpec: { templates: [{ name: 'lint', container: { resources: { requests: { cpu: '1' } } } }] },
      nodes: {
        a: { type: 'Pod', templateRef: { name: 'lib', template: 'test' }, startedAt: iso(DAY0), finishedAt: iso(DAY0 + HOUR) },
        b: { type: 'Pod', templateName: 'lint', startedAt: iso(DAY0), finishedAt: iso(DAY0 + HOUR) },
      },
    },
  };
  const history = podHistory([wf], DAY0 + DAY_MS);
  assert.equal(
    intervalList(history.intervals).map((i) => i.cpuMillis),
    [3000, 1000],
  );
});

test('a running pod without finishedAt counts until now; one of a finished Workflow until the Workflow finished', () => {
  const days = 3;
  const now = nowAfter(days); // noon of day 3; the window is days 0–2
  const history = [
    workflow([{ start: DAY0 + DAY_MS + 12 * HOUR }], { phase: 'Running' }),
    workflow([{ start: DAY0 + 6 * HOUR }], { phase: 'Failed', finishedAt: iso(DAY0 + 9 * HOUR) }),
  ];
  const report = analyseCapacity(history, { now, days, horizonWeeks: 4 });
  assert.is(report.history.runningPods, 1);
  assert.equal(report.metrics.pods.dailyMax, [1, 1, 1]);
  assert.equal(report.metrics.pods.dailyMedian, [0, 0, 1]);
  assert.equal(report.days.map((d) => d.meanPods), [3 / 24, 0.5, 1]);
  const podHistoryNow = podHistory(history, now);
  assert.equal(
    intervalList(podHistoryNow.intervals).map((i) => [i.start, i.end]),
    [
      [DAY0 + DAY_MS + 12 * HOUR, now],
      [DAY0 + 6 * HOUR, DAY0 + 9 * HOUR],
    ],
  );
});

test('a pod across midnight is split between the days', () => {
  const days = 2;
  // 18:00 → 06:00: 6 h on each side; with 3 pods all of day 1 from 02:00, day 1 peaks at 4.
  const history = [...load(1, DAY0 + 18 * HOUR, DAY0 + DAY_MS + 6 * HOUR), ...load(3, DAY0 + DAY_MS + 2 * HOUR, DAY0 + 2 * DAY_MS)];
  const stats = dailyConcurrency(podHistory(history, nowAfter(days)).intervals, windowBefore(nowAfter(days), days));
  assert.equal(
    stats.map((d) => [d.maxPods, d.medianPods, d.meanPods, d.maxMemoryBytes]),
    [
      [1, 0, 6 / 24, 2 ** 30],
      [4, 3, (6 + 3 * 22) / 24, 4 * 2 ** 30],
    ],
  );
});

test('a pod ending when another starts does not overlap it', () => {
  const history = [...load(1, DAY0, DAY0 + 12 * HOUR), ...load(1, DAY0 + 12 * HOUR, DAY0 + DAY_MS)];
  const report = analyseCapacity(history, { now: nowAfter(1), days: 1, horizonWeeks: 4 });
  assert.is(report.days[0]!.maxPods, 1);
  assert.is(report.days[0]!.medianPods, 1);
});

test('malformed Workflows and pod nodes are skipped and counted, never thrown on', () => {
  const good = workflow([{ start: DAY0, end: DAY0 + HOUR }]);
  const pod = (fields: object) => ({ metadata: { name: 'p' }, status: { nodes: { n: { type: 'Pod', templateName: 'x', ...fields } } } });
  const history = [
    null,
    42,
    'wf',
    [],
    {},
    { metadata: { name: 'no-status' } },
    { metadata: { name: 'status-string' }, status: 'Running' },
    { metadata: { name: 'no-nodes' }, status: { phase: 'Succeeded' } },
    { metadata: { name: 'nodes-array' }, status: { nodes: [] } },
    { metadata: { name: 'null-node' }, status: { nodes: { a: null, b: 7 } } },
    pod({ startedAt: 'yesterday', finishedAt: iso(DAY0) }),
    pod({ startedAt: iso(DAY0), finishedAt: 'soon' }),
    pod({ startedAt: iso(DAY0 + HOUR), finishedAt: iso(DAY0) }),
    pod({ finishedAt: iso(DAY0) }),
    pod({ startedAt: 1_700_000_000 }),
    good,
    good,
  ];
  const report = analyseCapacity(history, { now: nowAfter(1), days: 1, horizonWeeks: 4 });
  assert.equal(report.history.skippedWorkflows, { 'not an object': 4, 'no metadata': 1, 'no status': 2, 'no status.nodes': 2 });
  assert.is(report.history.skippedPods, 5);
  assert.is(report.history.duplicates, 1);
  assert.is(report.history.pods, 1);
  assert.is(report.history.workflows, 16);
  assert.is(report.days[0]!.maxPods, 1);
});

test('trend: moving median, slope, growth and quota', () => {
  assert.equal(movingMedian([5, 1, 3, 8, 8, 8, 2, 0, 9], 7), [5, 3, 3, 4, 5, 6.5, 5, 3, 8]);
  assert.is(leastSquaresSlope([1, 3, 5, 7]), 2);
  assert.is(leastSquaresSlope([4]), 0);
  assert.equal(trendOf([0, 0, 0]), { slopePerWeek: 0, growthPerWeek: 0 });
  assert.is(recommendedQuota(100, 0.05, 4), 120);
  assert.is(recommendedQuota(100, -0.1, 4), 100);
  assert.is(recommendedQuota(100, 0.05, 0), 100);
});

test('a shrinking load keeps the quota at the latest level', () => {
  const days = 14;
  const history: object[] = [];
  for (let d = 0; d < days; d++) history.push(...load(30 - d, DAY0 + d * DAY_MS, DAY0 + (d + 1) * DAY_MS));
  const report = analyseCapacity(history, { now: nowAfter(days), days, horizonWeeks: 4 });
  assert.ok(report.metrics.pods.growthPerWeek < 0);
  assert.is(report.metrics.pods.latest, 20); // median of 23…17
  assert.is(report.metrics.pods.quota, 20);
});

test('the text report and the chart carry the figures and the assumptions', () => {
  const days = 7;
  const report = analyseCapacity(load(3, DAY0, DAY0 + days * DAY_MS), { now: nowAfter(days), days, horizonWeeks: 6 });
  const text = reportText(report, ['Read 3 Workflows.']);
  assert.match(text, 'Seakeeper capacity report: 2026-11-07 to 2026-11-13 (7 days, UTC)');
  assert.match(text, 'Read 3 Workflows.');
  assert.match(text, /2026-11-07\s+3\s+3\s+3\.0\s+1\.5\s+1\.5\s+3\.0Gi\s+3\.0Gi\s+3/);
  assert.match(text, 'pods: 3, requests.cpu: 1500m, requests.memory: 3072Mi');
  assert.match(text, 'Q × (1 + 6 weeks × growth per week)');
  const svg = concurrencyChart(report);
  assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.is(svg.match(/<polyline /g)?.length, 3);
  assert.match(svg, '7-day moving median of the max');
  assert.match(svg, '>11-07<');
  assert.is(niceTop(12), 25);
  assert.is(niceTop(0), 5);
  assert.is(niceTop(100), 100);
});

test.run();
