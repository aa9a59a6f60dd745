// The status function on the rig: a ChangeQueue of six items (real changes in Gerrit, one of a project only
// administrators may read, which the page must not name) made directly through the API, gate runs and a
// check run as Argo runs them, Workflows that are not runs (another project's hash, a namespace no project
// has), and the function served as production serves it, acting as its own ServiceAccount with knative/'s RBAC
// (so a missing rule fails here). Its JSON is checked, then the page as a person sees it in headless Chromium
// (the screenshot is kept: the path is printed).
// rig: parallel (test/run.ts): only reads; its queue, namespaces and Workflows have names of their own, and it asserts only about them
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { httpClusterFromEnv } from '../../shared/k8s/http-cluster.js';
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE, PROJECT_ANNOTATION, PROJECT_HASH_LABEL, namespaceFor, projectHash, ARGO_API_VERSION, WORKFLOW_KIND } from '../../shared/names.js';
import { CHANGE_QUEUE_API_VERSION, CHANGE_QUEUE_KIND, type QueueItem, type QueueState } from '../../shared/pipelines/change-queue.js';
import { changeQueueObject, type ChangeQueueObject } from '../../shared/pipelines/queue-store.js';
import { CHANGE_LABEL, PATCHSET_LABEL, PIPELINE_LABEL, REVISION_LABEL, safeText } from '../../shared/runs/workflow.js';
import type { ChangeAnswer } from '../../shared/status/change-answer.js';
import type { StatusView } from '../../shared/status/status-view.js';
import { createProject, pushChange } from '../../dev/gerrit-chores.js';
import { encodeId, GerritRest } from '../../shared/gerrit/rest.js';
import { publicRefs } from '../../shared/status/status-source.js';
import { refKey } from '../../shared/status/public-view.js';
import { serveFunction, type ServedFunction } from './support/functions.js';
import { rigConnections } from './support/gerrit.js';
import { accountKubeconfig } from './support/pipeline-rbac.js';
import { applyManifests, hideProjects, kubectl, PROVISIONER_NAMESPACE } from './support/provisioning.js';
import { loadRig, uniqueSuffix } from './support/rig.js';
import { eventually } from './support/wait.js';

const rig = loadRig();
const admin = httpClusterFromEnv({ KUBECONFIG: rig.KUBECONFIG });
const SUFFIX = uniqueSuffix();
const PROJECT = `status-it-${SUFFIX}`;
const NAMESPACE = namespaceFor(PROJECT);
/** A namespace that belongs to no project: nothing in it may be shown. */
const STRAY_NAMESPACE = `status-stray-${SUFFIX}`;
const GATE = 'gate-and-submit';
const QUEUE = `${PROJECT} master`;
/** A project only administrators and Seakeeper's account may read: its changes run, but the page must not show them. */
const SECRET = `status-it-${SUFFIX}-secret`;
// Real changes, so that Gerrit answers for them: C1…C5 and CHECK in PROJECT, which anyone may read, HIDDEN in
// SECRET. The forged runs' numbers are never looked up.
let C1 = 0, C2 = 0, C3 = 0, C4 = 0, C5 = 0, CHECK = 0, HIDDEN = 0, LEFT = 0, REFUSED = 0;
const FORGED_BASE = 7_000_000 + Math.floor(Math.random() * 1_000_000) * 10;
const [FORGED_HASH, FORGED_PLACE] = [FORGED_BASE + 1, FORGED_BASE + 2];
const runName = (change: number) => `${GATE}-${change}-1-${SUFFIX}`;
const ARTIFACTS = process.env.SEAKEEPER_ARTIFACTS ?? path.join(process.env.TMPDIR ?? tmpdir(), 'seakeeper-artifacts');

let served: ServedFunction | undefined;
let queueName = '';
const workDir = mkdtempSync(path.join(tmpdir(), 'seakeeper-status-'));

