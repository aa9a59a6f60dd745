// The reconcile pass's share of the check pipeline, against the rig: a run whose workflow.completed never came
// (the ApiServerSource was down) is found by the missed-reports pass and reported, once, as the reconcile
// function's account does it (support/pipelines.ts serves the rest as pipeline.test.ts does).
// Exclusive (test/run.ts): the pass lists and reports every finished run in every namespace, other suites' too.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { REPORT_MARKER } from '../../shared/reporting/markers.js';
import { MissedReports } from '../../shared/reporting/missed-reports.js';
import { readWorkflow, refOfWorkflow } from '../../shared/runs/workflow-store.js';
import { pushChange } from '../../dev/gerrit-chores.js';
import { finished } from './support/argo.js';
import { rigConnections } from './support/gerrit.js';
import { botVerified, changeDetail, CONFIG_FILES, configuredProject, deliver, gerritEvent, pipelineMessages, startPipelineStack, waitForRuns, type PipelineStack } from './support/pipelines.js';
import { deleteNamespacesOf, hideProjects } from './support/provisioning.js';
import { loadRig, uniqueSuffix } from './support/rig.js';

const rig = loadRig();
const { admin: adminConnection } = rigConnections(rig);
const PARENT = `it-${uniqueSuffix()}-missed`;
const PROJECT = `${PARENT}/app`;

let stack: PipelineStack;

test.before(async () => {
  stack = await startPipelineStack(rig, PARENT);
  await configuredProject(rig, stack, PROJECT, CONFIG_FILES);
});

test.after(async () => {
  if (!stack) return;
  await stack.stop();
  await deleteNamespacesOf(stack.cluster, [PROJECT]);
  await hideProjects(adminConnection, [PARENT, PROJECT]);
});

const reports = (info: Awaited<ReturnType<typeof changeDetail>>) => pipelineMessages(info).filter((m) => /Build (succeeded|failed)/.test(m.message));

test('a finished run whose workflow.completed never came is found and reported by the missed-reports pass, as reconcile\'s account; a second pass reports nothing', async () => {
  const change = await pushChange(adminConnection, PROJECT, { 'src/down.txt': 'down' }, 'The ApiServerSource was down');
  const delivered = await deliver(stack.functions['patchset-created'], await gerritEvent(stack, 'gerrit.patchset-created', change, 1));
  assert.ok(delivered.status >= 200 && delivered.status < 300, `patchset-created: ${delivered.status} ${delivered.body}`);
  const [run] = await waitForRuns(stack, PROJECT, change._number, 1);
  const ref = refOfWorkflow(run!);
  await finished(stack.cluster, ref);
  // As the reconcile function runs it (MissedReports.fromEnv), with reconcile's rules for Workflows only.
  const missed = MissedReports.fromEnv({ ...stack.env['workflow-completed'], KUBECONFIG: stack.kubeconfigs.reconcile });
  const summary = await missed.run();
  assert.ok((summary.results.reported ?? 0) >= 1, JSON.stringify(summary));
  assert.is(botVerified(stack, await changeDetail(stack, PROJECT, change._number)), 1);
  assert.is((await readWorkflow(stack.cluster, ref))!.metadata.annotations?.[REPORT_MARKER.done], 'Succeeded');
  await missed.run();
  assert.is(reports(await changeDetail(stack, PROJECT, change._number)).length, 1, 'a second pass does not report it again');
});

test.run();
