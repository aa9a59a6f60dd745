// The pipeline functions' least privilege, as deployed: the RBAC of knative/ (knative/rbac and the
// provisioner's, from the same manifests `make deploy` applies) is applied to the rig as the administrator, and
// each served function acts as its own ServiceAccount in seakeeper-system with a token from the TokenRequest
// API, in a kubeconfig of its own — so RBAC judges every call as it would in production, and a rule missing
// from knative/ fails here.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { PipelineFunction } from './pipelines.js';
import { apiServer, applyManifests, kubectl, PROVISIONER_MANIFESTS, PROVISIONER_NAMESPACE } from './provisioning.js';
import type { Rig } from './rig.js';

/** The pipeline functions, and reconcile (whose missed-reports pass reports runs). */
export type PipelineAccount = PipelineFunction | 'reconcile';
const ACCOUNTS: readonly PipelineAccount[] = ['patchset-created', 'comment-added', 'workflow-watch', 'workflow-completed', 'reconcile'];
/** The manifests that hold their ServiceAccounts, roles and bindings. */
export const PIPELINE_RBAC_MANIFESTS = [...PROVISIONER_MANIFESTS, 'knative/rbac'];

export interface PipelineAccounts {
  /** Where the accounts live: the system namespace (SEAKEEPER_NAMESPACE). */
  readonly namespace: string;
  /** A kubeconfig per account, acting as its ServiceAccount. */
  readonly kubeconfigs: Record<PipelineAccount, string>;
  remove(): Promise<void>;
}

/** knative/'s RBAC applied, and a kubeconfig holding a fresh token for each pipeline account. */
export async function pipelineAccounts(rig: Rig): Promise<PipelineAccounts> {
  await applyManifests(rig, ...PIPELINE_RBAC_MANIFESTS);
  const dir = await mkdtemp(path.join(tmpdir(), 'seakeeper-rbac-'));
  const kubeconfigs = {} as Record<PipelineAccount, string>;
  for (const account of ACCOUNTS) kubeconfigs[account] = await accountKubeconfig(rig, account, dir);
  return {
    namespace: PROVISIONER_NAMESPACE,
    kubeconfigs,
    // The manifests stay applied: other suites share them, and applying them again changes nothing.
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

/** A kubeconfig in `dir` acting as ServiceAccount `account` of the system namespace, with a fresh token (1 h). */
export async function accountKubeconfig(rig: Rig, account: string, dir: string): Promise<string> {
  const server = apiServer(rig);
  const token = (await kubectl(rig, 'create', 'token', account, '-n', PROVISIONER_NAMESPACE, '--duration=1h')).trim();
  const file = path.join(dir, `${account}.kubeconfig`);
  const ca = server.caData ? `    certificate-authority-data: ${server.caData}\n` : `    certificate-authority: ${server.caFile}\n`;
  await writeFile(
    file,
    `apiVersion: v1\nkind: Config\nclusters:\n- name: rig\n  cluster:\n    server: ${server.server}\n${ca}users:\n- name: ${account}\n  user:\n    token: ${token}\n` +
      `contexts:\n- name: rig\n  context: { cluster: rig, user: ${account} }\ncurrent-context: rig\n`,
    { mode: 0o600 },
  );
  return file;
}
