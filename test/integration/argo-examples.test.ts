// Argo's own examples are what project owners copy: every Workflow and WorkflowTemplate of `examples/` in the
// github.com/argoproj/argo-workflows/v3 Go module, at the Argo version the rig runs (read through the module
// proxy, as argo-fields.test.ts does), goes through the workflow policy. Those that do something a tenant may
// not do are in REFUSED, with the rules that refuse them and why; every other one must pass. A file holding
// several documents is checked one document at a time (a definition is one document). Also: the labels and
// annotations the policy reserves under workflows.argoproj.io/ are exactly the ones Argo's source defines.
// rig: parallel (test/run.ts): reads Argo's module only, nothing on the rig
import { execFileSync } from 'node:child_process';
import { globSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ARGO_MODULE, DEFAULT_ARGO_VERSION } from '../../dev/argo-schema.js';
import { formatProblem, parseYaml, type ConfigProblem } from '../../shared/config/yaml.js';
import { ARGO_RESERVED_ANNOTATIONS, ARGO_RESERVED_LABELS, checkDefinition, checkWorkflowTemplate, POLICY_RULES } from '../../shared/pipelines/workflow-policy.js';

const MODULE_DIR = (JSON.parse(execFileSync('go', ['mod', 'download', '-json', `${ARGO_MODULE}@${DEFAULT_ARGO_VERSION}`], { encoding: 'utf8' })) as { Dir: string }).Dir;

const R = POLICY_RULES;
const resource = 'resource templates create arbitrary Kubernetes objects with the workflow\'s account';
const podSpecPatch = 'podSpecPatch can set any field of the pod, past every other rule';
const http = 'http templates run in Argo\'s agent pod, which needs RBAC a project namespace does not grant';
const clusterTemplate = 'uses a ClusterWorkflowTemplate, shared by every project';
const database = 'database locks are shared by every namespace';
const ownStorage = 'a key, bucket, endpoint or credentials of its own, which in a shared repository reach other projects\' artifacts and logs';
const fetched = 'Argo\'s server fetches from there, from its own network, when someone opens the artifact';

