// Argo Workflows → the pods they ran, as time intervals with the CPU and memory each pod requested. Pure: the
// shell lists the Workflows; this reads them as untrusted JSON (an old run, a hand-made one, an archived one
// without its nodes), skips and counts what it cannot read, and never throws.
//
// A pod is a node of `status.nodes` with `type: Pod`. It runs from its `startedAt` (Argo sets it when it creates
// the node, so a pod waiting to be scheduled counts as running: it holds its quota already) to its
// `finishedAt`; a node without `finishedAt` ends when its Workflow finished, or, while the Workflow runs, now.
// Its requests come from the template it ran, as Kubernetes sums them for scheduling and quota: the containers
// and sidecars together, or the largest init container when that is more; a container's missing request is
// its limit, as the API server defaults it. Argo's own executor containers (init, wait) are not in the
// template and are not counted.
import { parseQuantity } from '../config/quantity.js';

/** A pod's run `[start, end)` in ms since the epoch, and what it requested (0 when it requested nothing). */
export interface PodInterval {
  readonly start: number;
  readonly end: number;
  readonly cpuMillis: number;
  readonly memoryBytes: number;
}

/**
 * Pod intervals as columns: entry `i` of each array is one pod, `count` of them (the arrays may be longer).
 * A month of a busy cluster is half a million pods, which as objects the garbage collector would trace
 * again and again beside the Workflows the shell holds.
 */
export interface PodIntervals {
  readonly count: number;
  readonly starts: Float64Array;
  readonly ends: Float64Array;
  readonly cpuMillis: Float64Array;
  readonly memoryBytes: Float64Array;
}

/** The intervals one by one, for reading a small history. */
export function intervalList(intervals: PodIntervals): PodInterval[] {
  return Array.from({ length: intervals.count }, (_, i) => ({
    start: intervals.starts[i]!,
    end: intervals.ends[i]!,
    cpuMillis: intervals.cpuMillis[i]!,
    memoryBytes: intervals.memoryBytes[i]!,
  }));
}

/** Columns that grow by doubling. */
class IntervalColumns implements PodIntervals {
  count = 0;
  starts = new Float64Array(1024);
  ends = new Float64Array(1024);
  cpuMillis = new Float64Array(1024);
  memoryBytes = new Float64Array(1024);

  push(start: number, end: number, cpuMillis: number, memoryBytes: number): void {
    if (this.count === this.starts.length) {
      const grown = (column: Float64Array) => {
        const next = new Float64Array(column.length * 2);
        next.set(column);
        return next;
      };
      this.starts = grown(this.starts);
      this.ends = grown(this.ends);
      this.cpuMillis = grown(this.cpuMillis);
      this.memoryBytes = grown(this.memoryBytes);
    }
    const i = this.count;
    this.starts[i] = start;
    this.ends[i] = end;
    this.cpuMillis[i] = cpuMillis;
    this.memoryBytes[i] = memoryBytes;
    this.count += 1;
  }
}

export const SKIPPED_WORKFLOW_REASONS = ['not an object', 'no metadata', 'no status', 'no status.nodes'] as const;
export type SkippedWorkflowReason = (typeof SKIPPED_WORKFLOW_REASONS)[number];

export interface PodHistory {
  readonly intervals: PodIntervals;
  /** Workflows read, skipped ones included; duplicates (same uid) once. */
  readonly workflows: number;
  readonly skippedWorkflows: Record<SkippedWorkflowReason, number>;
  /** Workflows seen a second time (the same uid live and in the archive), read once. */
  readonly duplicates: number;
  /** Pod nodes turned into intervals. */
  readonly pods: number;
  /** Pod nodes skipped: `startedAt` missing or not a timestamp, `finishedAt` not a timestamp or before `startedAt`. */
  readonly skippedPods: number;
  /** Pods counted as running until now (no `finishedAt`, Workflow not finished). */
  readonly runningPods: number;
  /** Pods whose template declares no CPU request (nor limit), or whose template was not found: counted as 0. */
  readonly podsWithoutCpuRequest: number;
  readonly podsWithoutMemoryRequest: number;
}

