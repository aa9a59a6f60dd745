// The pipeline functions as production runs them, each served by the functions-framework CLI in a process of
// its own and configured only by its environment, against the rig's real Gerrit and kube-apiserver:
//
//   real Gerrit ─(its webhooks plugin, the rig's)→ gerrit-webhook ─→ Broker STAND-IN (support/broker.ts)
//   Broker STAND-IN ─(Trigger STAND-IN: `deliver`)→ patchset-created, comment-added, workflow-completed
//   ApiServerSource STAND-IN (`workflowTouched`) ─→ workflow-watch ─→ Broker STAND-IN
//
// Stand-ins, named: the Knative data plane cannot run here, so the Broker is support/broker.ts, a Trigger's
// dispatch is `deliver` (one POST of the recorded event in binary mode, as the Broker's dispatcher sends it,
// no retries: a test redelivers where it means to), and the ApiServerSource's Reference-mode event is built
// by `workflowTouched` the way the source builds it. Argo's controller is real (the rig's; support/argo.ts).
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CloudEvent } from 'cloudevents';
import fetch from 'node-fetch';
import { readConfigFile } from '../../../shared/config/files.js';
import { resolveEffectiveConfig } from '../../../shared/config/inheritance.js';
import { loadPolicy } from '../../../shared/config/policy.js';
import { CONFIG_REF } from '../../../shared/config/project-config.js';
import { binaryMessage } from '../../../shared/events/sink.js';
import { GerritClient } from '../../../shared/gerrit/client.js';
import type { ChangeInfo } from '../../../shared/gerrit/types.js';
import { ClusterClient, type ClusterApi } from '../../../shared/k8s/cluster.js';
import { GerritConfigReader } from '../../../shared/provisioning/config-reader.js';
import { namespaceFor, ARGO_API_VERSION, WORKFLOW_KIND } from '../../../shared/names.js';
import { Provisioner } from '../../../shared/provisioning/provisioner.js';
import { runSelector, type LiveWorkflow } from '../../../shared/runs/workflow.js';
import { listWorkflows, type WorkflowRef } from '../../../shared/runs/workflow-store.js';
import { BENIGN_WORKFLOW, RUN_TEMPLATE_INPUTS } from '../../unit/support/pipelines.js';
import { SUBJECT_OUTCOME_METADATA } from './argo.js';
import { BrokerStandIn } from './broker.js';
import { serveFunction, type ServedFunction } from './functions.js';
import { createProject, pushDirect, whoAmI, type FileChanges } from '../../../dev/gerrit-chores.js';
import { rigConnections } from './gerrit.js';
import { pipelineAccounts, type PipelineAccount } from './pipeline-rbac.js';
import type { Rig } from './rig.js';
import { eventually } from './wait.js';

export const ARGO_UI_URL = 'https://argo.example.org/';
export const ARTIFACT_BASE_URL = 'https://artifacts.example.org/ci/';
export const CLUSTER_URL = 'https://kubernetes.rig.example/';

/**
 * The check Workflow of the pipeline tests: the unit tests' benign definition (a DAG: lint, then a test task
 * whose steps run unit and integration side by side; the branch reaches the container only through env) with
 * every step's pod ending as the change's subject asks on the rig (SUBJECT_OUTCOME_METADATA: `[fail unit]`,
 * `[slow]`).
 */
export const CHECK_WORKFLOW = BENIGN_WORKFLOW.replace(
  RUN_TEMPLATE_INPUTS,
  `${RUN_TEMPLATE_INPUTS}      metadata: ${JSON.stringify(SUBJECT_OUTCOME_METADATA)}\n`,
);

/** refs/meta/config of a project that runs CHECK_WORKFLOW in the check pipeline. */
export const CONFIG_FILES = { 'seakeeper.yaml': 'pipelines:\n  check: { workflow: ci/check.yaml }\n', 'ci/check.yaml': CHECK_WORKFLOW };

export type PipelineFunction = 'patchset-created' | 'comment-added' | 'workflow-watch' | 'workflow-completed';

