// The field lists of the admission policies (knative/cluster/admission.yaml) are Argo's, as config/argo-fields.json
// has them: dev/admission-fields.ts writes them, and the committed file must be what it would write. Each policy
// names only places its list holds, and uses every place it lists.
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseAllDocuments } from 'yaml';
import { ADMISSION_FILE, END_MARKER, markedPlaces, placeFields, readArgoFields, withFields } from '../../dev/admission-fields.js';

const TEXT = readFileSync(ADMISSION_FILE, 'utf8');

interface Policy {
  kind: string;
  metadata: { name: string };
  spec: { variables?: { name: string; expression: string }[]; validations?: { expression: string; messageExpression?: string }[]; matchConditions?: { expression: string }[] };
}
const POLICIES = parseAllDocuments(TEXT)
  .map((d) => d.toJS() as Policy)
  .filter((d) => d.kind === 'ValidatingAdmissionPolicy');

test('the committed policies hold exactly the field lists config/argo-fields.json gives (else: npm run admission-fields)', () => {
  assert.ok(markedPlaces(TEXT).length > 0, 'no generated blocks found');
  assert.ok(withFields(TEXT, readArgoFields()) === TEXT, `${ADMISSION_FILE} is out of date with config/argo-fields.json: run npm run admission-fields`);
});

test('each generated list is Argo\'s, and catches what Go\'s decoder would fold: PodSpecPatch and podſpecPatch are not fields', () => {
  const fields = placeFields(readArgoFields());
  assert.ok(fields.Template!.includes('podSpecPatch'));
  for (const key of ['PodSpecPatch', 'podſpecPatch', 'podspecpatch']) assert.not.ok(fields.Template!.includes(key), key);
  assert.ok(fields.WorkflowSpec!.includes('podPriorityClassName'));
  assert.not.ok(fields.WorkflowSpec!.includes('priorityClassName'), 'a WorkflowSpec has no priorityClassName: it is refused as a key Argo does not have');
  assert.equal(fields.DAGTemplate, ['failFast', 'target', 'tasks']);
});

test('every policy with field lists names only places its list holds, and uses every place it lists', () => {
  const withLists = POLICIES.filter((p) => p.spec.variables?.some((v) => v.name === 'fields'));
  assert.equal(withLists.map((p) => p.metadata.name).sort(), ['seakeeper-project-workflows', 'seakeeper-workflow-status']);
  for (const policy of withLists) {
    const fields = policy.spec.variables!.find((v) => v.name === 'fields')!.expression;
    const listed = [...fields.matchAll(/^ {2}'(\w+)': \{/gm)].map((m) => m[1]!);
    const expressions = [
      ...policy.spec.variables!.filter((v) => v.name !== 'fields').map((v) => v.expression),
      ...(policy.spec.validations ?? []).flatMap((v) => [v.expression, v.messageExpression ?? '']),
    ].join('\n');
    const named = new Set([...expressions.matchAll(/variables\.fields\.(\w+)/g)].map((m) => m[1]!));
    // `keyed` maps a place to its objects; its keys index variables.fields.
    const keyed = policy.spec.variables!.find((v) => v.name === 'keyed')?.expression ?? '';
    for (const m of keyed.matchAll(/'(\w+)':/g)) named.add(m[1]!);
    for (const place of named) assert.ok(listed.includes(place), `${policy.metadata.name} reads variables.fields.${place}, which its list lacks`);
    for (const place of listed) assert.ok(named.has(place), `${policy.metadata.name} lists ${place} but never reads it`);
  }
});

test('the generator refuses a file whose markers do not pair, and a place it does not know', () => {
  const block = TEXT.split('\n').find((line) => line.includes("# ---- Argo's fields for"))!;
  assert.throws(() => withFields(`${block}\nx`, readArgoFields()), /never closes/);
  assert.throws(() => withFields(`x\n${END_MARKER}`, readArgoFields()), /never opened/);
  assert.throws(() => withFields('x\n', readArgoFields()), /no generated blocks/);
  assert.throws(() => placeFields(readArgoFields(), ['NoSuchPlace']), /does not know/);
});

test.run();