/** `examples/<file>` (`#n`: its n-th document) → the rules that refuse it, and why: what the example does. */
const REFUSED: Readonly<Record<string, { rules: readonly string[]; why: string }>> = {
  'examples/arguments-artifacts.yaml': { rules: [R.artifactLocation], why: `passes an http artifact (kubectl from a URL): ${fetched}` },
  'examples/artifact-gc-workflow.yaml': { rules: [R.artifactLocation], why: `keeps its outputs under s3 keys of their own: ${ownStorage}` },
  'examples/artifact-repository-ref.yaml': { rules: [R.artifactLocation], why: 'picks another artifact repository configuration (artifactRepositoryRef)' },
  'examples/artifactory-artifact.yaml': { rules: [R.artifactLocation], why: `passes a file through an Artifactory repository: ${ownStorage}` },
  'examples/artifacts-workflowtemplate.yaml': { rules: [R.artifactLocation], why: `reads an http input (${fetched}) and keeps its outputs under s3 keys of their own (${ownStorage})` },
  'examples/ci-output-artifact.yaml': { rules: [R.artifactLocation], why: `clones its source as a git artifact: ${fetched}` },
  'examples/ci-workflowtemplate.yaml': { rules: [R.artifactLocation], why: `keeps its Go caches and test report under s3 keys of their own: ${ownStorage}` },
  'examples/ci.yaml': { rules: [R.artifactLocation], why: `clones its source as a git artifact: ${fetched}` },
  'examples/cluster-workflow-template/cluster-wftmpl-dag.yaml': { rules: [R.clusterScope], why: clusterTemplate },
  'examples/cluster-workflow-template/mixed-cluster-namespaced-wftmpl-steps.yaml': { rules: [R.clusterScope], why: clusterTemplate },
  'examples/cluster-workflow-template/workflow-template-ref-with-entrypoint-arg-passing.yaml': { rules: [R.clusterScope], why: clusterTemplate },
  'examples/cluster-workflow-template/workflow-template-ref.yaml': { rules: [R.clusterScope], why: clusterTemplate },
  'examples/cron-backfill.yaml#2': { rules: [R.resourceTemplate], why: `creates CronWorkflows: ${resource}` },
  'examples/daemoned-stateful-set-with-service.yaml': { rules: [R.resourceTemplate], why: `creates a StatefulSet and a Service: ${resource}` },
  'examples/data-transformations.yaml': { rules: [R.artifactLocation], why: `reads a bucket's keys (s3 artifactPaths and arguments): ${ownStorage}` },
  'examples/hdfs-artifact.yaml': { rules: [R.artifactLocation], why: `passes a file through HDFS: ${ownStorage}` },
  'examples/http-hello-world.yaml': { rules: [R.agentTemplate], why: http },
  'examples/http-success-condition.yaml': { rules: [R.agentTemplate], why: http },
  'examples/influxdb-ci.yaml': { rules: [R.artifactLocation], why: `clones its source as a git artifact: ${fetched}` },
  'examples/input-artifact-azure.yaml': { rules: [R.artifactLocation], why: `reads an input from an Azure container: ${ownStorage}` },
  'examples/input-artifact-gcs.yaml': { rules: [R.artifactLocation], why: `reads an input from a GCS bucket: ${ownStorage}` },
  'examples/input-artifact-git.yaml': { rules: [R.artifactLocation], why: `clones a repository as a git artifact: ${fetched}` },
  'examples/input-artifact-http.yaml': { rules: [R.artifactLocation], why: `downloads kubectl as an http artifact: ${fetched}` },
  'examples/input-artifact-oss.yaml': { rules: [R.artifactLocation], why: `reads an input from an OSS bucket: ${ownStorage}` },
  'examples/input-artifact-s3.yaml': { rules: [R.artifactLocation], why: `reads an input from an S3 bucket: ${ownStorage}` },
  'examples/k8s-jobs.yaml': { rules: [R.resourceTemplate], why: `creates a Job: ${resource}` },
  'examples/k8s-owner-reference.yaml': { rules: [R.resourceTemplate], why: `creates a ConfigMap: ${resource}` },
  'examples/k8s-patch-json-pod.yaml': { rules: [R.resourceTemplate], why: `patches a pod: ${resource}` },
  'examples/k8s-patch-json-workflow.yaml': { rules: [R.resourceTemplate], why: `patches a Workflow: ${resource}` },
  'examples/k8s-patch-merge-pod.yaml': { rules: [R.resourceTemplate], why: `patches a pod: ${resource}` },
  'examples/k8s-patch-pod.yaml': { rules: [R.resourceTemplate], why: `patches a pod: ${resource}` },
  'examples/k8s-resource-log-selector.yaml': { rules: [R.resourceTemplate], why: `creates a Workflow: ${resource}` },
  'examples/k8s-set-owner-reference.yaml': { rules: [R.resourceTemplate], why: `creates a ConfigMap: ${resource}` },
  'examples/k8s-orchestration.yaml': { rules: [R.resourceTemplate], why: `creates and deletes a Job: ${resource}` },
  'examples/k8s-wait-wf.yaml': { rules: [R.resourceTemplate], why: `creates and waits for a Workflow: ${resource}` },
  'examples/key-only-artifact.yaml': { rules: [R.artifactLocation], why: `passes a file under an s3 key of its own: ${ownStorage}` },
  'examples/life-cycle-hooks-tmpl-level.yaml': { rules: [R.agentTemplate], why: `its hook is an http template: ${http}` },
  'examples/life-cycle-hooks-wf-level.yaml': { rules: [R.agentTemplate], why: `its hook is an http template: ${http}` },
  'examples/map-reduce.yaml': { rules: [R.artifactLocation], why: `keeps its parts and results under s3 keys of their own: ${ownStorage}` },
  'examples/output-artifact-azure.yaml': { rules: [R.artifactLocation], why: `writes an output to an Azure container: ${ownStorage}` },
  'examples/output-artifact-gcs.yaml': { rules: [R.artifactLocation], why: `writes an output to a GCS bucket: ${ownStorage}` },
  'examples/output-artifact-s3.yaml': { rules: [R.artifactLocation], why: `writes an output to an S3 bucket: ${ownStorage}` },
  'examples/pod-spec-from-previous-step.yaml': { rules: [R.podSpecPatch], why: podSpecPatch },
  'examples/pod-spec-patch-wf-tmpl.yaml': { rules: [R.podSpecPatch], why: podSpecPatch },
  'examples/pod-spec-patch.yaml': { rules: [R.podSpecPatch], why: podSpecPatch },
  'examples/pod-spec-yaml-patch.yaml': { rules: [R.podSpecPatch], why: podSpecPatch },
  'examples/resource-delete-with-flags.yaml': { rules: [R.resourceTemplate], why: `creates and deletes ConfigMaps: ${resource}` },
  'examples/resource-flags.yaml': { rules: [R.resourceTemplate], why: `creates a ConfigMap: ${resource}` },
  'examples/sidecar-dind.yaml': { rules: [R.privileged], why: 'runs Docker in a privileged sidecar' },
  'examples/synchronization-db-mutex-tmpl-level.yaml': { rules: [R.synchronization], why: database },
  'examples/synchronization-db-mutex-wf-level.yaml': { rules: [R.synchronization], why: database },
  'examples/synchronization-db-tmpl-level.yaml': { rules: [R.synchronization], why: database },
  'examples/synchronization-db-wf-level.yaml': { rules: [R.synchronization], why: database },
  'examples/webhdfs-input-output-artifacts.yaml': { rules: [R.artifactLocation], why: `reads and writes WebHDFS through http artifacts: ${fetched}` },
  'examples/work-avoidance.yaml': { rules: [R.artifactLocation], why: `keeps its markers in a bucket, endpoint and credentials of its own: ${ownStorage}` },
  'examples/workflow-of-workflows.yaml': { rules: [R.resourceTemplate], why: `creates Workflows: ${resource}` },
};