/** The environment each pipeline function gets: the bot's Gerrit account, its own ServiceAccount's kubeconfig. */
export function pipelineEnv(rig: Rig, sink: string, kubeconfigs: Record<PipelineAccount, string>, systemNamespace: string): Record<PipelineFunction, Record<string, string>> {
  const gerrit = { GERRIT_URL: rig.GERRIT_URL, GERRIT_USER: rig.GERRIT_USER, GERRIT_PASSWORD: rig.GERRIT_PASSWORD.reveal() };
  return {
    'patchset-created': { ...gerrit, KUBECONFIG: kubeconfigs['patchset-created'], ARGO_UI_URL, SEAKEEPER_NAMESPACE: systemNamespace },
    'comment-added': { ...gerrit, KUBECONFIG: kubeconfigs['comment-added'], ARGO_UI_URL, SEAKEEPER_NAMESPACE: systemNamespace },
    'workflow-watch': { KUBECONFIG: kubeconfigs['workflow-watch'], K_SINK: sink, CLUSTER_URL },
    'workflow-completed': { ...gerrit, KUBECONFIG: kubeconfigs['workflow-completed'], ARGO_UI_URL, ARTIFACT_BASE_URL, SEAKEEPER_NAMESPACE: systemNamespace },
  };
}

/** A CloudEvent's answer from a subscriber. */
export interface Delivery {
  status: number;
  body: string;
}

/** STAND-IN for a Trigger's dispatch: one POST of `event` in binary mode to the subscriber. */
export async function deliver(to: ServedFunction, event: CloudEvent<unknown>): Promise<Delivery> {
  const { headers, body } = binaryMessage(event);
  const response = await fetch(to.url, { method: 'POST', headers, body, signal: AbortSignal.timeout(60_000) });
  return { status: response.status, body: await response.text() };
}

/**
 * STAND-IN for the ApiServerSource in Reference mode: the event it sends when a Workflow is added or updated
 * (type dev.knative.apiserver.ref.add/update, data {apiVersion, kind, name, namespace}).
 */
export function workflowTouched(ref: WorkflowRef, type: 'add' | 'update' = 'update'): CloudEvent<unknown> {
  return new CloudEvent<unknown>({
    specversion: '1.0',
    id: randomUUID(),
    type: `dev.knative.apiserver.ref.${type}`,
    source: CLUSTER_URL,
    subject: `/apis/${ARGO_API_VERSION}/namespaces/${ref.namespace}/workflows/${ref.name}`,
    datacontenttype: 'application/json',
    data: { apiVersion: ARGO_API_VERSION, kind: WORKFLOW_KIND, name: ref.name, namespace: ref.namespace },
    kind: WORKFLOW_KIND,
    name: ref.name,
    namespace: ref.namespace,
    apiversion: ARGO_API_VERSION,
  });
}

export interface PipelineStack {
  readonly broker: BrokerStandIn;
  readonly functions: Record<PipelineFunction, ServedFunction>;
  /** What each function was started with (its own ServiceAccount: support/pipeline-rbac.ts). */
  readonly env: Record<PipelineFunction, Record<string, string>>;
  /** The kubeconfig of each account, reconcile's missed-reports pass included. */
  readonly kubeconfigs: Record<PipelineAccount, string>;
  /** The parent project whose webhooks.config sends every event of its children to gerrit-webhook. */
  readonly parent: string;
  /** The administrator's client, for what tests do themselves (reading back, waiting on Argo). */
  readonly cluster: ClusterClient;
  readonly bot: GerritClient;
  readonly admin: GerritClient;
  /** The bot's account id, to find its votes. */
  readonly botAccount: number;
  stop(): Promise<void>;
}

/**
 * The shipped system policy with `sharedQueues` opened as given, written to a file of its own for
 * SEAKEEPER_POLICY_FILE: a suite's shared gate queues have names of its own.
 */
export async function policyWithSharedQueues(sharedQueues: Record<string, readonly string[]>): Promise<string> {
  const shipped = readConfigFile('policy.yaml');
  if (!/^sharedQueues: \{\}$/m.test(shipped)) throw new Error('config/policy.yaml no longer has the line "sharedQueues: {}"');
  const file = path.join(await mkdtemp(path.join(tmpdir(), 'seakeeper-policy-')), 'policy.yaml');
  await writeFile(file, shipped.replace(/^sharedQueues: \{\}$/m, `sharedQueues: ${JSON.stringify(sharedQueues)}`));
  return file;
}

