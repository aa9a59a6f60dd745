// `make manifests-check`: the kustomize base and every overlay, rendered with `kubectl kustomize` and
// server-side dry-run against the rig's kube-apiserver (Knative and Argo CRDs installed) with strict field
// validation, object by object; then the pure checks of test/support/manifests.ts (every function deployed and
// reachable, subscribers and ServiceAccounts exist, no inlined Secrets, RBAC equal to knative/rbac-needs.yaml),
// and each workload's environment against its code's own start-up check (support/function-env.ts).
// Fixtures under test/fixtures/manifests/ prove each check fails when it should. The dry-run stands in for a
// real Knative data plane, which cannot run here: it proves the objects are accepted, not that they serve.
// rig: parallel (test/run.ts): server-side dry runs only
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { nodeFlagsOf } from '../../dev/serve-function.js';
import { ClusterClient } from '../../shared/k8s/cluster.js';
import {
  checkAll,
  checkRbac,
  checkSubscribersExist,
  identity,
  parseRbacNeeds,
  serviceCommands,
  parseRendered,
  workloadEnvironments,
  type K8sObject,
} from '../support/manifests.js';
import { checkEnvironment } from './support/function-env.js';
import { loadRig } from './support/rig.js';

const rig = loadRig();
const cluster = ClusterClient.fromEnv({ KUBECONFIG: rig.KUBECONFIG });
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const fixtures = path.join(root, 'test/fixtures/manifests');

const BASE = 'knative';
const OVERLAYS = readdirSync(path.join(root, 'knative/overlays'), { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => `knative/overlays/${e.name}`);

const FUNCTIONS = readdirSync(path.join(root, 'functions'), { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name)
  .sort();
// gerrit-webhook (Gerrit's webhooks plugin posts to it) and status (people read it) are the HTTP functions;
// every other one is a CloudEvent function and must be delivered to (functions/index.ts registers each with its kind).
const HTTP_FUNCTIONS = new Set(['gerrit-webhook', 'status']);
const CLOUDEVENT_FUNCTIONS = FUNCTIONS.filter((f) => !HTTP_FUNCTIONS.has(f));
const NEEDS = parseRbacNeeds(readFileSync(path.join(root, 'knative/rbac-needs.yaml'), 'utf8'));

function run(cmd: string, args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { cwd: root, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
    child.stdin?.end(input ?? '');
  });
}

async function render(dir: string): Promise<{ text: string; objects: K8sObject[] }> {
  const out = await run('kubectl', ['kustomize', dir]);
  if (out.code !== 0) throw new Error(`kubectl kustomize ${dir} failed: ${out.stderr}`);
  return { text: out.stdout, objects: parseRendered(out.stdout) };
}

/** Server-side dry-run of every object, strict field validation; resolves with kubectl's output, never throws. */
const dryRun = (text: string) =>
  run('kubectl', ['--kubeconfig', rig.KUBECONFIG, 'apply', '--server-side', '--dry-run=server', '--validate=strict', '--force-conflicts', '--field-manager=seakeeper-manifests-check', '-f', '-'], text);

test.before(async () => {
  // The objects in seakeeper-system can only be dry-run into an existing namespace.
  await cluster.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'seakeeper-system' } });
});

const renders = new Map<string, K8sObject[]>();

// What the cluster gives every pod without a manifest saying so: here the rig's kubeconfig stands in for the
// pod's ServiceAccount token, so the Kubernetes clients can be made.
const PLATFORM = { KUBECONFIG: rig.KUBECONFIG };
const environmentProblems = (objects: K8sObject[]) => workloadEnvironments(objects).flatMap((w) => checkEnvironment(w, PLATFORM));

