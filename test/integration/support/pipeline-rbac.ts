// The pipeline functions' least privilege, proven: each served function acts as a ServiceAccount of its own
// holding only the rules below (a token from the TokenRequest API in a kubeconfig of its own), so RBAC judges
// every call as it would in production. These are the rules knative/ is to grant (one ClusterRole and binding
// per function: project namespaces are created later, so RBAC cannot name them); once knative/ has them, this
// file applies them from there instead.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ClusterClient, ClusterObject } from '../../../shared/k8s/cluster.js';
import type { PipelineFunction } from './pipelines.js';
import { apiServer, kubectl } from './provisioning.js';
import type { Rig } from './rig.js';

interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

/** What each pipeline function does in the cluster, and nothing more. */
export const PIPELINE_RULES: Readonly<Record<PipelineFunction | 'reconcile-reports', PolicyRule[]>> = {
  // Lists the change's runs, creates the new one, stops superseded ones (merge patch); reads a WorkflowTemplate.
  'patchset-created': [
    { apiGroups: ['argoproj.io'], resources: ['workflows'], verbs: ['get', 'list', 'create', 'patch'] },
    { apiGroups: ['argoproj.io'], resources: ['workflowtemplates'], verbs: ['get'] },
  ],
  // The same for a recheck; stops a closed change's runs.
  'comment-added': [
    { apiGroups: ['argoproj.io'], resources: ['workflows'], verbs: ['get', 'list', 'create', 'patch'] },
    { apiGroups: ['argoproj.io'], resources: ['workflowtemplates'], verbs: ['get'] },
  ],
  // Reads the Workflow, claims and marks the completed-event marker.
  'workflow-watch': [{ apiGroups: ['argoproj.io'], resources: ['workflows'], verbs: ['get', 'patch'] }],
  // Reads the Workflow, claims and marks the report marker.
  'workflow-completed': [{ apiGroups: ['argoproj.io'], resources: ['workflows'], verbs: ['get', 'patch'] }],
  // reconcile's missed-reports pass, on top of the provisioner's role: finished Workflows of every namespace.
  'reconcile-reports': [{ apiGroups: ['argoproj.io'], resources: ['workflows'], verbs: ['get', 'list', 'patch'] }],
};

export type PipelineAccount = keyof typeof PIPELINE_RULES;

/** What a function does in the system namespace only (here the accounts' own namespace stands in for it). */
export const PIPELINE_SYSTEM_RULES: Readonly<Partial<Record<PipelineAccount, PolicyRule[]>>> = {
  // The config check's claims: a Lease per change, created, read and claimed by compare-and-swap.
  'patchset-created': [{ apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create', 'get', 'patch'] }],
};

export interface PipelineAccounts {
  /** Where the accounts live; it stands in for the system namespace (SEAKEEPER_NAMESPACE). */
  readonly namespace: string;
  /** A kubeconfig per function (and reconcile's missed-reports pass), acting as its ServiceAccount. */
  readonly kubeconfigs: Record<PipelineAccount, string>;
  remove(): Promise<void>;
}

/** ServiceAccounts (in a namespace of the test's own), their roles and bindings, and a kubeconfig for each. */
export async function pipelineAccounts(rig: Rig, admin: ClusterClient, suffix: string): Promise<PipelineAccounts> {
  const namespace = `sk-it-rbac-${suffix}`;
  const names = Object.keys(PIPELINE_RULES) as PipelineAccount[];
  const role = (fn: string) => `seakeeper-it-${suffix}-${fn}`;
  const dir = await mkdtemp(path.join(tmpdir(), 'seakeeper-rbac-'));
  await admin.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } } as ClusterObject);
  const server = apiServer(rig);
  const kubeconfigs = {} as Record<PipelineAccount, string>;
  for (const fn of names) {
    await admin.apply({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: fn, namespace } } as ClusterObject);
    await admin.apply({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: role(fn) }, rules: PIPELINE_RULES[fn] } as ClusterObject);
    await admin.apply({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: role(fn) },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role(fn) },
      subjects: [{ kind: 'ServiceAccount', name: fn, namespace }],
    } as ClusterObject);
    const systemRules = PIPELINE_SYSTEM_RULES[fn];
    if (systemRules) {
      await admin.apply({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: fn, namespace }, rules: systemRules } as ClusterObject);
      await admin.apply({
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: fn, namespace },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: fn },
        subjects: [{ kind: 'ServiceAccount', name: fn, namespace }],
      } as ClusterObject);
    }
    const token = (await kubectl(rig, 'create', 'token', fn, '-n', namespace, '--duration=1h')).trim();
    const file = path.join(dir, `${fn}.kubeconfig`);
    const ca = server.caData ? `    certificate-authority-data: ${server.caData}\n` : `    certificate-authority: ${server.caFile}\n`;
    await writeFile(
      file,
      `apiVersion: v1\nkind: Config\nclusters:\n- name: rig\n  cluster:\n    server: ${server.server}\n${ca}users:\n- name: ${fn}\n  user:\n    token: ${token}\n` +
        `contexts:\n- name: rig\n  context: { cluster: rig, user: ${fn} }\ncurrent-context: rig\n`,
      { mode: 0o600 },
    );
    kubeconfigs[fn] = file;
  }
  return {
    namespace,
    kubeconfigs,
    remove: async () => {
      for (const fn of names) {
        await admin.delete('rbac.authorization.k8s.io/v1', 'ClusterRoleBinding', undefined, role(fn));
        await admin.delete('rbac.authorization.k8s.io/v1', 'ClusterRole', undefined, role(fn));
      }
      await admin.delete('v1', 'Namespace', undefined, namespace);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
