// The provisioning bundle: a project's effective config + system policy → every Kubernetes object of its
// namespace. Pure and deterministic (same input, same objects, same key order), so applying it twice is a
// no-op. Cluster-wide pieces it refers to (the ClusterRoles below, the PriorityClasses) are in
// knative/cluster/ and applied once with the deployment.
//
// What a project namespace holds:
//   Namespace                 labels managed-by, project hash, Pod Security level; annotations with the project,
//                             its config source and the StorageClasses its claims may name (policy storage.classes)
//   ServiceAccount workflow   what Workflows run as (`spec.serviceAccountName: workflow`)
//   RoleBinding               seakeeper-workflow-executor → ClusterRole seakeeper-workflow-executor, for the
//                             workflow ServiceAccount: what Argo's executor needs (workflowtaskresults create/patch)
//   RoleBinding               seakeeper-owners → ClusterRole seakeeper-workflow-editor, for the owners' groups
//   RoleBinding               seakeeper-viewers → ClusterRole seakeeper-workflow-viewer, for the viewers' groups
//                             (each only when the config names groups for it; pruned when it stops naming any)
//   ResourceQuota seakeeper   requests.cpu, requests.memory, limits.memory, pods: the project's (capped) resources;
//                             requests.storage, persistentvolumeclaims: the policy's storage
//   LimitRange seakeeper      per-container defaults from policy, lowered to the namespace's totals; max = totals
//   NetworkPolicy             seakeeper-isolation: ingress only from pods of the same namespace; egress anywhere
//                             but the policy's denied ranges (the cloud metadata addresses), DNS and the
//                             namespace itself always
//   ConfigMap                 artifact-repositories: Argo's default S3 repository, keys under "<namespace>/"
//                             (only when the policy configures an artifact repository)
//   ConfigMap                 seakeeper-checkout: config/gate/checkout.sh (key checkout.sh), the speculative
//                             checkout a gate run's first step mounts and runs
import { stringify } from 'yaml';
import { readConfigFile } from '../config/files.js';
import type { Policy } from '../config/policy.js';
import type { ProjectConfig } from '../config/project-config.js';
import { minQuantity } from '../config/quantity.js';
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE, namespaceFor, PROJECT_ANNOTATION, PROJECT_HASH_LABEL, projectHash, WORKFLOW_SERVICE_ACCOUNT } from '../names.js';
import type { KubeObject, ObjectMeta } from './objects.js';

/** The RoleBinding that gives the workflow ServiceAccount the executor ClusterRole of the same name. */
export const EXECUTOR_BINDING = 'seakeeper-workflow-executor';
export const OWNERS_BINDING = 'seakeeper-owners';
export const VIEWERS_BINDING = 'seakeeper-viewers';
/** ClusterRoles in knative/cluster/clusterroles.yaml. */
export const WORKFLOW_EXECUTOR_CLUSTER_ROLE = 'seakeeper-workflow-executor';
export const WORKFLOW_EDITOR_CLUSTER_ROLE = 'seakeeper-workflow-editor';
export const WORKFLOW_VIEWER_CLUSTER_ROLE = 'seakeeper-workflow-viewer';
export const RESOURCE_QUOTA = 'seakeeper';
export const LIMIT_RANGE = 'seakeeper';
export const NETWORK_POLICY = 'seakeeper-isolation';
/** Argo's well-known ConfigMap name and annotation for a namespace's default artifact repository. */
export const ARTIFACT_REPOSITORIES_CONFIGMAP = 'artifact-repositories';
export const ARGO_DEFAULT_ARTIFACT_REPOSITORY_ANNOTATION = 'workflows.argoproj.io/default-artifact-repository';
export const ARTIFACT_REPOSITORY_KEY = 'default-v1';
/** The speculative checkout script (config/gate/checkout.sh) as a Workflow mounts it: ConfigMap and key. */
export const CHECKOUT_CONFIGMAP = 'seakeeper-checkout';
export const CHECKOUT_SCRIPT_KEY = 'checkout.sh';
export const CHECKOUT_SCRIPT_FILE = 'gate/checkout.sh';
/** Which project's seakeeper.yaml the namespace was provisioned from (differs from the project when inherited). */
export const CONFIG_SOURCE_ANNOTATION = 'seakeeper.dev/config-source';
/**
 * The StorageClasses claims in the namespace may name, comma-separated (the policy's storage.classes): read by
 * the ValidatingAdmissionPolicy seakeeper-project-storage (knative/cluster/admission-storage.yaml).
 */
