// The provisioner as it runs in the cluster: its manifests (knative/system, cluster, provisioner) applied as
// the administrator, and a ClusterClient holding a token of its own ServiceAccount from the TokenRequest API,
// so that RBAC and admission judge every call as they would in production. Also the CloudEvents the ingress
// would make of Gerrit's events, built from what Gerrit's REST API says happened.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { CONFIG_REF } from '../../../shared/config/project-config.js';
import { CONFIG_CHANGED_TYPE, toCloudEvents } from '../../../shared/events/gerrit-cloudevents.js';
import { parseGerritEvent } from '../../../shared/events/gerrit-event.js';
import { validateCloudEvent, type InboundEvent } from '../../../shared/events/handler.js';
import { GerritClient } from '../../../shared/gerrit/client.js';
import { encodeId, GerritRest, type GerritConnection } from '../../../shared/gerrit/rest.js';
import type { ChangeInfo } from '../../../shared/gerrit/types.js';
import { ClusterClient, type ClusterClientOptions } from '../../../shared/k8s/cluster.js';
import { CONFIG_SOURCE_ANNOTATION, MANAGED_SELECTOR } from '../../../shared/provisioning/bundle.js';
import { ZERO_REVISION } from '../../../shared/provisioning/config-reader.js';
import { PROJECT_ANNOTATION } from '../../../shared/names.js';
import { pushDirect, type FileChanges } from '../../../dev/gerrit-chores.js';
import type { Rig } from './rig.js';

const run = promisify(execFile);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** The ServiceAccounts of knative/provisioner/serviceaccounts.yaml. */
export const PROVISIONER_NAMESPACE = 'seakeeper-system';
export type ProvisionerAccount = 'project-config-changed' | 'reconcile';
const TOKEN_DURATION = '1h';
/** Whoever applies manifests for the tests, as a field manager of its own. */
const TEST_FIELD_MANAGER = 'seakeeper-integration-tests';

export async function kubectl(rig: Rig, ...args: string[]): Promise<string> {
  const { stdout } = await run('kubectl', ['--kubeconfig', rig.KUBECONFIG, ...args]);
  return stdout;
}

/** Applies kustomize directories (relative to the repository root) as the administrator, server-side. */
export async function applyManifests(rig: Rig, ...dirs: string[]): Promise<void> {
  for (const dir of dirs) {
    await kubectl(rig, 'apply', '--server-side', '--force-conflicts', `--field-manager=${TEST_FIELD_MANAGER}`, '-k', path.resolve(ROOT, dir));
  }
}

export async function deleteManifests(rig: Rig, ...dirs: string[]): Promise<void> {
  for (const dir of dirs) await kubectl(rig, 'delete', '--ignore-not-found', '-k', path.resolve(ROOT, dir));
}

/** What the provisioner runs with in the cluster: namespace, cluster-wide pieces, its ServiceAccounts and role. */
export const PROVISIONER_MANIFESTS = ['knative/system', 'knative/cluster', 'knative/provisioner'];
/** Only with a `deprovision: delete` policy. */
export const NAMESPACE_DELETE_MANIFESTS = 'knative/provisioner/deprovision-delete';

export function adminCluster(rig: Rig, options?: ClusterClientOptions): ClusterClient {
  return ClusterClient.fromKubeconfigFile(rig.KUBECONFIG, options);
}

/** Where the rig's API server is and which CA signed it, from the administrator's kubeconfig. */
export function apiServer(rig: Rig): { server: string; caData?: string; caFile?: string } {
  const kc = new KubeConfig();
  kc.loadFromFile(rig.KUBECONFIG);
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error(`${rig.KUBECONFIG} has no current cluster`);
  return { server: cluster.server, ...(cluster.caData ? { caData: cluster.caData } : {}), ...(cluster.caFile ? { caFile: cluster.caFile } : {}) };
}

/** A client acting as the ServiceAccount, with a fresh token from the TokenRequest API (`kubectl create token`). */
export async function serviceAccountCluster(rig: Rig, account: ProvisionerAccount, options?: ClusterClientOptions): Promise<ClusterClient> {
  const token = (await kubectl(rig, 'create', 'token', account, '-n', PROVISIONER_NAMESPACE, `--duration=${TOKEN_DURATION}`)).trim();
  return ClusterClient.fromToken({ ...apiServer(rig), token }, options);
}

