// What an API server gives back after a server-side apply by Seakeeper, closely enough for the planner:
// uid, resourceVersion and managedFields added, quantities canonicalised in another spelling, defaults and
// fields of other actors filled in. Pure; used to test that a second pass plans no writes.
import { parseQuantity } from '../../../shared/config/quantity.js';
import { SEAKEEPER_FIELD_MANAGER } from '../../../shared/provisioning/plan.js';
import type { KubeObject, LiveObject } from '../../../shared/provisioning/objects.js';

const clone = <T>(v: T): T => structuredClone(v);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** managedFields' fieldsV1 for the fields an applied object sets (lists are atomic leaves). */
export function fieldsOf(value: unknown): Record<string, unknown> {
  if (!isObject(value)) return {};
  const out: Record<string, unknown> = {};
  if (Object.keys(value).length > 0) out['.'] = {};
  for (const [k, v] of Object.entries(value)) out[`f:${k}`] = fieldsOf(v);
  return out;
}

export function appliedFields(obj: KubeObject): Record<string, unknown> {
  const { apiVersion: _a, kind: _k, metadata, ...rest } = obj;
  const { name: _n, namespace: _ns, ...meta } = metadata;
  const fields = fieldsOf(rest);
  delete fields['.'];
  return { 'f:metadata': fieldsOf(meta), ...fields };
}

/** Another spelling of the same quantity, as the API server's canonical form often is. */
export function respell(text: string): string {
  const q = parseQuantity(text);
  if (!q) return text;
  // value in milli-units when exact, else leave alone
  const milli = (q.num * 1000n) / q.den;
  if ((milli * q.den) !== q.num * 1000n) return text;
  if (milli % 1000n !== 0n) return `${milli}m`;
  const whole = milli / 1000n;
  for (const [suffix, factor] of [['Gi', 2n ** 30n], ['Mi', 2n ** 20n], ['Ki', 2n ** 10n]] as const) {
    if (whole >= factor && whole % factor === 0n) return `${whole / factor}${suffix}`;
  }
  return String(whole);
}

let uid = 0;

export function serverView(obj: KubeObject, manager = SEAKEEPER_FIELD_MANAGER): LiveObject {
  const live = clone(obj) as LiveObject;
  live.metadata.uid = `uid-${++uid}`;
  live.metadata.resourceVersion = String(uid);
  live.metadata.creationTimestamp = '2026-01-01T00:00:00Z';
  live.metadata.managedFields = [
    { manager, operation: 'Apply', apiVersion: obj.apiVersion, fieldsType: 'FieldsV1', fieldsV1: appliedFields(obj) },
  ];
  switch (obj.kind) {
    case 'Namespace':
      live.metadata.labels = { ...live.metadata.labels, 'kubernetes.io/metadata.name': obj.metadata.name };
      live.spec = { finalizers: ['kubernetes'] };
      live.status = { phase: 'Active' };
      break;
    case 'ResourceQuota': {
      const spec = live.spec as { hard: Record<string, string> };
      spec.hard = Object.fromEntries(Object.entries(spec.hard).map(([k, v]) => [k, respell(v)]));
      live.status = { hard: spec.hard, used: Object.fromEntries(Object.keys(spec.hard).map((k) => [k, '0'])) };
      break;
    }
    case 'LimitRange': {
      const spec = live.spec as { limits: Record<string, unknown>[] };
      spec.limits = spec.limits.map((item) =>
        Object.fromEntries(
          Object.entries(item).map(([k, v]) => [k, isObject(v) ? Object.fromEntries(Object.entries(v).map(([r, q]) => [r, respell(String(q))])) : v]),
        ),
      );
      break;
    }
    case 'ServiceAccount':
      // Another controller's annotation: not ours, never compared.
      live.metadata.annotations = { ...live.metadata.annotations, 'example.com/scanned': 'true' };
      break;
  }
  return live;
}
