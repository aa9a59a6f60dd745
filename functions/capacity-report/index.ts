// The weekly PingSource's function (knative/sources/gerrit-stream.yaml): the capacity report of README's "How big
// must the cluster be?", written into the ConfigMap seakeeper-capacity of the system namespace, where the
// latest one is read with kubectl. Same code as `npm run capacity`, same bounds on its two numbers. A tick that
// fails on the cluster is retried like any delivery; one whose data is out of bounds never will succeed, so it
// is logged and acknowledged.
import { DAYS_BOUNDS, DEFAULT_DAYS, DEFAULT_HORIZON_WEEKS, WEEKS_BOUNDS } from '../../shared/capacity/capacity.js';
import { capacityConfigFromEnv, CAPACITY_CONFIGMAP, writeCapacityConfigMap, type CapacityConfig } from '../../shared/capacity/capacity-shell.js';
import { loadAll } from '../../shared/config/policy-env.js';
import { loadEnv } from '../../shared/env.js';
import { PermanentError } from '../../shared/errors.js';
import { cloudEventFunction, type InboundEvent } from '../../shared/events/handler.js';
import { systemNamespaceEnv } from '../../shared/k8s/env.js';

interface CapacityReportDeps {
  readonly config: CapacityConfig;
  readonly namespace: string;
}

let served: CapacityReportDeps | undefined;

/** Checks the configuration (KUBECONFIG or the pod's ServiceAccount, ARGO_SERVER_URL, SEAKEEPER_NAMESPACE): at start-up, when this function is served. */
export function startCapacityReport(env: NodeJS.ProcessEnv = process.env): CapacityReportDeps {
  const [{ SEAKEEPER_NAMESPACE }, config] = loadAll(
    () => loadEnv(systemNamespaceEnv, env),
    () => capacityConfigFromEnv(env),
  );
  served = { config, namespace: SEAKEEPER_NAMESPACE };
  return served;
}

function wholeNumber(data: Record<string, unknown>, field: string, fallback: number, bounds: { min: number; max: number }): number {
  const value = data[field];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < bounds.min || value > bounds.max) {
    throw new PermanentError(`capacity-report: ${field} must be a whole number from ${bounds.min} to ${bounds.max}, not ${JSON.stringify(value)}`);
  }
  return value;
}

/** The report's window and horizon from the event's JSON data (the PingSource's `days`, `horizonWeeks`); the CLI's defaults where absent. */
export function capacityOptionsOf(event: Pick<InboundEvent, 'data'>): { days: number; horizonWeeks: number } {
  const { data } = event;
  if (data === undefined || data === null || data === '') return { days: DEFAULT_DAYS, horizonWeeks: DEFAULT_HORIZON_WEEKS };
  if (typeof data !== 'object' || Array.isArray(data) || Buffer.isBuffer(data)) {
    throw new PermanentError('capacity-report: the event data must be a JSON object');
  }
  const fields = data as Record<string, unknown>;
  return { days: wholeNumber(fields, 'days', DEFAULT_DAYS, DAYS_BOUNDS), horizonWeeks: wholeNumber(fields, 'horizonWeeks', DEFAULT_HORIZON_WEEKS, WEEKS_BOUNDS) };
}

export async function writeCapacityReport(event: InboundEvent, deps: CapacityReportDeps, now = Date.now()): Promise<Record<string, unknown>> {
  const { days, horizonWeeks } = capacityOptionsOf(event);
  const report = await writeCapacityConfigMap(deps.config, deps.namespace, { now, days, horizonWeeks });
  const { pods, cpu, memory } = report.metrics;
  return {
    configMap: `${deps.namespace}/${CAPACITY_CONFIGMAP}`,
    days,
    horizonWeeks,
    workflows: report.history.workflows,
    pods: report.history.pods,
    quota: { pods: pods.quota, cpuMillis: cpu.quota, memoryBytes: memory.quota },
  };
}

export const capacityReport = cloudEventFunction('capacity-report', (event) => writeCapacityReport(event, served ?? startCapacityReport()));
