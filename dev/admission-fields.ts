// Writes the `fields` variables of the ValidatingAdmissionPolicies in knative/cluster/admission.yaml: Argo's exact
// field names at each place a policy reads, taken from config/argo-fields.json (Argo's own schema, made by
// dev/argo-schema.ts). The policies refuse any other key there, since Argo's decoder would read `PodSpecPatch` or
// `podſpecPatch` as podSpecPatch past a check for the exact name. Each generated block sits between a begin marker
// naming the places it holds and an end marker; nothing else in the file is touched.
// test/unit/admission-fields.test.ts fails when the committed policies are out of date with argo-fields.json.
//
//   npm run admission-fields          (npm run argo-schema runs it too, after writing argo-fields.json)
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FIELDS_FILE } from './argo-schema.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const ADMISSION_FILE = path.join(ROOT, 'knative/cluster/admission.yaml');
/** `# ---- Argo's fields for <place> <place> …: written by …` opens a block; END_MARKER closes it. */
const BEGIN_MARKER = /^ {4}# ---- Argo's fields for ([A-Za-z ]+): written by dev\/admission-fields\.ts \(npm run admission-fields\), do not edit ----$/;
export const END_MARKER = "    # ---- end of Argo's fields ----";

const ARGO = 'io.argoproj.workflow.v1alpha1.';
/** The places a policy may read, by the name its CEL uses (`variables.fields.<name>`), and Argo's definition there. */
export const PLACES: Readonly<Record<string, string>> = {
  WorkflowSpec: `${ARGO}WorkflowSpec`,
  CronWorkflowSpec: `${ARGO}CronWorkflowSpec`,
  WorkflowMetadata: `${ARGO}WorkflowMetadata`,
  ObjectMeta: 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta',
  WorkflowLevelArtifactGC: `${ARGO}WorkflowLevelArtifactGC`,
  Template: `${ARGO}Template`,
  WorkflowStep: `${ARGO}WorkflowStep`,
  DAGTemplate: `${ARGO}DAGTemplate`,
  DAGTask: `${ARGO}DAGTask`,
  LifecycleHook: `${ARGO}LifecycleHook`,
  TemplateRef: `${ARGO}TemplateRef`,
  WorkflowTemplateRef: `${ARGO}WorkflowTemplateRef`,
  Arguments: `${ARGO}Arguments`,
  Inputs: `${ARGO}Inputs`,
  Outputs: `${ARGO}Outputs`,
  Data: `${ARGO}Data`,
  DataSource: `${ARGO}DataSource`,
  // Also a data template's source.artifactPaths (Argo's ArtifactPaths, the same fields).
  Artifact: `${ARGO}Artifact`,
  // Not a place of its own: the policy reads which of an artifact's keys name a location from it.
  ArtifactLocation: `${ARGO}ArtifactLocation`,
  Synchronization: `${ARGO}Synchronization`,
  Mutex: `${ARGO}Mutex`,
  SemaphoreRef: `${ARGO}SemaphoreRef`,
  WorkflowStatus: `${ARGO}WorkflowStatus`,
  NodeStatus: `${ARGO}NodeStatus`,
};

interface ArgoFields {
  readonly $comment?: string;
  readonly definitions: Readonly<Record<string, { readonly properties?: Readonly<Record<string, unknown>> }>>;
}

/** Go's case folding as far as Argo's (ASCII) field names go: `ſ` is s, the Kelvin sign k. */
const fold = (name: string): string => name.replace(/ſ/g, 's').replace(/\u212a/g, 'k').toLowerCase();

/** Each place's field names, sorted; throws when argo-fields.json lacks a place or two fields fold alike. */
export function placeFields(argoFields: ArgoFields, places: readonly string[] = Object.keys(PLACES)): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const place of places) {
    const definition = PLACES[place];
    if (!definition) throw new Error(`a policy asks for Argo's fields of ${place}, which dev/admission-fields.ts does not know`);
    const properties = argoFields.definitions[definition]?.properties;
    if (!properties) throw new Error(`${FIELDS_FILE} has no fields for ${definition} (${place})`);
    const names = Object.keys(properties).sort();
    const folded = new Set(names.map(fold));
    if (folded.size !== names.length) throw new Error(`${definition} has fields that differ only in case: the policy could not tell which Argo reads`);
    out[place] = names;
  }
  const artifactPaths = Object.keys(argoFields.definitions[`${ARGO}ArtifactPaths`]?.properties ?? {}).sort();
  if (out.Artifact && artifactPaths.join() !== out.Artifact.join()) throw new Error("Argo's ArtifactPaths no longer has an Artifact's fields: the policy judges it as one");
  return out;
}

const WIDTH = 118;

/** The generated lines (between the markers) of the `fields` variable for `places`. */
export function fieldsBlock(argoFields: ArgoFields, places: readonly string[]): string {
  const version = /@(v[\w.-]+)/.exec(argoFields.$comment ?? '')?.[1] ?? 'unknown';
  const lines = [
    `    # Argo ${version}, config/argo-fields.json.`,
    '    - name: fields',
    '      expression: |-',
    '        {',
  ];
  const fields = Object.entries(placeFields(argoFields, places));
  fields.forEach(([place, names], p) => {
    const entries = names.map((name) => `'${name}': true`);
    let line = `          '${place}': {`;
    entries.forEach((entry, i) => {
      const piece = `${entry}${i < entries.length - 1 ? ',' : `}${p < fields.length - 1 ? ',' : ''}`}`;
      if (line.length + 1 + piece.length > WIDTH && !line.endsWith('{')) {
        lines.push(line);
        line = `            ${piece}`;
      } else {
        line += line.endsWith('{') ? piece : ` ${piece}`;
      }
    });
    lines.push(line);
  });
  lines.push('        }');
  return lines.join('\n');
}

/** The places each generated block of `policyText` holds, in order. */
export function markedPlaces(policyText: string): string[][] {
  return policyText.split('\n').flatMap((line) => {
    const match = BEGIN_MARKER.exec(line);
    return match ? [match[1]!.trim().split(/ +/)] : [];
  });
}

/** `policyText` with every generated block written anew from `argoFields`. */
export function withFields(policyText: string, argoFields: ArgoFields): string {
  const out: string[] = [];
  let open = false;
  for (const line of policyText.split('\n')) {
    const begin = BEGIN_MARKER.exec(line);
    if (begin) {
      if (open) throw new Error(`${ADMISSION_FILE}: a generated block opens before the last one closed`);
      out.push(line, fieldsBlock(argoFields, begin[1]!.trim().split(/ +/)));
      open = true;
    } else if (line === END_MARKER) {
      if (!open) throw new Error(`${ADMISSION_FILE}: a generated block closes that never opened`);
      out.push(line);
      open = false;
    } else if (!open) {
      out.push(line);
    }
  }
  if (open) throw new Error(`${ADMISSION_FILE}: a generated block never closes`);
  if (markedPlaces(policyText).length === 0) throw new Error(`${ADMISSION_FILE} has no generated blocks`);
  return out.join('\n');
}

export const readArgoFields = (): ArgoFields => JSON.parse(readFileSync(FIELDS_FILE, 'utf8')) as ArgoFields;

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const before = readFileSync(ADMISSION_FILE, 'utf8');
  const after = withFields(before, readArgoFields());
  writeFileSync(ADMISSION_FILE, after);
  console.log(`${after === before ? 'unchanged' : 'wrote'} the fields of ${path.relative(ROOT, ADMISSION_FILE)} from ${path.relative(ROOT, FIELDS_FILE)}`);
}