interface Requests {
  cpuMillis: number;
  memoryBytes: number;
  hasCpu: boolean;
  hasMemory: boolean;
}

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const NOTHING: readonly unknown[] = [];
const NO_FIELDS: Readonly<Json> = {};
const list = (value: unknown): readonly unknown[] => (Array.isArray(value) ? value : NOTHING);

// Date.parse alone accepts many loose forms; Kubernetes and Argo write RFC 3339.
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/;

/** ms since the epoch, `undefined` when absent (null, ''), NaN when present but not RFC 3339. */
function timestamp(value: unknown): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string' || !RFC3339.test(value)) return Number.NaN;
  return Date.parse(value);
}

// A month of runs repeats a few dozen quantity texts a million times; exact parsing is BigInt work.
const MAX_CACHED_QUANTITIES = 10_000;
const cpuMillisOf = new Map<unknown, number | undefined>();
const bytesOf = new Map<unknown, number | undefined>();

/** The quantity in units of 1/`unitsPerOne`, rounded up: a quota must hold the request, and 0.1m of CPU needs 1m. */
function quantityIn(text: unknown, unitsPerOne: bigint, cache: Map<unknown, number | undefined>): number | undefined {
  if (typeof text !== 'string' && typeof text !== 'number') return undefined;
  if (cache.has(text)) return cache.get(text);
  const q = parseQuantity(String(text));
  const value = q ? Number((q.num * unitsPerOne + q.den - 1n) / q.den) : undefined;
  if (cache.size < MAX_CACHED_QUANTITIES) cache.set(text, value);
  return value;
}

/**
 * Adds a container's requests into `total`: summed for containers that run side by side, or as a floor
 * (`largest`) for an init container, which runs alone before them. Written without allocating: it runs for
 * every pod of a month.
 */
function addContainer(total: Requests, container: unknown, largest: boolean): void {
  if (!isObject(container) || !isObject(container.resources)) return;
  const requests = isObject(container.resources.requests) ? container.resources.requests : NO_FIELDS;
  const limits = isObject(container.resources.limits) ? container.resources.limits : NO_FIELDS;
  const cpu = quantityIn(requests.cpu ?? limits.cpu, 1000n, cpuMillisOf);
  const memory = quantityIn(requests.memory ?? limits.memory, 1n, bytesOf);
  if (cpu !== undefined) {
    total.cpuMillis = largest ? Math.max(total.cpuMillis, cpu) : total.cpuMillis + cpu;
    total.hasCpu = true;
  }
  if (memory !== undefined) {
    total.memoryBytes = largest ? Math.max(total.memoryBytes, memory) : total.memoryBytes + memory;
    total.hasMemory = true;
  }
}

/** What a pod of this template requests, as the scheduler adds it up. */
export function templateRequests(template: unknown): Requests {
  const total: Requests = { cpuMillis: 0, memoryBytes: 0, hasCpu: false, hasMemory: false };
  if (!isObject(template)) return total;
  addContainer(total, template.container, false);
  addContainer(total, template.script, false);
  if (isObject(template.containerSet)) for (const container of list(template.containerSet.containers)) addContainer(total, container, false);
  for (const container of list(template.sidecars)) addContainer(total, container, false);
  for (const container of list(template.initContainers)) addContainer(total, container, true);
  return total;
}

function named(templates: unknown, name: string): unknown {
  for (const template of list(templates)) if (isObject(template) && template.name === name) return template;
  return undefined;
}

/**
 * A node's template where Argo keeps it: `spec.templates`, the stored WorkflowTemplate spec of a
 * `workflowTemplateRef` run, and `status.storedTemplates` (keyed `namespaced/<WorkflowTemplate>/<template>` or
 * `cluster/…` for a templateRef).
 */
