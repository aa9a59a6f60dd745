// Writes config/argo-fields.json: the field names of Argo's own JSON Schema (api/jsonschema/schema.json in the
// github.com/argoproj/argo-workflows/v3 Go module, at the rig's and the deployment's Argo version), reduced to
// what the workflow policy needs to refuse a key Argo would read but the policy would not see
// (workflow-policy.ts, rule unknown-field): per definition its properties, items, map values and references,
// reachable from the kinds an owner writes. Descriptions, types and formats are left out.
//
//   npm run argo-schema              (ARGO_VERSION, default the Makefile's, picks the module version)
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ARGO_MODULE = 'github.com/argoproj/argo-workflows/v3';
export const DEFAULT_ARGO_VERSION = 'v3.7.18';
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const FIELDS_FILE = path.join(ROOT, 'config/argo-fields.json');
const PREFIX = 'io.argoproj.workflow.v1alpha1.';
export const ROOT_KINDS = ['Workflow', 'WorkflowTemplate', 'ClusterWorkflowTemplate', 'CronWorkflow'] as const;

type Schema = { $ref?: string; properties?: Record<string, Schema>; items?: Schema; additionalProperties?: Schema | boolean; [other: string]: unknown };
export type FieldNode = { $ref?: string; properties?: Record<string, FieldNode>; items?: FieldNode; additionalProperties?: FieldNode | boolean };

/** Argo's schema.json from the Go module (downloaded through the module proxy when it is not cached). */
export function argoSchemaText(version = DEFAULT_ARGO_VERSION): string {
  const info = JSON.parse(execFileSync('go', ['mod', 'download', '-json', `${ARGO_MODULE}@${version}`], { encoding: 'utf8' })) as { Dir: string };
  return readFileSync(path.join(info.Dir, 'api/jsonschema/schema.json'), 'utf8');
}

const refName = (ref: string): string => ref.replace(/^#\/definitions\//, '');

/** The reduced field tree of `schema`, keeping the definitions reachable from ROOT_KINDS. */
export function reduceArgoSchema(schema: { definitions: Record<string, Schema> }, version: string): object {
  const definitions: Record<string, FieldNode> = {};
  const pending = ROOT_KINDS.map((kind) => `${PREFIX}${kind}`);
  const reduce = (node: Schema): FieldNode => {
    const out: FieldNode = {};
    if (node.$ref) {
      out.$ref = node.$ref;
      pending.push(refName(node.$ref));
    }
    if (node.properties) out.properties = Object.fromEntries(Object.keys(node.properties).sort().map((k) => [k, reduce(node.properties![k]!)]));
    if (node.items) out.items = reduce(node.items);
    if (node.additionalProperties !== undefined) out.additionalProperties = typeof node.additionalProperties === 'boolean' ? node.additionalProperties : reduce(node.additionalProperties);
    return out;
  };
  while (pending.length > 0) {
    const name = pending.pop()!;
    if (definitions[name]) continue;
    const definition = schema.definitions[name];
    if (!definition) throw new Error(`Argo's schema references ${name}, which it does not define`);
    definitions[name] = {};
    definitions[name] = reduce(definition);
  }
  const sorted = Object.fromEntries(Object.keys(definitions).sort().map((k) => [k, definitions[k]]));
  return {
    $comment: `The field names of Argo's JSON Schema (${ARGO_MODULE}@${version} api/jsonschema/schema.json), reduced by dev/argo-schema.ts: do not edit, run npm run argo-schema.`,
    roots: Object.fromEntries(ROOT_KINDS.map((kind) => [kind, `#/definitions/${PREFIX}${kind}`])),
    definitions: sorted,
  };
}

/** The file's text for `version`. */
export function argoFieldsText(version = DEFAULT_ARGO_VERSION): string {
  return `${JSON.stringify(reduceArgoSchema(JSON.parse(argoSchemaText(version)) as { definitions: Record<string, Schema> }, version))}\n`;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const version = process.env.ARGO_VERSION ?? DEFAULT_ARGO_VERSION;
  writeFileSync(FIELDS_FILE, argoFieldsText(version));
  console.log(`wrote ${path.relative(ROOT, FIELDS_FILE)} from ${ARGO_MODULE}@${version}`);
}