function workflow(o: { name: string; change: number; pipeline: string; subject: string; namespace?: string; hashOf?: string; fails?: boolean }) {
  const template = o.fails
    ? { name: 'main', metadata: { annotations: { 'rig.seakeeper.test/exit-code': '1', 'rig.seakeeper.test/duration': '1s' } }, container: { image: 'example/ci', command: ['false'] } }
    : // Waits until someone resumes it: a run that stays Running, with no pod.
      { name: 'main', suspend: {} };
  return {
    apiVersion: ARGO_API_VERSION,
    kind: WORKFLOW_KIND,
    metadata: {
      name: o.name,
      namespace: o.namespace ?? NAMESPACE,
      labels: {
        [MANAGED_BY_LABEL]: MANAGED_BY_VALUE,
        [PROJECT_HASH_LABEL]: projectHash(o.hashOf ?? PROJECT),
        [PIPELINE_LABEL]: o.pipeline,
        [CHANGE_LABEL]: String(o.change),
        [PATCHSET_LABEL]: '1',
        [REVISION_LABEL]: 'a'.repeat(40),
      },
      annotations: { [PROJECT_ANNOTATION]: safeText(PROJECT) },
    },
    spec: { entrypoint: 'main', arguments: { parameters: [{ name: 'subject', value: safeText(o.subject) }] }, templates: [template] },
  };
}

function item(change: number, extra: Partial<QueueItem> = {}): QueueItem {
  return {
    project: PROJECT,
    branch: 'master',
    change,
    patchset: 1,
    ref: `refs/changes/${String(change).slice(-2)}/${change}/1`,
    revision: 'b'.repeat(40),
    enqueuedAt: new Date(Date.now() - (10 - [C1, C2, C3, C4, C5, HIDDEN].indexOf(change)) * 60_000).toISOString(),
    needs: [],
    starts: 0,
    ...extra,
  };
}

const run = (change: number, state: 'running' | 'failed', ahead: number[]) => ({ name: runName(change), includes: [...ahead, change].map((c) => `${c},1`), merged: 0, attempt: 1, state });

// Window 3: C1 and C3 testing, C2 failed; C4 waits outside the window; C5 needs C2 and fails with it; HIDDEN,
// of the read-restricted project, waits last.
const state = (): QueueState => ({
  window: 3,
  depth: 6,
  head: `${C1},1`,
  items: [
    item(C1, { starts: 1, run: run(C1, 'running', []) }),
    item(C2, { starts: 1, run: run(C2, 'failed', [C1]), decided: 'failing' }),
    item(C3, { starts: 1, run: run(C3, 'running', [C1]) }),
    item(C4),
    item(C5, { needs: [C2], decided: 'needs-failing' }),
    item(HIDDEN, { project: SECRET }),
  ],
  owed: [],
  observed: [],
  // What the queue remembers of the last day: LEFT was taken out 20 minutes after it entered (and HIDDEN's
  // project's change merged: its departure must not show); REFUSED's approval did not add it.
  departed: [
    { change: LEFT, patchset: 1, project: PROJECT, enqueuedAt: new Date(Date.now() - 50 * 60_000).toISOString(), leftAt: new Date(Date.now() - 30 * 60_000).toISOString(), merged: false, why: 'it got a new patch set' },
    { change: HIDDEN, patchset: 1, project: SECRET, enqueuedAt: new Date(Date.now() - 50 * 60_000).toISOString(), leftAt: new Date(Date.now() - 40 * 60_000).toISOString(), merged: true },
  ],
  refused: [{ change: REFUSED, patchset: 1, project: PROJECT, at: new Date(Date.now() - 5 * 60_000).toISOString(), why: `Not added to the ${GATE} queue: it does not carry Code-Review +2.` }],
});

async function getJson<T>(route: string): Promise<T> {
  const response = await fetch(new URL(route, served!.url));
  assert.is(response.status, 200, `${route}: ${await response.clone().text()}`);
  return (await response.json()) as T;
}