export const STORAGE_CLASSES_ANNOTATION = 'seakeeper.dev/storage-classes';
export const POD_SECURITY_ENFORCE_LABEL = 'pod-security.kubernetes.io/enforce';
const RBAC_GROUP = 'rbac.authorization.k8s.io';

/** Every namespaced kind the bundle may contain. */
export const BUNDLE_KINDS: readonly { apiVersion: string; kind: string }[] = [
  { apiVersion: 'v1', kind: 'ServiceAccount' },
  { apiVersion: `${RBAC_GROUP}/v1`, kind: 'RoleBinding' },
  { apiVersion: 'v1', kind: 'ResourceQuota' },
  { apiVersion: 'v1', kind: 'LimitRange' },
  { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy' },
  { apiVersion: 'v1', kind: 'ConfigMap' },
];
/**
 * Kinds an earlier release put in project namespaces and the bundle no longer makes, so that the plan prunes
 * what is left of them: Role seakeeper-workflow-executor (a ClusterRole now).
 */
export const RETIRED_KINDS: readonly { apiVersion: string; kind: string }[] = [{ apiVersion: `${RBAC_GROUP}/v1`, kind: 'Role' }];
/** What the shell lists (by label) to find objects to prune. */
export const MANAGED_KINDS: readonly { apiVersion: string; kind: string }[] = [...BUNDLE_KINDS, ...RETIRED_KINDS];

export interface BundleInput {
  /** Gerrit project name, canonical. */
  readonly project: string;
  readonly config: ProjectConfig;
  readonly policy: Policy;
  /** The project whose seakeeper.yaml applies (EffectiveConfig.source); default the project itself. */
  readonly source?: string | undefined;
}

/** The labels that mark an object as Seakeeper's, for this project. */
export function managedLabels(project: string): Record<string, string> {
  return { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [PROJECT_HASH_LABEL]: projectHash(project) };
}

/** Label selector for one project's objects (`kubectl get … -l`). */
export function projectSelector(project: string): string {
  return `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE},${PROJECT_HASH_LABEL}=${projectHash(project)}`;
}

/** Label selector for everything Seakeeper manages (all projects). */
export const MANAGED_SELECTOR = `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`;

/** The Namespace object alone (also what deprovisioning re-applies with its orphan mark). */
export function namespaceObject(input: Pick<BundleInput, 'project' | 'policy' | 'source'>): KubeObject {
  const { project, policy } = input;
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name: namespaceFor(project),
      labels: { ...managedLabels(project), [POD_SECURITY_ENFORCE_LABEL]: policy.podSecurity },
      annotations: {
        [PROJECT_ANNOTATION]: project,
        [CONFIG_SOURCE_ANNOTATION]: input.source ?? project,
        [STORAGE_CLASSES_ANNOTATION]: policy.storage.classes.join(','),
      },
    },
  };
}