/** `text` in a file of its own, for SEAKEEPER_PIPELINES_FILE. */
export async function pipelinesFile(text: string): Promise<string> {
  const file = path.join(await mkdtemp(path.join(tmpdir(), 'seakeeper-pipelines-')), 'pipelines.yaml');
  await writeFile(file, text);
  return file;
}

export interface StackOptions {
  readonly sharedQueues?: Record<string, readonly string[]>;
  /** A pipelines file's text, deployed as SEAKEEPER_PIPELINES_FILE instead of config/pipelines.yaml. */
  readonly pipelines?: string;
  /** The functions to serve (default all): a suite that never reports spares the rig two processes. */
  readonly serve?: readonly PipelineFunction[];
}

export async function startPipelineStack(rig: Rig, parent: string, options: StackOptions = {}): Promise<PipelineStack> {
  const { admin: adminConnection, bot: botConnection } = rigConnections(rig);
  const cluster = ClusterClient.fromKubeconfigFile(rig.KUBECONFIG);
  const accounts = await pipelineAccounts(rig);
  const broker = await BrokerStandIn.start();
  const secret = randomBytes(24).toString('hex');
  const base = pipelineEnv(rig, broker.url, accounts.kubeconfigs, accounts.namespace);
  const policyFile = options.sharedQueues ? await policyWithSharedQueues(options.sharedQueues) : undefined;
  const pipelines: Record<string, string> = options.pipelines !== undefined ? { SEAKEEPER_PIPELINES_FILE: await pipelinesFile(options.pipelines) } : {};
  const withPolicy = (vars: Record<string, string>) => ({ ...(policyFile ? { ...vars, SEAKEEPER_POLICY_FILE: policyFile } : vars), ...pipelines });
  const env: typeof base = {
    'patchset-created': withPolicy(base['patchset-created']),
    'comment-added': withPolicy(base['comment-added']),
    'workflow-watch': base['workflow-watch'],
    'workflow-completed': withPolicy(base['workflow-completed']),
  };
  const names = (Object.keys(env) as PipelineFunction[]).filter((name) => !options.serve || options.serve.includes(name));
  const [webhook, ...served] = await Promise.all([
    serveFunction('gerrit-webhook', { GERRIT_URL: rig.GERRIT_URL, SEAKEEPER_WEBHOOK_SECRET: secret, K_SINK: broker.url }),
    ...names.map((name) => serveFunction(name, env[name])),
  ]);
  await createProject(adminConnection, parent);
  const webhooks = ['[remote "seakeeper"]', `\turl = http://127.0.0.1:${webhook!.port}/?token=${secret}`, '\tmaxTries = 5', '\tretryInterval = 500', ''];
  await pushDirect(adminConnection, parent, CONFIG_REF, { 'webhooks.config': webhooks.join('\n') }, 'Send events to gerrit-webhook');
  const functions = Object.fromEntries(names.map((name, i) => [name, served[i]!])) as Record<PipelineFunction, ServedFunction>;
  return {
    broker,
    functions,
    env,
    kubeconfigs: accounts.kubeconfigs,
    parent,
    cluster,
    bot: new GerritClient(botConnection),
    admin: new GerritClient(adminConnection),
    botAccount: (await whoAmI(botConnection))._account_id,
    stop: async () => {
      await Promise.all([webhook!, ...served].map((f) => f.stop()));
      await broker.close();
      await accounts.remove();
    },
  };
}

/**
 * A project (under `parent` when given) with `files` on refs/meta/config (seakeeper.yaml and its workflow files,
 * as an owner pushes them), and — unless `provision` is false — its namespace provisioned through the
 * provisioner's entry point as the administrator, as project-config-changed would after that push. Its
 * namespace's name.
 */
export async function provisionedProject(
  rig: Rig,
  project: string,
  files: FileChanges,
  options: { parent?: string; cluster?: ClusterClient; bot?: GerritClient; provision?: boolean } = {},
): Promise<string> {
  const { admin, bot } = rigConnections(rig);
  await createProject(admin, project, options.parent);
  await pushDirect(admin, project, CONFIG_REF, files, 'Add CI configuration');
  if (options.provision !== false) {
    const policy = loadPolicy();
    const cluster = options.cluster ?? ClusterClient.fromKubeconfigFile(rig.KUBECONFIG);
    const summary = await new Provisioner(cluster, policy).provision(await resolveEffectiveConfig(project, new GerritConfigReader(options.bot ?? new GerritClient(bot)), policy));
    if (summary.outcome !== 'created' && summary.outcome !== 'updated' && summary.outcome !== 'unchanged') {
      throw new Error(`provisioning ${project}: ${summary.outcome} ${summary.reason ?? ''}`);
    }
  }
  return namespaceFor(project);
}