test.before(async () => {
  const { admin: gerritAdmin } = rigConnections(rig);
  await createProject(gerritAdmin, PROJECT);
  await createProject(gerritAdmin, SECRET);
  const rest = new GerritRest(gerritAdmin);
  const groups = await rest.json<Record<string, { id: string }>>('GET', 'groups/');
  const only = { read: { exclusive: true, rules: Object.fromEntries(['Administrators', 'Service Users'].map((g) => [decodeURIComponent(groups[g]!.id), { action: 'ALLOW' }])) } };
  await rest.json('POST', `projects/${encodeId(SECRET)}/access`, { body: { add: { 'refs/*': { permissions: only }, 'refs/heads/*': { permissions: only } } } });
  [C1, C2, C3, C4, C5, CHECK, LEFT, REFUSED] = (await Promise.all([1, 2, 3, 4, 5, 6, 7, 8].map(async (n) => (await pushChange(gerritAdmin, PROJECT, { [`f${n}.txt`]: `${n}\n` }, `Change ${n}`))._number))) as [number, number, number, number, number, number, number, number];
  HIDDEN = (await pushChange(gerritAdmin, SECRET, { 'secret.txt': 's\n' }, 'A secret subject'))._number;
  // The system namespace, the ChangeQueue CRD and the status account's RBAC, as deployed.
  await applyManifests(rig, 'knative/system', 'knative/rbac');
  await kubectl(rig, 'wait', '--for=condition=Established', '--timeout=60s', 'crd/changequeues.seakeeper.dev');
  for (const name of [NAMESPACE, STRAY_NAMESPACE]) await admin.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });

  const object = changeQueueObject(PROVISIONER_NAMESPACE, { queue: QUEUE, pipeline: GATE, window: 3, windowFloor: 2, windowCeiling: 20 });
  queueName = object.metadata.name;
  const created = await admin.create(object);
  assert.ok(created.created, `ChangeQueue ${queueName} existed already`);
  await admin.replaceStatus<ChangeQueueObject>({ ...created.object, status: state() });

  const workflows = [
    workflow({ name: runName(C1), change: C1, pipeline: GATE, subject: 'Fix the <b>build</b> for "C1"' }),
    workflow({ name: runName(C2), change: C2, pipeline: GATE, subject: 'Break things', fails: true }),
    workflow({ name: runName(C3), change: C3, pipeline: GATE, subject: 'Third' }),
    workflow({ name: `check-${CHECK}-1-${SUFFIX}`, change: CHECK, pipeline: 'check', subject: 'A check' }),
    // Labels that name another project than the namespace's: not a run.
    workflow({ name: `check-${FORGED_HASH}-1-${SUFFIX}`, change: FORGED_HASH, pipeline: 'check', subject: 'forged', hashOf: 'someone-else' }),
    // Seakeeper's labels in a namespace that is no project's: not a run.
    workflow({ name: `check-${FORGED_PLACE}-1-${SUFFIX}`, change: FORGED_PLACE, pipeline: 'check', subject: 'misplaced', namespace: STRAY_NAMESPACE }),
  ];
  for (const w of workflows) assert.ok((await admin.create(w)).created, w.metadata.name);

  const dir = mkdtempSync(path.join(workDir, 'kube-'));
  served = await serveFunction('status', {
    KUBECONFIG: await accountKubeconfig(rig, 'status', dir),
    GERRIT_URL: rig.GERRIT_URL,
    ARGO_UI_URL: 'https://argo.example.org/',
    SEAKEEPER_NAMESPACE: PROVISIONER_NAMESPACE,
    STATUS_CACHE_SECONDS: '1',
  });
});

test.after(async () => {
  await served?.stop();
  if (queueName) await admin.delete(CHANGE_QUEUE_API_VERSION, CHANGE_QUEUE_KIND, PROVISIONER_NAMESPACE, queueName);
  for (const name of [NAMESPACE, STRAY_NAMESPACE]) await admin.delete('v1', 'Namespace', undefined, name);
  await hideProjects(rigConnections(rig).admin, [PROJECT, SECRET]);
  rmSync(workDir, { recursive: true, force: true });
});

const ourQueue = (view: StatusView) => view.pipelines.find((p) => p.name === GATE)?.queues.find((q) => q.queue === QUEUE);