/** Every object of the project's namespace, the Namespace first. */
export function buildBundle(input: BundleInput): KubeObject[] {
  const { project, config, policy } = input;
  const namespace = namespaceFor(project);
  const meta = (name: string): ObjectMeta => ({ name, namespace, labels: managedLabels(project) });
  const groups = (names: readonly string[]) =>
    [...new Set(names)].sort().map((group) => ({ kind: 'Group', apiGroup: RBAC_GROUP, name: `${policy.groupPrefix}${group}` }));

  const objects: KubeObject[] = [
    namespaceObject(input),
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(WORKFLOW_SERVICE_ACCOUNT) },
    {
      apiVersion: `${RBAC_GROUP}/v1`,
      kind: 'RoleBinding',
      metadata: meta(EXECUTOR_BINDING),
      roleRef: { apiGroup: RBAC_GROUP, kind: 'ClusterRole', name: WORKFLOW_EXECUTOR_CLUSTER_ROLE },
      subjects: [{ kind: 'ServiceAccount', name: WORKFLOW_SERVICE_ACCOUNT, namespace }],
    },
  ];
  // Each binding exists only while the config names groups for it, so the plan prunes it when it stops naming any.
  const groupBinding = (name: string, clusterRole: string, groupNames: readonly string[]) => {
    if (groupNames.length === 0) return;
    objects.push({
      apiVersion: `${RBAC_GROUP}/v1`,
      kind: 'RoleBinding',
      metadata: meta(name),
      roleRef: { apiGroup: RBAC_GROUP, kind: 'ClusterRole', name: clusterRole },
      subjects: groups(groupNames),
    });
  };
  groupBinding(OWNERS_BINDING, WORKFLOW_EDITOR_CLUSTER_ROLE, config.owners);
  groupBinding(VIEWERS_BINDING, WORKFLOW_VIEWER_CLUSTER_ROLE, config.viewers);

  const total = config.resources;
  objects.push({
    apiVersion: 'v1',
    kind: 'ResourceQuota',
    metadata: meta(RESOURCE_QUOTA),
    spec: {
      hard: {
        'requests.cpu': total.cpu,
        'requests.memory': total.memory,
        'limits.memory': total.memory,
        pods: String(total.pods),
        'requests.storage': policy.storage.requests,
        persistentvolumeclaims: String(policy.storage.claims),
      },
    },
  });

  // LimitRange validation wants defaultRequest ≤ default ≤ max; a small namespace lowers the defaults.
  const defaultLimit = {
    cpu: minQuantity(policy.container.defaultLimit.cpu, total.cpu),
    memory: minQuantity(policy.container.defaultLimit.memory, total.memory),
  };
  const defaultRequest = {
    cpu: minQuantity(policy.container.defaultRequest.cpu, defaultLimit.cpu),
    memory: minQuantity(policy.container.defaultRequest.memory, defaultLimit.memory),
  };
  objects.push({
    apiVersion: 'v1',
    kind: 'LimitRange',
    metadata: meta(LIMIT_RANGE),
    spec: { limits: [{ type: 'Container', default: defaultLimit, defaultRequest, max: { cpu: total.cpu, memory: total.memory } }] },
  });

  objects.push({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: meta(NETWORK_POLICY),
    spec: {
      podSelector: {},
      policyTypes: ['Ingress', 'Egress'],
      ingress: [{ from: [{ podSelector: {} }] }],
      egress: egressRules(policy.egress.deny),
    },
  });

  // The text ships with the code (config/), read once: the same release gives every namespace the same script.
  objects.push({ apiVersion: 'v1', kind: 'ConfigMap', metadata: meta(CHECKOUT_CONFIGMAP), data: { [CHECKOUT_SCRIPT_KEY]: readConfigFile(CHECKOUT_SCRIPT_FILE) } });

  const repo = policy.artifactRepository;
  if (repo) {
    const s3 = {
      endpoint: repo.endpoint,
      bucket: repo.bucket,
      ...(repo.region ? { region: repo.region } : {}),
      insecure: repo.insecure,
      keyFormat: `${namespace}/{{workflow.name}}/{{pod.name}}`,
      accessKeySecret: { name: repo.secretName, key: 'accesskey' },
      secretKeySecret: { name: repo.secretName, key: 'secretkey' },
    };
    objects.push({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { ...meta(ARTIFACT_REPOSITORIES_CONFIGMAP), annotations: { [ARGO_DEFAULT_ARTIFACT_REPOSITORY_ANNOTATION]: ARTIFACT_REPOSITORY_KEY } },
      data: { [ARTIFACT_REPOSITORY_KEY]: stringify({ s3 }) },
    });
  }
  return objects;
}

/**
 * Egress anywhere but `deny`: each address family is allowed whole, less its denied ranges (ipBlock `except`);
 * the namespace's own pods and the cluster's DNS stay reachable even when an operator denies the ranges they
 * are in.
 */
export function egressRules(deny: readonly string[]): object[] {
  const except = (v6: boolean) => deny.filter((cidr) => cidr.includes(':') === v6);
  const block = (cidr: string, v6: boolean) => ({ ipBlock: { cidr, ...(except(v6).length > 0 ? { except: except(v6) } : {}) } });
  return [
    { to: [block('0.0.0.0/0', false), block('::/0', true)] },
    { to: [{ podSelector: {} }] },
    {
      to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
      ports: [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }],
    },
  ];
}