function templateOf(workflow: Json, status: Json, node: Json): unknown {
  const stored = isObject(status.storedTemplates) ? status.storedTemplates : NO_FIELDS;
  const ref = node.templateRef;
  if (isObject(ref) && typeof ref.name === 'string' && typeof ref.template === 'string') {
    return stored[`${ref.clusterScope === true ? 'cluster' : 'namespaced'}/${ref.name}/${ref.template}`];
  }
  const name = node.templateName;
  if (typeof name !== 'string') return undefined;
  const spec = isObject(workflow.spec) ? workflow.spec.templates : undefined;
  const storedSpec = isObject(status.storedWorkflowTemplateSpec) ? status.storedWorkflowTemplateSpec.templates : undefined;
  return named(spec, name) ?? named(storedSpec, name) ?? stored[`namespaced/${name}`] ?? stored[name];
}

/** The pods of Workflows added one at a time (a list's pages as they come): `history()` is what podHistory returns. */
export class HistoryBuilder {
  readonly intervals = new IntervalColumns();
  readonly skippedWorkflows: Record<SkippedWorkflowReason, number> = { 'not an object': 0, 'no metadata': 0, 'no status': 0, 'no status.nodes': 0 };
  readonly #seen = new Set<string>();
  workflows = 0;
  duplicates = 0;
  pods = 0;
  skippedPods = 0;
  runningPods = 0;
  podsWithoutCpuRequest = 0;
  podsWithoutMemoryRequest = 0;

  constructor(readonly now: number) {}

  history(): PodHistory {
    const { intervals, skippedWorkflows, workflows, duplicates, pods, skippedPods, runningPods, podsWithoutCpuRequest, podsWithoutMemoryRequest } = this;
    return { intervals, workflows, skippedWorkflows, duplicates, pods, skippedPods, runningPods, podsWithoutCpuRequest, podsWithoutMemoryRequest };
  }

  add(workflow: unknown): void {
    if (!isObject(workflow)) return this.#skip('not an object');
    const uid = isObject(workflow.metadata) && typeof workflow.metadata.uid === 'string' ? workflow.metadata.uid : undefined;
    if (uid !== undefined) {
      if (this.#seen.has(uid)) {
        this.duplicates += 1;
        return;
      }
      this.#seen.add(uid);
    }
    if (!isObject(workflow.metadata)) return this.#skip('no metadata');
    const status = workflow.status;
    if (!isObject(status)) return this.#skip('no status');
    if (!isObject(status.nodes)) return this.#skip('no status.nodes');
    this.workflows += 1;
    const workflowEnd = timestamp(status.finishedAt);
    for (const node of Object.values(status.nodes)) {
      if (isObject(node) && node.type === 'Pod') this.#addPod(workflow, status, node, workflowEnd);
    }
  }

  #skip(reason: SkippedWorkflowReason): void {
    this.workflows += 1;
    this.skippedWorkflows[reason] += 1;
  }

  #addPod(workflow: Json, status: Json, node: Json, workflowEnd: number | undefined): void {
    const start = timestamp(node.startedAt);
    let end = timestamp(node.finishedAt);
    if (start === undefined || Number.isNaN(start) || Number.isNaN(end) || (end !== undefined && end < start)) {
      this.skippedPods += 1;
      return;
    }
    if (end === undefined) {
      if (workflowEnd !== undefined && !Number.isNaN(workflowEnd) && workflowEnd >= start) {
        end = workflowEnd;
      } else {
        end = Math.max(start, this.now);
        this.runningPods += 1;
      }
    }
    const requests = templateRequests(templateOf(workflow, status, node));
    if (!requests.hasCpu) this.podsWithoutCpuRequest += 1;
    if (!requests.hasMemory) this.podsWithoutMemoryRequest += 1;
    this.pods += 1;
    this.intervals.push(start, end, requests.cpuMillis, requests.memoryBytes);
  }
}

/**
 * The pods of `workflows` (live ones first, then archived: a uid seen before is not read again). `now` ends
 * the pods that are still running.
 */
export function podHistory(workflows: Iterable<unknown>, now: number): PodHistory {
  const builder = new HistoryBuilder(now);
  for (const workflow of workflows) builder.add(workflow);
  return builder.history();
}