test('GET /api/status: the queue in order with its window and failing items, runs as Argo has them, the check run, no forged runs', async () => {
  const view = await eventually(async () => {
    const v = await getJson<StatusView>('/api/status');
    const items = ourQueue(v)?.items ?? [];
    // Argo has picked up the runs: C1 and C3 wait suspended, C2's step failed.
    assert.equal(items.map((i) => i.run?.phase), ['Running', 'Failed', 'Running', undefined, undefined, undefined]);
    return v;
  }, 60_000, 500);
  assert.ok(Date.now() - Date.parse(view.generatedAt) < 30_000, view.generatedAt);
  const queue = ourQueue(view)!;
  assert.is(queue.window, 3);
  // The read-restricted project's change keeps its place, and nothing that names it.
  assert.equal(queue.items.map((i) => i.change), [C1, C2, C3, C4, C5, 0]);
  assert.equal(queue.items[5], { position: 6, change: 0, patchset: 0, project: '', branch: '', changeUrl: '', enqueuedAt: queue.items[5]!.enqueuedAt, queuedSeconds: queue.items[5]!.queuedSeconds, inWindow: false, status: 'waiting', failing: false, needs: [], hidden: true });
  assert.not.ok(JSON.stringify(view).includes(SECRET) || JSON.stringify(view).includes('A secret subject') || JSON.stringify(view).includes(`"change":${HIDDEN},`));
  assert.equal(queue.items.map((i) => i.inWindow), [true, true, true, false, false, false]);
  assert.equal(queue.items.map((i) => i.failing), [false, true, false, false, true, false]);
  const head = queue.items[0]!;
  assert.is(head.subject, 'Fix the <b>build</b> for "C1"');
  assert.is(head.changeUrl, `${rig.GERRIT_URL.replace(/\/*$/, '/')}c/${PROJECT}/+/${C1}`);
  assert.is(head.run?.url, `https://argo.example.org/workflows/${NAMESPACE}/${runName(C1)}`);
  assert.ok(head.run!.elapsedSeconds! >= 0 && head.run!.elapsedSeconds! < 120, String(head.run?.elapsedSeconds));
  // Resident time of the items that left in the last day: LEFT's 20 minutes and HIDDEN's 10 (a figure over the
  // whole queue names no change, as the pipeline's counts do not).
  assert.equal(queue.residence, { items: 2, medianSeconds: 600, p90Seconds: 1200 });
  assert.equal([queue.departed.map((d) => d.change), queue.refused.map((r) => r.change)], [[LEFT], [REFUSED]]);

  const checks = view.pipelines.find((p) => p.name === 'check')!.checks;
  const ours = checks.filter((c) => c.project === PROJECT || [CHECK, FORGED_HASH, FORGED_PLACE].includes(c.change));
  assert.equal(ours.map((c) => [c.change, c.subject, c.run.namespace]), [[CHECK, 'A check', NAMESPACE]]);
  assert.ok(view.pipelines.find((p) => p.name === GATE)!.stats.failed >= 1);
});

test('the public view of runs of refs asks Gerrit, as anyone, which refs it shows: not a read-restricted project\'s, nor one that does not exist', async () => {
  const anonymous = new GerritRest({ baseUrl: rig.GERRIT_URL, anonymous: true });
  const refs = [
    { project: PROJECT, ref: 'refs/heads/master' },
    { project: PROJECT, ref: 'refs/heads/no-such-branch' },
    { project: PROJECT, ref: 'refs/tags/no-such-tag' },
    { project: PROJECT, ref: 'refs/changes/01/1/1' },
    { project: SECRET, ref: 'refs/heads/master' },
    { project: `${PROJECT}-none`, ref: 'refs/heads/master' },
  ];
  assert.equal([...(await publicRefs(anonymous, refs))], [refKey(PROJECT, 'refs/heads/master')]);
});

test('GET /api/change/N: where it is and why, in words; a change nobody knows', async () => {
  const third = await getJson<ChangeAnswer>(`/api/change/${C3}`);
  assert.equal([third.queues[0]?.position, third.queues[0]?.inWindow, third.queues[0]?.failing], [3, true, false]);
  assert.match(third.says[0]!, `3rd of 6 in the ${GATE} queue “${QUEUE}”, inside the window of 3`);
  // No estimate: Argo has none for these runs, and the project has no succeeded gate run to go by.
  assert.is(third.queues[0]!.estimatedMergeSeconds, undefined);
  const failing = await getJson<ChangeAnswer>(`/api/change/${C2}`);
  assert.match(failing.says[0]!, 'its run failed there');
  const outside = await getJson<ChangeAnswer>(`/api/change/${C4}`);
  assert.match(outside.says[0]!, 'outside the window of 3');
  const check = await getJson<ChangeAnswer>(`/api/change/${CHECK}`);
  assert.equal([check.known, check.queues.length, check.checks.length], [true, 0, 1]);
  const left = await getJson<ChangeAnswer>(`/api/change/${LEFT}`);
  assert.ok(left.known);
  assert.match(left.says[1]!, `Patch set 1 left the ${GATE} queue “${QUEUE}” at `);
  assert.match(left.says[1]!, ', after 20 min in it: it got a new patch set');
  const refused = await getJson<ChangeAnswer>(`/api/change/${REFUSED}`);
  assert.match(refused.says[1]!, 'it does not carry Code-Review +2.');
  const hidden = await getJson<ChangeAnswer>(`/api/change/${HIDDEN}`);
  assert.equal([hidden.known, hidden.queues.length], [false, 0]);
  const forged = await getJson<ChangeAnswer>(`/api/change/${FORGED_PLACE}`);
  assert.not.ok(forged.known);
  assert.match(forged.says[0]!, 'not in any gate queue and has no run in progress');
  assert.is((await fetch(new URL('/api/status', served!.url), { method: 'DELETE' })).status, 405);
});