/** A child project of the stack's parent, configured and provisioned as provisionedProject does. */
export async function configuredProject(rig: Rig, stack: PipelineStack, project: string, files: FileChanges, options: { provision?: boolean } = {}): Promise<string> {
  return provisionedProject(rig, project, files, { ...options, parent: stack.parent, cluster: stack.cluster, bot: stack.bot });
}

/** The event of `type` the ingress delivered for the change (and patchset), once it is at the Broker stand-in. */
export async function gerritEvent(stack: PipelineStack, type: string, change: ChangeInfo | number, patchset?: number, what?: (e: CloudEvent<unknown>) => boolean): Promise<CloudEvent<unknown>> {
  const number = String(typeof change === 'number' ? change : change._number);
  const matches = (e: CloudEvent<unknown>) =>
    e.type === type && e.gerritchange === number && (patchset === undefined || e.gerritpatchset === String(patchset)) && (!what || what(e));
  const events = await stack.broker.waitFor((all) => all.some(matches), `${type} of change ${number}${patchset ? `/${patchset}` : ''}`);
  return events.find(matches)!;
}

/** The workflow.completed workflow-watch sent for a Workflow. */
export async function completedEvent(stack: PipelineStack, ref: WorkflowRef): Promise<CloudEvent<unknown>> {
  const matches = (e: CloudEvent<unknown>) => e.type === 'workflow.completed' && e.subject === `${ref.namespace}/${ref.name}`;
  const events = await stack.broker.waitFor((all) => all.some(matches), `workflow.completed of ${ref.name}`, 10_000);
  return events.find(matches)!;
}

/** The runs of a change in a pipeline, oldest first. */
export async function runsOf(stack: PipelineStack, project: string, change: number, pipeline = 'check'): Promise<LiveWorkflow[]> {
  return runsIn(stack.cluster, project, change, pipeline);
}

/** runsOf, read with any cluster client. */
export async function runsIn(cluster: Pick<ClusterApi, 'list'>, project: string, change: number, pipeline = 'check'): Promise<LiveWorkflow[]> {
  const runs = await listWorkflows(cluster, namespaceFor(project), runSelector(project, pipeline, change));
  return runs.sort((a, b) => String(a.metadata.creationTimestamp).localeCompare(String(b.metadata.creationTimestamp)) || a.metadata.name.localeCompare(b.metadata.name));
}

/** Waits until the change has `count` runs in the pipeline, and returns them. */
export async function waitForRuns(stack: PipelineStack, project: string, change: number, count: number, pipeline = 'check'): Promise<LiveWorkflow[]> {
  return eventually(async () => {
    const runs = await runsOf(stack, project, change, pipeline);
    if (runs.length !== count) throw new Error(`change ${change} has ${runs.length} runs in ${pipeline}, not ${count}`);
    return runs;
  }, 10_000);
}

/** The change with its labels in detail and its messages. */
export async function changeDetail(stack: PipelineStack, project: string, change: number): Promise<ChangeInfo> {
  return stack.bot.getChange(`${project}~${change}`, ['DETAILED_LABELS', 'MESSAGES', 'CURRENT_REVISION']);
}

/** The bot's Verified vote on the change's current patchset, if any (0 counts as none). */
export function botVerified(stack: PipelineStack, info: ChangeInfo): number | undefined {
  return verifiedBy(info, stack.botAccount);
}

/** The account's Verified vote on the change's current patchset, if any (0 counts as none). */
export function verifiedBy(info: ChangeInfo, account: number): number | undefined {
  const value = info.labels?.Verified?.all?.find((v) => v._account_id === account)?.value;
  return value === 0 ? undefined : value;
}

/** The messages the pipeline posted, by its tag. */
export function pipelineMessages(info: ChangeInfo, pipeline = 'check'): NonNullable<ChangeInfo['messages']> {
  return (info.messages ?? []).filter((m) => m.tag === `autogenerated:seakeeper-${pipeline}`);
}