interface Example {
  readonly name: string;
  readonly kind: string;
  readonly text: string;
}

/** Every document of every example file, split at `---` lines (as kubectl does), with its kind. */
function examples(): Example[] {
  const out: Example[] = [];
  for (const file of globSync('examples/**/*.yaml', { cwd: MODULE_DIR }).sort()) {
    const documents = readFileSync(path.join(MODULE_DIR, file), 'utf8')
      .split(/^---[ \t]*(?:#.*)?$/m)
      .filter((text) => /^[ \t]*[^#\s]/m.test(text));
    documents.forEach((text, i) => {
      // A document the parser refuses still has its kind read, so that it counts as refused.
      const parsed = parseYaml(text, file);
      const kind = parsed.ok ? String((parsed.document.value as { kind?: unknown } | null)?.kind) : (/^ *kind:[ \t]*["']?(\w+)/m.exec(text)?.[1] ?? '');
      out.push({ name: documents.length > 1 ? `${file}#${i}` : file, kind, text });
    });
  }
  return out;
}

function problemsOf({ name, kind, text }: Example): ConfigProblem[] {
  if (kind === 'Workflow') {
    const result = checkDefinition({ kind: 'file', file: name, text });
    return result.ok ? [] : result.problems;
  }
  const parsed = parseYaml(text, name);
  if (!parsed.ok) return parsed.problems;
  const value = parsed.document.value as { metadata?: { name?: string } };
  return checkWorkflowTemplate(value.metadata?.name ?? name, value);
}

const ALL = examples();
const CHECKED = ALL.filter((e) => e.kind === 'Workflow' || e.kind === 'WorkflowTemplate');

test(`Argo ${DEFAULT_ARGO_VERSION}'s examples: those in the refused table are refused for its rules, every other one passes`, () => {
  assert.ok(CHECKED.length > 150, `only ${CHECKED.length} examples found in ${MODULE_DIR}`);
  const wrong: string[] = [];
  let refused = 0;
  for (const example of CHECKED) {
    const problems = problemsOf(example);
    const rules = [...new Set(problems.map((p) => p.rule))].sort();
    const expected = REFUSED[example.name];
    if (problems.length > 0) refused += 1;
    if (!expected && problems.length > 0) {
      wrong.push(`${example.name} is refused:\n  ${problems.map(formatProblem).join('\n  ')}`);
    } else if (expected && rules.join() !== [...expected.rules].sort().join()) {
      wrong.push(`${example.name} should be refused by ${expected.rules.join(', ')} (${expected.why}), and is ${rules.length > 0 ? `by ${rules.join(', ')}` : 'accepted'}`);
    }
  }
  const missing = Object.keys(REFUSED).filter((name) => !CHECKED.some((e) => e.name === name));
  for (const name of missing) wrong.push(`${name} is in the refused table but is no Workflow or WorkflowTemplate example`);
  assert.ok(wrong.length === 0, wrong.join('\n'));
  console.log(`  ${ALL.length} documents, ${CHECKED.length} Workflows and WorkflowTemplates: ${CHECKED.length - refused} accepted, ${refused} refused`);
});

/** Argo's label and annotation keys under workflows.argoproj.io/ (workflow/common/common.go). */
function argoKeys(): { labels: string[]; annotations: string[] } {
  const source = readFileSync(path.join(MODULE_DIR, 'workflow/common/common.go'), 'utf8');
  const labels: string[] = [];
  const annotations: string[] = [];
  for (const [, constant, key] of source.matchAll(/^\s*(\w+)\s*=\s*workflow\.WorkflowFullName \+ "\/([^"]+)"/gm)) {
    if (constant!.startsWith('Label')) labels.push(`workflows.argoproj.io/${key}`);
    else if (constant!.startsWith('AnnotationKey')) annotations.push(`workflows.argoproj.io/${key}`);
  }
  return { labels: labels.sort(), annotations: annotations.sort() };
}

test("the reserved workflows.argoproj.io/ labels and annotations are the ones Argo's source defines, and each is refused", () => {
  const { labels, annotations } = argoKeys();
  assert.ok(labels.length > 10 && annotations.length > 5, 'Argo\'s constants not found in workflow/common/common.go');
  assert.equal([...ARGO_RESERVED_LABELS].sort(), labels);
  assert.equal([...ARGO_RESERVED_ANNOTATIONS].sort(), annotations);
  const readFrom = (kind: 'labels' | 'annotations', key: string) =>
    `apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata:\n  generateName: x-\n  ${kind}: { ${key}: "true" }\nspec:\n  entrypoint: main\n  templates: [{ name: main, container: { image: alpine } }]\n`;
  for (const [kind, keys] of [['labels', labels], ['annotations', [...annotations, 'workflows.argoproj.io/kill-cmd-main']]] as const) {
    for (const key of keys) {
      const result = checkDefinition({ kind: 'file', file: 'x.yaml', text: readFrom(kind, key) });
      assert.equal(result.ok ? [] : result.problems.map((p) => p.rule), [R.reservedMetadata], `${kind} ${key}`);
    }
  }
});

test.run();