function chromium(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      'chromium',
      ['--headless=new', '--disable-gpu', '--no-sandbox', '--no-first-run', `--user-data-dir=${mkdtempSync(path.join(workDir, 'chromium-'))}`, ...args],
      { maxBuffer: 64 * 1024 * 1024, timeout: 60_000 },
      (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

test('the page in headless Chromium: the changes in order, the window drawn around the first three, the failing ones marked', async () => {
  const version = await chromium('--version');
  assert.is(version.code, 0, `Chromium is needed for this test and did not run (${version.stderr.trim() || 'not installed'}): install the Debian package chromium (bash test/rig/prerequisites.sh does)`);
  const page = `${served!.url}#q=${PROJECT}`;
  const dump = await chromium('--dump-dom', '--virtual-time-budget=5000', page);
  assert.is(dump.code, 0, dump.stderr);
  const dom = dump.stdout;
  const start = dom.indexOf(`data-queue="${QUEUE}"`);
  assert.ok(start > 0, `the queue is not on the page:\n${dom.slice(0, 2000)}`);
  const section = dom.slice(start, dom.indexOf('</section>', start));
  const changes = (html: string) => [...html.matchAll(/<article [^>]*data-change="(\d+)"/g)].map((m) => Number(m[1]));
  assert.equal(changes(section), [C1, C2, C3, C4, C5]);
  const windowBox = /<div class="window"[^>]*>([\s\S]*?)<\/div><div class="outside">/.exec(section);
  assert.ok(windowBox, 'no window drawn');
  assert.equal(changes(windowBox![1]!), [C1, C2, C3]);
  const failing = [...section.matchAll(/<article class="([^"]*)" data-change="(\d+)"[^>]*data-failing="true"/g)].map((m) => [Number(m[2]), m[1]!.split(' ').includes('failing')]);
  assert.equal(failing, [[C2, true], [C5, true]]);
  assert.match(section, /class="status">failing</);
  assert.match(section, /<article class="item private waiting" data-position="6"[^>]*>.*a change of a project that is not public/);
  assert.not.ok(section.includes('A secret subject') || section.includes(SECRET));
  // Subjects are text, never markup.
  assert.match(section, 'Fix the &lt;b&gt;build&lt;/b&gt; for "C1"');
  assert.match(dom, /<time id="generated" datetime="20\d\d-/);

  // A change number in the filter that is in no queue: the page says where it went.
  const asked = await chromium('--dump-dom', '--virtual-time-budget=5000', `${served!.url}#q=${LEFT}`);
  assert.is(asked.code, 0, asked.stderr);
  const box = /<section id="lookup" class="why"[^>]*>([\s\S]*?)<\/section>/.exec(asked.stdout);
  assert.ok(box, `no answer box:\n${asked.stdout.slice(0, 1500)}`);
  assert.match(box![1]!, `Change ${LEFT} is not in any gate queue.`);
  assert.match(box![1]!, 'it got a new patch set');

  mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, 'status.png');
  const shot = await chromium(`--screenshot=${file}`, '--window-size=1280,900', '--virtual-time-budget=5000', '--hide-scrollbars', page);
  assert.is(shot.code, 0, shot.stderr);
  console.log(`status page screenshot: ${file}`);
});

test.run();