for (const dir of [BASE, ...OVERLAYS]) {
  test(`${dir}: every rendered object passes a strict server-side dry-run`, async () => {
    const { text, objects } = await render(dir);
    renders.set(dir, objects);
    const out = await dryRun(text);
    assert.is(out.code, 0, `dry-run of ${dir} failed:\n${out.stderr}`);
    const applied = out.stdout.split('\n').filter((l) => l.endsWith('serverside-applied (server dry run)'));
    assert.is(applied.length, objects.length, `kubectl dry-ran ${applied.length} of ${objects.length} objects:\n${out.stdout}`);
  });

  test(`${dir}: functions deployed and reachable, subscribers and accounts exist, no inlined secrets, RBAC = rbac-needs.yaml`, async () => {
    const objects = renders.get(dir) ?? (await render(dir)).objects;
    assert.equal(checkAll(objects, FUNCTIONS, CLOUDEVENT_FUNCTIONS, NEEDS), []);
  });

  test(`${dir}: a Service that sets a command runs the image's CMD script with the flags tests and the bench use`, async () => {
    const objects = renders.get(dir) ?? (await render(dir)).objects;
    const [, script] = JSON.parse(/^CMD (\[.*\])$/m.exec(readFileSync(path.join(root, 'Dockerfile'), 'utf8'))![1]!) as string[];
    const commands = serviceCommands(objects);
    for (const fn of FUNCTIONS) {
      const flags = nodeFlagsOf(fn);
      assert.equal(commands[fn], flags.length > 0 ? ['node', ...flags, script] : undefined, fn);
    }
    assert.equal(FUNCTIONS.filter((fn) => nodeFlagsOf(fn).length > 0), ['comment-added', 'patchset-created', 'workflow-completed', 'workflow-watch']);
  });

  test(`${dir}: every function and source starts with the environment it is given, and reads all of it`, async () => {
    const objects = renders.get(dir) ?? (await render(dir)).objects;
    const workloads = workloadEnvironments(objects);
    assert.equal(workloads.map((w) => w.program).sort(), [...FUNCTIONS, 'gerrit-stream'].sort());
    assert.equal(environmentProblems(objects), []);
  });
}

test('every overlay renders the same objects as the base', async () => {
  const ids = async (dir: string) => (renders.get(dir) ?? (await render(dir)).objects).map(identity).sort();
  const base = await ids(BASE);
  assert.ok(base.length > 40, `base renders ${base.length} objects`);
  for (const overlay of OVERLAYS) assert.equal(await ids(overlay), base, overlay);
});

test('the overlays set the image: kind a local, unresolved tag; production a digest', async () => {
  const images = async (dir: string) =>
    new Set(JSON.stringify((renders.get(dir) ?? (await render(dir)).objects)).match(/"image":"[^"]*"/g) ?? []);
  assert.equal([...(await images('knative/overlays/kind'))], ['"image":"kind.local/seakeeper:dev"']);
  const production = [...(await images('knative/overlays/production'))];
  assert.is(production.length, 1);
  assert.match(production[0]!, /@sha256:[0-9a-f]{64}"$/);
});

test('fixture broken/: a typo in a Knative Service fails the strict dry-run, naming the field', async () => {
  const { text } = await render(path.join(fixtures, 'broken'));
  const out = await dryRun(text);
  assert.is.not(out.code, 0, out.stdout);
  // Server-side apply words it "field not declared in schema"; a strict create says "unknown field".
  assert.match(out.stderr, /\.spec\.template\.spec\.containerConcurency: field not declared in schema|unknown field "spec\.template\.spec\.containerConcurency"/);
});

test('fixture missing-subscriber/: a Trigger to a Service that does not exist fails the subscriber check', async () => {
  const { objects } = await render(path.join(fixtures, 'missing-subscriber'));
  assert.equal(checkSubscribersExist(objects), ['Trigger review-posted: delivers to Service review-posted, which does not exist']);
  assert.equal(checkAll(objects, FUNCTIONS, CLOUDEVENT_FUNCTIONS, NEEDS), ['Trigger review-posted: delivers to Service review-posted, which does not exist']);
});

test('fixture rbac-gap/: a verb the code needs, taken away, is a gap; one added is an orphan', async () => {
  const { objects } = await render(path.join(fixtures, 'rbac-gap'));
  assert.equal(checkRbac(objects, NEEDS).sort(), [
    // workflow-completed holds patch through seakeeper-pipelines too (a gate queue's runs): no gap there.
    'gap: workflow-watch cluster argoproj.io/workflows patch is needed but not granted',
    'orphan: workflow-completed cluster argoproj.io/workflows delete is granted but not declared in the needs',
    'orphan: workflow-watch cluster argoproj.io/workflows delete is granted but not declared in the needs',
  ]);
});

test('fixture env-gap/: a variable a function requires, taken away, is a gap; one it never reads is an orphan', async () => {
  const { objects } = await render(path.join(fixtures, 'env-gap'));
  assert.equal(environmentProblems(objects), [
    'Service workflow-completed: ARGO_UI_URL is required',
    'Service workflow-watch: sets GERRIT_SSH_HOST, which workflow-watch never reads',
  ]);
});

test.run();
