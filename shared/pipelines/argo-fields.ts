// Which keys of a definition Argo's controller would read that the policy would not see. Argo decodes
// Workflows with Go's encoding/json, which matches a key to a field case-insensitively (and folds some Unicode
// letters: `ſ` is `s`, `K` is `k`), and a CRD without a full schema prunes nothing: `PodSpecPatch` or
// `PriorityClassName` would pass every rule, which look for the exact spelling, and still take effect. So every
// key of a definition must be exactly a field of Argo's own schema for its place (config/argo-fields.json,
// made from Argo's JSON Schema by dev/argo-schema.ts); maps (labels, parameters' values, …) and free-form
// values (Argo's `Item`, a plugin's body) take any key. Pure.
import { readConfigJson } from '../config/files.js';

export type ArgoKind = 'Workflow' | 'WorkflowTemplate' | 'ClusterWorkflowTemplate' | 'CronWorkflow';

interface FieldNode {
  readonly $ref?: string;
  readonly properties?: Readonly<Record<string, FieldNode>>;
  readonly items?: FieldNode;
  readonly additionalProperties?: FieldNode | boolean;
}

interface ArgoFields {
  readonly roots: Readonly<Record<ArgoKind, string>>;
  readonly definitions: Readonly<Record<string, FieldNode>>;
}

export const ARGO_FIELDS_FILE = 'argo-fields.json';

let fields: ArgoFields | undefined;
const argoFields = (): ArgoFields => (fields ??= readConfigJson(ARGO_FIELDS_FILE) as ArgoFields);

/** A key Argo does not have at that place, and the field it would be read as (same letters, other case). */
export interface UnknownField {
  readonly path: readonly (string | number)[];
  readonly key: string;
  readonly readAs?: string | undefined;
}

type Json = unknown;
const isObject = (v: Json): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

function resolve(node: FieldNode, definitions: ArgoFields['definitions']): FieldNode {
  let current = node;
  for (let hops = 0; current.$ref !== undefined && hops < 32; hops++) {
    const target = definitions[current.$ref.replace(/^#\/definitions\//, '')];
    if (!target) return {};
    current = target;
  }
  return current;
}

/** Go's case folding, as far as it matters here: simple lower case, plus the two letters that fold to ASCII. */
const fold = (key: string): string => key.replace(/ſ/g, 's').replace(/\u212a/g, 'k').toLowerCase();

/**
 * The keys under `value` (the `field` of a `kind`, e.g. `spec` of a Workflow) that are not fields of Argo's
 * schema there, with their paths from `at`.
 */
export function unknownFields(value: Json, kind: ArgoKind, field: string, at: readonly (string | number)[]): UnknownField[] {
  const { roots, definitions } = argoFields();
  const root = resolve({ $ref: roots[kind] }, definitions);
  const start = root.properties?.[field];
  if (!start) throw new Error(`Argo's ${kind} has no field ${field}`);
  const found: UnknownField[] = [];
  const visit = (v: Json, node: FieldNode, path: readonly (string | number)[]): void => {
    const schema = resolve(node, definitions);
    if (Array.isArray(v)) {
      if (schema.items) v.forEach((item, i) => visit(item, schema.items!, [...path, i]));
      return;
    }
    if (!isObject(v)) return;
    const extra = schema.additionalProperties;
    if (schema.properties) {
      const properties = schema.properties;
      for (const [key, child] of Object.entries(v)) {
        if (Object.hasOwn(properties, key)) visit(child, properties[key]!, [...path, key]);
        else if (isObject(extra)) visit(child, extra, [...path, key]);
        else if (extra !== true) found.push({ path: [...path, key], key, readAs: Object.keys(properties).find((p) => fold(p) === fold(key)) });
      }
    } else if (isObject(extra)) {
      for (const [key, child] of Object.entries(v)) visit(child, extra, [...path, key]);
    }
  };
  visit(value, start, at);
  return found;
}