/** Turns Gerrit event data into the CloudEvent of `type` that the ingress makes of it (its own mapping). */
export function cloudEventOf(data: Record<string, unknown>, source: string, type: string): InboundEvent {
  const parsed = parseGerritEvent(data);
  if (!parsed.ok) throw new Error(`test built an invalid Gerrit event: ${parsed.reason}`);
  const event = toCloudEvents(parsed.event, { source }).find((e) => e.type === type);
  if (!event) throw new Error(`the ingress makes no ${type} of a ${String(data.type)}`);
  return validateCloudEvent(JSON.parse(JSON.stringify(event)));
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

/** The ref-updated Gerrit sends when refs/meta/config moves from `oldRev` to `newRev`. */
export function metaConfigUpdated(project: string, oldRev: string, newRev: string, source: string): InboundEvent {
  const data = {
    type: 'ref-updated',
    eventCreatedOn: nowSeconds(),
    submitter: { name: 'Administrator', username: 'admin' },
    refUpdate: { oldRev, newRev, refName: CONFIG_REF, project },
  };
  return cloudEventOf(data, source, CONFIG_CHANGED_TYPE);
}

export function projectCreated(project: string, source: string): InboundEvent {
  return cloudEventOf({ type: 'project-created', eventCreatedOn: nowSeconds(), projectName: project, headName: 'refs/heads/master' }, source, CONFIG_CHANGED_TYPE);
}

/**
 * Pushes `files` straight to refs/meta/config as the administrator (an owner editing the project's CI) and
 * returns the project.config-changed event of that push, its revisions read back from Gerrit.
 */
export async function pushConfig(admin: GerritConnection, project: string, files: FileChanges, message = 'Update CI configuration'): Promise<InboundEvent> {
  const gerrit = new GerritClient(admin);
  const oldRev = (await gerrit.getBranchRevision(project, CONFIG_REF)) ?? ZERO_REVISION;
  await pushDirect(admin, project, CONFIG_REF, files, message);
  const newRev = await gerrit.getBranchRevision(project, CONFIG_REF);
  if (!newRev || newRev === oldRev) throw new Error(`the push to ${project} ${CONFIG_REF} did not move it`);
  return metaConfigUpdated(project, oldRev, newRev, admin.baseUrl);
}

/** The patchset-created Gerrit sends for the current patch set of `change`. */
export function patchsetCreated(change: ChangeInfo, source: string): InboundEvent {
  const revision = change.current_revision!;
  const patchSet = change.revisions![revision]!;
  const account = { name: 'Administrator', username: 'admin' };
  const data = {
    type: 'patchset-created',
    eventCreatedOn: nowSeconds(),
    uploader: account,
    change: { project: change.project, branch: change.branch, id: change.change_id, number: change._number, subject: change.subject, owner: account, status: 'NEW' },
    patchSet: { number: patchSet._number, revision, ref: patchSet.ref, uploader: account, createdOn: nowSeconds(), kind: 'REWORK' },
  };
  return cloudEventOf(data, source, 'gerrit.patchset-created');
}

/** Names of a run's test projects (`it-<suffix>/<name>`), remembered for clean-up. */
export class TestProjects {
  readonly all: string[] = [];

  constructor(readonly suffix: string) {}

  name(name: string): string {
    const project = `it-${this.suffix}/${name}`;
    this.all.push(project);
    return project;
  }

  /** Deletes their namespaces and hides the projects (see hideProjects). */
  async cleanUp(admin: GerritConnection, cluster: ClusterClient, existing: (project: string) => boolean = () => true): Promise<void> {
    await deleteNamespacesOf(cluster, this.all);
    await hideProjects(admin, this.all.filter(existing));
  }
}

/**
 * Hides test projects (HIDDEN: visible to their owners only), so that later reconcile passes, which list
 * what the bot can see, do not provision them again after their namespaces are deleted.
 */
export async function hideProjects(admin: GerritConnection, projects: readonly string[]): Promise<void> {
  const rest = new GerritRest(admin);
  for (const project of projects) await rest.json('PUT', `projects/${encodeId(project)}/config`, { body: { state: 'HIDDEN' } });
}

/** Deletes every managed namespace of `projects` (and any namespace whose config came from one of them). */
export async function deleteNamespacesOf(cluster: ClusterClient, projects: readonly string[]): Promise<void> {
  const wanted = new Set(projects);
  const namespaces = await cluster.list('v1', 'Namespace', undefined, MANAGED_SELECTOR);
  for (const ns of namespaces) {
    const annotations = ns.metadata.annotations ?? {};
    if (wanted.has(annotations[PROJECT_ANNOTATION] ?? '') || wanted.has(annotations[CONFIG_SOURCE_ANNOTATION] ?? '')) {
      await cluster.delete('v1', 'Namespace', undefined, ns.metadata.name);
    }
  }
}
