// The Workflow policy: what a project's Workflow definition (a file on refs/meta/config) or WorkflowTemplate may
// contain before Seakeeper creates it in the project's namespace, and what Seakeeper forces onto it. Pure.
//
// The same rules run in the config check of a change to refs/meta/config (`validateWorkflow`, config-check.ts's
// WorkflowValidator seam) and before each run is created (`checkDefinition`); `enforceWorkflowPolicy` then forces
// the pipeline's settings, noting each change. Every refusal is a ConfigProblem naming its rule (POLICY_RULES)
// and the field, so the owner can fix it from the review message alone.
//
// The rules, what is allowed on purpose and what is forced are listed in docs/architecture.md, "Workflow
// policy": change that list with the rules.
import type { ResourceAmounts } from '../config/policy.js';
import type { WorkflowValidator } from '../config/config-check.js';
import { workflowProblems } from '../config/config-check.js';
import { compareQuantities, parseQuantity } from '../config/quantity.js';
import { toPointer, type ConfigProblem, type ParsedYaml } from '../config/yaml.js';
import { MANAGED_BY_LABEL, ARGO_API_VERSION, WORKFLOW_TEMPLATE_KIND, WORKFLOW_SERVICE_ACCOUNT } from '../names.js';
import type { Pipeline } from '../config/pipeline-config.js';
import { unknownFields, type ArgoKind } from './argo-fields.js';

export const POLICY_RULES = {
  field: 'workflow-field',
  metadata: 'workflow-metadata',
  reservedMetadata: 'reserved-metadata',
  reservedField: 'reserved-field',
  privileged: 'privileged',
  privilegeEscalation: 'privilege-escalation',
  capabilities: 'capabilities',
  procMount: 'proc-mount',
  seccomp: 'seccomp',
  apparmor: 'apparmor',
  selinux: 'selinux',
  hostProcess: 'host-process',
  hostPort: 'host-port',
  hostNamespace: 'host-namespace',
  sysctl: 'sysctl',
  hostPath: 'host-path',
  volumeType: 'volume-type',
  podSpecPatch: 'pod-spec-patch',
  artifactLocation: 'artifact-location',
  resourceTemplate: 'resource-template',
  agentTemplate: 'agent-template',
  serviceAccount: 'service-account',
  executorServiceAccount: 'executor-service-account',
  automountToken: 'automount-service-account-token',
  priorityClass: 'priority-class',
  clusterScope: 'cluster-scope',
  synchronization: 'synchronization-scope',
  activeDeadline: 'active-deadline',
  resources: 'resources-above-quota',
  kind: 'workflow-kind',
  workflowMissing: 'workflow-missing',
  templateMissing: 'workflow-template-missing',
  unknownField: 'unknown-field',
  nestedInline: 'nested-inline',
} as const;

export const MAX_POLICY_PROBLEMS = 50;

const ALLOWED_VOLUME_TYPES = new Set(['configMap', 'secret', 'emptyDir', 'persistentVolumeClaim', 'projected', 'downwardAPI', 'ephemeral', 'csi']);
/** Kubernetes' safe sysctls (Pod Security "baseline"). */
const SAFE_SYSCTLS = new Set([
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
]);
const SELINUX_TYPES = new Set(['container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t']);
const TOP_LEVEL_KEYS = new Set(['apiVersion', 'kind', 'metadata', 'spec', 'status']);
const METADATA_KEYS = new Set(['name', 'generateName', 'namespace', 'labels', 'annotations']);
const LABEL_KEY = /^(?:[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?\/)?[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^(?:[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?)?$/;

type Obj = Record<string, unknown>;
type Path = readonly (string | number)[];
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const own = (o: Obj, key: string): unknown => (Object.hasOwn(o, key) ? o[key] : undefined);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

export interface PolicyOptions {
  /** The namespace's totals: a container asking for more than these is refused. */
  readonly resources?: Pick<ResourceAmounts, 'cpu' | 'memory'> | undefined;
}

type Locate = (pointer: string, at?: 'key' | 'value') => { line: number; column: number };

/** Collects located problems for one document, at most MAX_POLICY_PROBLEMS. */
class Findings {
  readonly problems: ConfigProblem[] = [];

  constructor(
    private readonly file: string,
    private readonly locate: Locate,
  ) {}

  add(path: Path, rule: string, message: string, at: 'key' | 'value' = 'value'): void {
    if (this.problems.length >= MAX_POLICY_PROBLEMS) return;
    const pointer = toPointer(path);
    // A key Argo does not read is that key's one problem: what it would do if read is beside the point.
    if (this.problems.some((p) => p.path === pointer && p.rule === POLICY_RULES.unknownField)) return;
    this.problems.push({ file: this.file, path: pointer, ...this.locate(pointer, at), rule, message });
  }
}

/** Checks a Workflow's spec-level fields and everything below; `f` receives the problems. */
function checkSpec(spec: Obj, at: Path, f: Findings, options: PolicyOptions): void {
  checkPodLevel(spec, at, f);
  if (own(spec, 'shutdown') !== undefined) {
    f.add([...at, 'shutdown'], POLICY_RULES.reservedField, 'spec.shutdown is how Seakeeper stops superseded runs; a definition may not set it', 'key');
  }
  const deadline = own(spec, 'activeDeadlineSeconds');
  if (deadline !== undefined && !(Number.isSafeInteger(deadline) && (deadline as number) >= 1)) {
    f.add([...at, 'activeDeadlineSeconds'], POLICY_RULES.activeDeadline, 'activeDeadlineSeconds must be a whole number of seconds, at least 1');
  }
  for (const key of ['workflowMetadata', 'podMetadata'] as const) {
    const meta = own(spec, key);
    if (isObj(meta)) checkMetadataMaps(meta, [...at, key], f, key === 'workflowMetadata' ? ['labels', 'annotations', 'labelsFrom'] : ['labels', 'annotations']);
  }
  const defaults = own(spec, 'templateDefaults');
  if (isObj(defaults)) checkTemplate(defaults, [...at, 'templateDefaults'], f, options);
  list(own(spec, 'templates')).forEach((t, i) => {
    if (isObj(t)) checkTemplate(t, [...at, 'templates', i], f, options);
  });
  checkClusterScope(spec, at, f);
  checkSpecArtifacts(spec, at, f);
}

/** Fields a Workflow spec, its templateDefaults and its templates share: they all end up in a pod spec. */
function checkPodLevel(o: Obj, at: Path, f: Findings): void {
  for (const key of ['hostNetwork', 'hostPID', 'hostIPC'] as const) {
    if (own(o, key) === true) f.add([...at, key], POLICY_RULES.hostNamespace, `${key} would share the node's ${key.slice(4)} namespace; it is not allowed`);
  }
  if (own(o, 'podSpecPatch') !== undefined) {
    f.add([...at, 'podSpecPatch'], POLICY_RULES.podSpecPatch, 'podSpecPatch can change any field of the pod, past every other check; it is not allowed', 'key');
  }
  const executor = own(o, 'executor');
  if (isObj(executor) && own(executor, 'serviceAccountName') !== undefined) {
    f.add([...at, 'executor', 'serviceAccountName'], POLICY_RULES.executorServiceAccount, `the executor runs as the namespace's ${JSON.stringify(WORKFLOW_SERVICE_ACCOUNT)} account; executor.serviceAccountName is not allowed`);
  }
  if (own(o, 'automountServiceAccountToken') === false) {
    f.add([...at, 'automountServiceAccountToken'], POLICY_RULES.automountToken, "automountServiceAccountToken: false needs an executor service account, which is not allowed; Argo's executor needs the token");
  }
  const securityContext = own(o, 'securityContext');
  if (isObj(securityContext)) checkSecurityContext(securityContext, [...at, 'securityContext'], f, 'pod');
  checkVolumes(own(o, 'volumes'), [...at, 'volumes'], f);
  const sync = own(o, 'synchronization');
  if (isObj(sync)) checkSynchronization(sync, [...at, 'synchronization'], f);
}

function checkTemplate(t: Obj, at: Path, f: Findings, options: PolicyOptions, inline = false): void {
  checkPodLevel(t, at, f);
  const sa = own(t, 'serviceAccountName');
  if (sa !== undefined && sa !== WORKFLOW_SERVICE_ACCOUNT) {
    f.add([...at, 'serviceAccountName'], POLICY_RULES.serviceAccount, `templates run as the namespace's ${JSON.stringify(WORKFLOW_SERVICE_ACCOUNT)} account; remove serviceAccountName`);
  }
  if (own(t, 'priorityClassName') !== undefined) {
    f.add([...at, 'priorityClassName'], POLICY_RULES.priorityClass, "the pipeline sets the pods' priority class; remove priorityClassName", 'key');
  }
  if (own(t, 'resource') !== undefined) {
    f.add([...at, 'resource'], POLICY_RULES.resourceTemplate, 'resource templates create arbitrary Kubernetes objects; they are not allowed', 'key');
  }
  for (const key of ['http', 'plugin'] as const) {
    if (own(t, key) !== undefined) f.add([...at, key], POLICY_RULES.agentTemplate, `${key} templates run in Argo's agent pod, which Seakeeper namespaces do not provide; use a container`, 'key');
  }
  const meta = own(t, 'metadata');
  if (isObj(meta)) checkMetadataMaps(meta, [...at, 'metadata'], f, ['labels', 'annotations']);

  for (const { container, path } of templateContainers(t)) checkContainer(container, [...at, ...path], f, options);
  checkTemplateArtifacts(t, at, f);
  // Inline templates of steps and DAG tasks are whole templates.
  for (const { template, path } of inlineTemplates(t)) {
    // The cluster's admission policy reads one level of inline templates (CEL cannot recurse), and refuses
    // deeper ones for every author: say so here, where the field can be named.
    if (inline) {
      f.add([...at, ...path], POLICY_RULES.nestedInline, 'an inline template inside an inline template is not allowed (the cluster reads one level); name it in spec.templates and refer to it', 'key');
    }
    checkTemplate(template, [...at, ...path], f, options, true);
  }
}

/** The inline templates of a template's steps and DAG tasks, with their paths from it. */
function inlineTemplates(t: Obj): { template: Obj; path: Path }[] {
  const found: { template: Obj; path: Path }[] = [];
  list(own(t, 'steps')).forEach((group, i) =>
    list(group).forEach((step, j) => {
      const inline = isObj(step) ? own(step, 'inline') : undefined;
      if (isObj(inline)) found.push({ template: inline, path: ['steps', i, j, 'inline'] });
    }),
  );
  const dag = own(t, 'dag');
  list(isObj(dag) ? own(dag, 'tasks') : undefined).forEach((task, i) => {
    const inline = isObj(task) ? own(task, 'inline') : undefined;
    if (isObj(inline)) found.push({ template: inline, path: ['dag', 'tasks', i, 'inline'] });
  });
  return found;
}

/** Every container a template makes (container, script, containerSet, initContainers, sidecars), with its path. */
export function templateContainers(t: Obj): { container: Obj; path: Path }[] {
  const found: { container: Obj; path: Path }[] = [];
  for (const key of ['container', 'script'] as const) {
    const c = own(t, key);
    if (isObj(c)) found.push({ container: c, path: [key] });
  }
  const containerSet = own(t, 'containerSet');
  list(isObj(containerSet) ? own(containerSet, 'containers') : undefined).forEach((c, i) => {
    if (isObj(c)) found.push({ container: c, path: ['containerSet', 'containers', i] });
  });
  for (const key of ['initContainers', 'sidecars'] as const) {
    list(own(t, key)).forEach((c, i) => {
      if (isObj(c)) found.push({ container: c, path: [key, i] });
    });
  }
  return found;
}

function checkContainer(c: Obj, at: Path, f: Findings, options: PolicyOptions): void {
  const securityContext = own(c, 'securityContext');
  if (isObj(securityContext)) checkSecurityContext(securityContext, [...at, 'securityContext'], f, 'container');
  list(own(c, 'ports')).forEach((port, i) => {
    const hostPort = isObj(port) ? own(port, 'hostPort') : undefined;
    if (hostPort !== undefined && hostPort !== 0) {
      f.add([...at, 'ports', i, 'hostPort'], POLICY_RULES.hostPort, 'hostPort opens a port on the node; it is not allowed');
    }
  });
  if (options.resources) checkResources(own(c, 'resources'), [...at, 'resources'], f, options.resources);
}

function checkResources(resources: unknown, at: Path, f: Findings, totals: Pick<ResourceAmounts, 'cpu' | 'memory'>): void {
  if (!isObj(resources)) return;
  for (const kind of ['requests', 'limits'] as const) {
    const amounts = own(resources, kind);
    if (!isObj(amounts)) continue;
    for (const resource of ['cpu', 'memory'] as const) {
      const asked = own(amounts, resource);
      const value = typeof asked === 'string' ? parseQuantity(asked) : typeof asked === 'number' ? parseQuantity(String(asked)) : undefined;
      const total = parseQuantity(totals[resource]);
      if (value && total && compareQuantities(value, total) > 0) {
        f.add([...at, kind, resource], POLICY_RULES.resources, `${resource} ${JSON.stringify(String(asked))} is more than the project's whole namespace has (${totals[resource]}, seakeeper.yaml resources)`);
      }
    }
  }
}

function checkSecurityContext(sc: Obj, at: Path, f: Findings, level: 'pod' | 'container'): void {
  if (level === 'container') {
    if (own(sc, 'privileged') === true) f.add([...at, 'privileged'], POLICY_RULES.privileged, 'privileged containers are not allowed');
    if (own(sc, 'allowPrivilegeEscalation') === true) {
      f.add([...at, 'allowPrivilegeEscalation'], POLICY_RULES.privilegeEscalation, 'allowPrivilegeEscalation: true is not allowed; leave it out');
    }
    const caps = own(sc, 'capabilities');
    if (isObj(caps) && list(own(caps, 'add')).length > 0) {
      f.add([...at, 'capabilities', 'add'], POLICY_RULES.capabilities, 'adding Linux capabilities is not allowed (dropping them is fine)');
    } else if (isObj(caps) && own(caps, 'add') !== undefined && !Array.isArray(own(caps, 'add'))) {
      f.add([...at, 'capabilities', 'add'], POLICY_RULES.capabilities, 'capabilities.add must be a list, and empty');
    }
    const procMount = own(sc, 'procMount');
    if (procMount !== undefined && procMount !== 'Default') f.add([...at, 'procMount'], POLICY_RULES.procMount, 'procMount must be Default (an unmasked /proc exposes the node)');
  } else {
    list(own(sc, 'sysctls')).forEach((s, i) => {
      const name = isObj(s) ? own(s, 'name') : undefined;
      if (typeof name !== 'string' || !SAFE_SYSCTLS.has(name)) {
        f.add([...at, 'sysctls', i], POLICY_RULES.sysctl, `sysctl ${JSON.stringify(name)} is not one of Kubernetes' safe sysctls`);
      }
    });
  }
  for (const [key, rule] of [['seccompProfile', POLICY_RULES.seccomp], ['appArmorProfile', POLICY_RULES.apparmor]] as const) {
    const profile = own(sc, key);
    if (isObj(profile) && own(profile, 'type') === 'Unconfined') f.add([...at, key, 'type'], rule, `${key} Unconfined is not allowed`);
  }
  const selinux = own(sc, 'seLinuxOptions');
  if (isObj(selinux)) {
    for (const key of ['user', 'role'] as const) {
      if (own(selinux, key) !== undefined && own(selinux, key) !== '') f.add([...at, 'seLinuxOptions', key], POLICY_RULES.selinux, `seLinuxOptions.${key} may not be set`);
    }
    const type = own(selinux, 'type');
    if (type !== undefined && type !== '' && !(typeof type === 'string' && SELINUX_TYPES.has(type))) {
      f.add([...at, 'seLinuxOptions', 'type'], POLICY_RULES.selinux, `seLinuxOptions.type must be one of ${[...SELINUX_TYPES].join(', ')}`);
    }
  }
  const windows = own(sc, 'windowsOptions');
  if (isObj(windows) && own(windows, 'hostProcess') === true) f.add([...at, 'windowsOptions', 'hostProcess'], POLICY_RULES.hostProcess, 'host processes are not allowed');
}

function checkVolumes(volumes: unknown, at: Path, f: Findings): void {
  list(volumes).forEach((v, i) => {
    if (!isObj(v)) return;
    for (const key of Object.keys(v)) {
      if (key === 'name') continue;
      if (key === 'hostPath') f.add([...at, i, key], POLICY_RULES.hostPath, 'hostPath volumes expose the node\'s files; they are not allowed', 'key');
      else if (!ALLOWED_VOLUME_TYPES.has(key)) {
        f.add([...at, i, key], POLICY_RULES.volumeType, `${key} volumes are not allowed; use one of ${[...ALLOWED_VOLUME_TYPES].join(', ')}`, 'key');
      }
    }
  });
}

function checkSynchronization(sync: Obj, at: Path, f: Findings): void {
  const locks: Array<[Path, unknown]> = [
    [[...at, 'mutex'], own(sync, 'mutex')],
    [[...at, 'semaphore'], own(sync, 'semaphore')],
    ...list(own(sync, 'mutexes')).map((m, i): [Path, unknown] => [[...at, 'mutexes', i], m]),
    ...list(own(sync, 'semaphores')).map((s, i): [Path, unknown] => [[...at, 'semaphores', i], s]),
  ];
  for (const [path, lock] of locks) {
    if (!isObj(lock)) continue;
    if (own(lock, 'namespace') !== undefined) f.add([...path, 'namespace'], POLICY_RULES.synchronization, "locks live in the project's namespace; remove namespace", 'key');
    if (own(lock, 'database') !== undefined) f.add([...path, 'database'], POLICY_RULES.synchronization, 'database locks are shared by every namespace; use a mutex or a ConfigMap semaphore', 'key');
  }
}

/** templateRef / workflowTemplateRef with clusterScope: true, wherever they are (steps, tasks, hooks, inline…). */
function checkClusterScope(root: Obj, at: Path, f: Findings): void {
  const stack: Array<{ value: unknown; path: Path }> = [{ value: root, path: at }];
  while (stack.length > 0) {
    const { value, path } = stack.pop()!;
    if (Array.isArray(value)) {
      value.forEach((v, i) => stack.push({ value: v, path: [...path, i] }));
    } else if (isObj(value)) {
      for (const [key, v] of Object.entries(value)) {
        if ((key === 'templateRef' || key === 'workflowTemplateRef') && isObj(v) && own(v, 'clusterScope') === true) {
          f.add([...path, key, 'clusterScope'], POLICY_RULES.clusterScope, 'ClusterWorkflowTemplates are shared by every project; reference a WorkflowTemplate in the project\'s namespace');
        }
        if (typeof v === 'object' && v !== null) stack.push({ value: v, path: [...path, key] });
      }
    }
  }
}

/**
 * The location kinds of Argo's ArtifactLocation that name storage of their own (all but archiveLogs and raw):
 * each carries its own bucket, key, endpoint, URL or credentials. An artifact without one is kept in the
 * namespace's repository (the artifact-repositories ConfigMap, keys under the namespace's prefix); raw data is
 * written inline. test/unit/workflow-policy-artifacts.test.ts keeps this list equal to config/argo-fields.json.
 */
export const ARTIFACT_LOCATION_KINDS: ReadonlySet<string> = new Set(['artifactory', 'azure', 'gcs', 'git', 'hdfs', 'http', 'oss', 's3']);

const KEPT_IN_THE_REPOSITORY = "leave it out: the artifact is then kept in the namespace's repository, under its key prefix (raw data inline is fine)";

/** The spec's artifacts (arguments, hooks), its choice of repository, and its artifact garbage collector's pod. */
function checkSpecArtifacts(spec: Obj, at: Path, f: Findings): void {
  checkCallArtifacts(spec, at, f);
  if (own(spec, 'artifactRepositoryRef') !== undefined) {
    f.add([...at, 'artifactRepositoryRef'], POLICY_RULES.artifactLocation, "artifactRepositoryRef picks another repository configuration (Argo also looks for it in its own namespace); artifacts are kept in the namespace's repository: remove it", 'key');
  }
  const gc = own(spec, 'artifactGC');
  if (isObj(gc) && own(gc, 'podSpecPatch') !== undefined) {
    f.add([...at, 'artifactGC', 'podSpecPatch'], POLICY_RULES.podSpecPatch, "podSpecPatch can change any field of the artifact garbage collector's pod, past every other check; it is not allowed", 'key');
  }
}

/** A template's inputs, outputs, data source and archive location, and the arguments of its steps and tasks. */
function checkTemplateArtifacts(t: Obj, at: Path, f: Findings): void {
  for (const key of ['inputs', 'outputs'] as const) {
    const io = own(t, key);
    if (isObj(io)) checkArtifacts(own(io, 'artifacts'), [...at, key, 'artifacts'], f);
  }
  const data = own(t, 'data');
  const source = isObj(data) ? own(data, 'source') : undefined;
  const paths = isObj(source) ? own(source, 'artifactPaths') : undefined;
  if (isObj(paths)) checkArtifact(paths, [...at, 'data', 'source', 'artifactPaths'], f);
  const archive = own(t, 'archiveLocation');
  if (isObj(archive)) {
    for (const key of Object.keys(archive).filter((k) => k !== 'archiveLogs')) {
      f.add([...at, 'archiveLocation', key], POLICY_RULES.artifactLocation, `archiveLocation may only set archiveLogs: ${key} would keep this template's artifacts and logs outside the namespace's repository`, 'key');
    }
  }
  list(own(t, 'steps')).forEach((group, i) =>
    list(group).forEach((step, j) => {
      if (isObj(step)) checkCallArtifacts(step, [...at, 'steps', i, j], f);
    }),
  );
  const dag = own(t, 'dag');
  list(isObj(dag) ? own(dag, 'tasks') : undefined).forEach((task, i) => {
    if (isObj(task)) checkCallArtifacts(task, [...at, 'dag', 'tasks', i], f);
  });
}

/** The artifacts a spec, step or task passes as arguments, its own and its lifecycle hooks'. */
function checkCallArtifacts(o: Obj, at: Path, f: Findings): void {
  const args = own(o, 'arguments');
  if (isObj(args)) checkArtifacts(own(args, 'artifacts'), [...at, 'arguments', 'artifacts'], f);
  const hooks = own(o, 'hooks');
  for (const [name, hook] of Object.entries(isObj(hooks) ? hooks : {})) {
    const hookArgs = isObj(hook) ? own(hook, 'arguments') : undefined;
    if (isObj(hookArgs)) checkArtifacts(own(hookArgs, 'artifacts'), [...at, 'hooks', name, 'arguments', 'artifacts'], f);
  }
}

function checkArtifacts(artifacts: unknown, at: Path, f: Findings): void {
  list(artifacts).forEach((a, i) => {
    if (isObj(a)) checkArtifact(a, [...at, i], f);
  });
}

function checkArtifact(a: Obj, at: Path, f: Findings): void {
  const name = typeof own(a, 'name') === 'string' ? `artifact ${JSON.stringify(a.name)}` : 'the artifact';
  for (const kind of Object.keys(a).filter((k) => ARTIFACT_LOCATION_KINDS.has(k))) {
    const why =
      kind === 'http' || kind === 'git'
        ? `${name} names a ${kind === 'git' ? 'repository' : 'URL'} of its own: Argo's server fetches from it, from its own network past the namespace's network policy, when someone opens the artifact; fetch or send it in a step instead (${kind === 'git' ? 'git clone' : 'curl'})`
        : `${name} names its own ${kind} location: its key, bucket, endpoint or credentials could read or overwrite other projects' artifacts and logs; ${KEPT_IN_THE_REPOSITORY}`;
    f.add([...at, kind], POLICY_RULES.artifactLocation, why, 'key');
  }
  const subPath = own(a, 'subPath');
  if (typeof subPath === 'string' && (subPath.includes('..') || subPath.includes('{{'))) {
    f.add([...at, 'subPath'], POLICY_RULES.artifactLocation, `subPath ${JSON.stringify(subPath)} could climb out of the artifact's key (Argo joins it onto the key, ".." included, after substituting parameters); use a plain relative path`);
  }
}

/**
 * The `workflows.argoproj.io/` labels Argo itself sets or reads to keep track of workflows, their pods and what
 * made them (its LabelKey* constants, workflow/common/common.go, at the rig's Argo version): set by a definition
 * they would hide a run from the controller (`completed`), keep its pods alive when it is stopped (`on-exit`),
 * tie pods to another workflow (`workflow`) or forge its phase, origin or author. Argo's other labels under
 * that prefix (`test`, `archive-strategy`, …) are the owner's to set. test/integration/argo-examples.test.ts
 * checks this list against Argo's source.
 */
export const ARGO_RESERVED_LABELS: ReadonlySet<string> = new Set(
  [
    'action', 'actor', 'actor-email', 'actor-preferred-username', 'artifact-gc-pod', 'backfill', 'cluster-workflow-template',
    'completed', 'component', 'controller-instanceid', 'creator', 'creator-email', 'creator-preferred-username',
    'cron-workflow', 'on-exit', 'parallelism-limit', 'phase', 'report-outputs-completed', 'resubmitted-from-workflow',
    'workflow', 'workflow-archiving-status', 'workflow-event-binding', 'workflow-template',
  ].map((name) => `workflows.argoproj.io/${name}`),
);
/**
 * The `workflows.argoproj.io/` annotations Argo sets on the pods and workflows it makes (its AnnotationKey*
 * constants, and `kill-cmd-<container>`): through podMetadata or a template's metadata they would forge which
 * node a pod is, how it is stopped or cleaned up. Argo's descriptive annotations (`description`, `title`,
 * `version`, …) are the owner's.
 */
export const ARGO_RESERVED_ANNOTATIONS: ReadonlySet<string> = new Set(
  [
    'artifact-gc-strategy', 'node-id', 'node-name', 'node-start-time', 'node-type', 'pod-gc-strategy', 'pod-name-format',
    'progress', 'rbac-rule', 'rbac-rule-precedence', 'scheduled-time', 'service-account-token.name', 'workflow-name',
    'workflow-uid',
  ].map((name) => `workflows.argoproj.io/${name}`),
);
const ARGO_KILL_COMMAND_ANNOTATION = 'workflows.argoproj.io/kill-cmd-';

function reservedKey(key: string, kind: 'labels' | 'annotations'): boolean {
  if (key.startsWith('seakeeper.dev/') || key === MANAGED_BY_LABEL) return true;
  if (kind === 'labels') return ARGO_RESERVED_LABELS.has(key);
  return ARGO_RESERVED_ANNOTATIONS.has(key) || key.startsWith(ARGO_KILL_COMMAND_ANNOTATION);
}

function checkMetadataMaps(meta: Obj, at: Path, f: Findings, keys: readonly string[]): void {
  for (const key of keys) {
    const map = own(meta, key);
    if (!isObj(map)) continue;
    const kind = key === 'annotations' ? 'annotations' : 'labels';
    for (const name of Object.keys(map)) {
      if (reservedKey(name, kind)) {
        const whose = name.startsWith('workflows.argoproj.io/') ? "Argo's bookkeeping" : "Seakeeper's bookkeeping";
        f.add([...at, key, name], POLICY_RULES.reservedMetadata, `${JSON.stringify(name)} is reserved: it is ${whose}, a definition may not set it`, 'key');
      } else if (kind === 'annotations' && name.startsWith('container.apparmor.security.beta.kubernetes.io/') && map[name] === 'unconfined') {
        f.add([...at, key, name], POLICY_RULES.apparmor, 'an unconfined AppArmor profile is not allowed');
      }
    }
  }
}

/** The rules above for a Workflow document (apiVersion and kind already checked). */
function workflowDocumentProblems(value: Obj, f: Findings, options: PolicyOptions): void {
  for (const key of Object.keys(value)) {
    if (!TOP_LEVEL_KEYS.has(key)) f.add([key], POLICY_RULES.field, `unknown top-level key ${JSON.stringify(key)}; a Workflow has apiVersion, kind, metadata and spec`, 'key');
  }
  const metadata = own(value, 'metadata');
  if (metadata !== undefined && !isObj(metadata)) f.add(['metadata'], POLICY_RULES.metadata, 'metadata must be a mapping');
  if (isObj(metadata)) {
    for (const key of Object.keys(metadata)) {
      if (!METADATA_KEYS.has(key)) f.add(['metadata', key], POLICY_RULES.metadata, `metadata.${key} is not allowed in a definition; only name, generateName, namespace, labels and annotations`, 'key');
    }
    for (const key of ['labels', 'annotations'] as const) {
      const map = own(metadata, key);
      if (map !== undefined && !(isObj(map) && Object.values(map).every((v) => typeof v === 'string'))) {
        f.add(['metadata', key], POLICY_RULES.metadata, `metadata.${key} must map names to text`);
        continue;
      }
      // The API server would refuse the Workflow; say so here, where the owner can fix it.
      for (const [name, v] of Object.entries((map ?? {}) as Record<string, string>)) {
        if (!LABEL_KEY.test(name)) f.add(['metadata', key, name], POLICY_RULES.metadata, `${JSON.stringify(name)} is not a valid ${key === 'labels' ? 'label' : 'annotation'} name`, 'key');
        else if (key === 'labels' && !LABEL_VALUE.test(v)) f.add(['metadata', key, name], POLICY_RULES.metadata, `${JSON.stringify(v)} is not a valid label value (at most 63 letters, digits, '-', '_' or '.')`);
      }
    }
    checkMetadataMaps(metadata, ['metadata'], f, ['labels', 'annotations']);
  }
  checkArgoFields(own(value, 'spec'), 'Workflow', f);
  checkSpec(own(value, 'spec') as Obj, ['spec'], f, options);
}

/** Every key of the spec is exactly a field of Argo's schema there (argo-fields.ts), so no rule is passed by. */
function checkArgoFields(spec: unknown, kind: ArgoKind, f: Findings): void {
  for (const { path, key, readAs } of unknownFields(spec, kind, 'spec', ['spec'])) {
    const why = readAs
      ? `Argo would read it as ${JSON.stringify(readAs)} (its decoder ignores case), past the policy's rules: write ${JSON.stringify(readAs)}`
      : `it is not a field of Argo's ${kind} here`;
    f.add(path, POLICY_RULES.unknownField, `${JSON.stringify(key)}: ${why}`, 'key');
  }
}

/**
 * config-check.ts's WorkflowValidator: the policy's rejections for a parsed workflow file (whose apiVersion,
 * kind and spec config-check has already checked). Pass it to checkConfigChange; with the resources of the
 * seakeeper.yaml under review, containers asking for more than the namespace has are refused too.
 */
export function workflowValidator(options: PolicyOptions = {}): WorkflowValidator {
  return (file: string, document: ParsedYaml): ConfigProblem[] => {
    const f = new Findings(file, document.locate);
    workflowDocumentProblems(document.value as Obj, f, options);
    return f.problems;
  };
}

/** workflowValidator without the project's resources. */
export const validateWorkflow: WorkflowValidator = workflowValidator();

/** Where a pipeline's Workflow comes from, as the shell fetched it. */
export type DefinitionInput =
  /** A Workflow file on refs/meta/config; `text` undefined when the file is not there. `file` names it in problems. */
  | { readonly kind: 'file'; readonly file: string; readonly text: string | undefined }
  /** A WorkflowTemplate in the project's namespace; `object` undefined when there is none of that name. */
  | { readonly kind: 'template'; readonly name: string; readonly object: unknown };

/** A definition that passed the policy: what the builder starts from. */
export interface CheckedDefinition {
  /** The file, or `WorkflowTemplate/<name>`: recorded on the Workflow. */
  readonly source: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  /** The definition's spec (a WorkflowTemplate's too: copied, not referenced), not yet forced. */
  readonly spec: Readonly<Record<string, unknown>>;
}

export type DefinitionResult = { ok: true; definition: CheckedDefinition } | { ok: false; problems: ConfigProblem[] };

/** Definitions checked lately, by file, text and resources: every event of a project checks the same text. */
const checkedFiles = new Map<string, DefinitionResult>();
const CHECKED_FILES_KEPT = 256;

/**
 * Parses and checks a pipeline's definition before submission. Pure (a file's result is remembered for the
 * same text; treat it as read-only); never throws on bad input.
 */
export function checkDefinition(input: DefinitionInput, options: PolicyOptions = {}): DefinitionResult {
  if (input.kind === 'template') return checkTemplateDefinition(input.name, input.object, options);
  if (input.text === undefined) return checkFileDefinition(input.file, undefined, options);
  const key = JSON.stringify([input.file, options.resources?.cpu, options.resources?.memory, input.text]);
  let result = checkedFiles.get(key);
  if (result) {
    checkedFiles.delete(key);
  } else {
    result = checkFileDefinition(input.file, input.text, options);
    if (checkedFiles.size >= CHECKED_FILES_KEPT) checkedFiles.delete(checkedFiles.keys().next().value!);
  }
  checkedFiles.set(key, result);
  return result;
}

function checkFileDefinition(file: string, text: string | undefined, options: PolicyOptions): DefinitionResult {
  if (text === undefined) {
    return fail({ file, path: '', line: 1, column: 1, rule: POLICY_RULES.workflowMissing, message: `${file} is not on refs/meta/config` });
  }
  let document: ParsedYaml | undefined;
  // workflowProblems parses and checks apiVersion, kind and spec, then hands the parsed document to the policy.
  const problems = workflowProblems(file, text, (name, parsed) => {
    document = parsed;
    const f = new Findings(name, parsed.locate);
    workflowDocumentProblems(parsed.value as Obj, f, options);
    return f.problems;
  });
  if (problems.length > 0 || !document) return { ok: false, problems };
  const value = document.value as Obj;
  const metadata = isObj(value.metadata) ? value.metadata : {};
  return {
    ok: true,
    definition: {
      source: file,
      labels: { ...((metadata.labels as Record<string, string> | undefined) ?? {}) },
      annotations: { ...((metadata.annotations as Record<string, string> | undefined) ?? {}) },
      spec: structuredClone(value.spec as Obj),
    },
  };
}

function checkTemplateDefinition(name: string, object: unknown, options: PolicyOptions): DefinitionResult {
  const source = `${WORKFLOW_TEMPLATE_KIND}/${name}`;
  const problems = checkWorkflowTemplate(name, object, options);
  if (problems.length > 0) return { ok: false, problems };
  // The run carries the spec the policy judged, not a reference: Argo would read the template again when the
  // run starts, and its owners may have changed it in between.
  const spec = structuredClone((object as { spec: Obj }).spec);
  return { ok: true, definition: { source, labels: {}, annotations: {}, spec } };
}

/**
 * The policy's rejections for a WorkflowTemplate read from the project's namespace (the pipeline names it in
 * seakeeper.yaml). Positions are unknown there: problems point at line 1, with the exact field path.
 */
export function checkWorkflowTemplate(name: string, object: unknown, options: PolicyOptions = {}): ConfigProblem[] {
  const file = `${WORKFLOW_TEMPLATE_KIND}/${name}`;
  const f = new Findings(file, () => ({ line: 1, column: 1 }));
  if (object === undefined || object === null) {
    f.add([], POLICY_RULES.templateMissing, `there is no WorkflowTemplate ${JSON.stringify(name)} in the project's namespace`);
    return f.problems;
  }
  if (!isObj(object) || object.apiVersion !== ARGO_API_VERSION || object.kind !== WORKFLOW_TEMPLATE_KIND || !isObj(object.spec)) {
    f.add([], POLICY_RULES.kind, `expected an ${ARGO_API_VERSION} ${WORKFLOW_TEMPLATE_KIND} with a spec`);
    return f.problems;
  }
  const metadata = object.metadata;
  if (isObj(metadata)) checkMetadataMaps(metadata, ['metadata'], f, ['labels']);
  checkArgoFields(object.spec, WORKFLOW_TEMPLATE_KIND, f);
  checkSpec(object.spec, ['spec'], f, options);
  return f.problems;
}

const fail = (problem: ConfigProblem): DefinitionResult => ({ ok: false, problems: [problem] });

/** What the policy forces onto a checked spec for one pipeline, and what it changed on the way. */
export interface EnforcedSpec {
  readonly spec: Record<string, unknown>;
  /** One sentence per change to what the definition asked for, for the start message and an annotation. */
  readonly notes: readonly string[];
}

/** Every template of a spec, inline ones in steps and DAG tasks included, with where it is. */
export function eachTemplate(spec: Obj, visit: (template: Obj, where: string) => void): void {
  const within = (template: Obj, where: string): void => {
    visit(template, where);
    for (const inline of inlineTemplates(template)) {
      within(inline.template, where + inline.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join(''));
    }
  };
  list(own(spec, 'templates')).forEach((t, i) => {
    if (isObj(t)) within(t, `spec.templates[${i}]${typeof t.name === 'string' ? ` (${t.name})` : ''}`);
  });
}

/**
 * Sets the pipeline's service account, priority, retention and deadline on a (copied) spec, and a deadline on
 * every pod (templateDefaults; each template's at most the pipeline's limit). Pure.
 */
export function enforceWorkflowPolicy(spec: Readonly<Record<string, unknown>>, pipeline: Pipeline): EnforcedSpec {
  const out = structuredClone(spec) as Obj;
  const notes: string[] = [];
  const cap = pipeline.workflow.maxActiveDeadlineSeconds;

  const force = (key: string, value: unknown) => {
    const had = own(out, key);
    if (had !== undefined && JSON.stringify(had) !== JSON.stringify(value)) {
      notes.push(`spec.${key} ${JSON.stringify(had)} is replaced by ${JSON.stringify(value)} (set by Seakeeper for the ${pipeline.name} pipeline)`);
    }
    out[key] = value;
  };
  force('serviceAccountName', WORKFLOW_SERVICE_ACCOUNT);
  force('podPriorityClassName', pipeline.priorityClass);
  force('ttlStrategy', { ...pipeline.workflow.ttlStrategy });
  force('podGC', { ...pipeline.workflow.podGC });

  const deadline = own(out, 'activeDeadlineSeconds');
  if (typeof deadline === 'number' && deadline > cap) {
    notes.push(`spec.activeDeadlineSeconds ${deadline} is lowered to ${cap}, the ${pipeline.name} pipeline's limit`);
  }
  out.activeDeadlineSeconds = typeof deadline === 'number' && deadline <= cap ? deadline : cap;

  // Argo applies the Workflow's deadline to its steps, not to exit handlers and lifecycle hooks: a pod's own
  // deadline (templateDefaults, or the template's, at most the cap) bounds every pod of the run.
  const capTemplate = (t: Obj, where: string) => {
    const value = own(t, 'activeDeadlineSeconds');
    if (value === undefined) return;
    const seconds = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : undefined;
    if (seconds === undefined) {
      notes.push(`${where}.activeDeadlineSeconds ${JSON.stringify(value)} is replaced by ${cap}: a deadline must be a number of seconds here`);
      t.activeDeadlineSeconds = cap;
    } else if (seconds > cap) {
      notes.push(`${where}.activeDeadlineSeconds ${seconds} is lowered to ${cap}, the ${pipeline.name} pipeline's limit`);
      t.activeDeadlineSeconds = cap;
    }
  };
  const defaults = isObj(own(out, 'templateDefaults')) ? (out.templateDefaults as Obj) : (out.templateDefaults = {});
  capTemplate(defaults, 'spec.templateDefaults');
  if (own(defaults, 'activeDeadlineSeconds') === undefined) defaults.activeDeadlineSeconds = out.activeDeadlineSeconds;
  eachTemplate(out, (template, where) => capTemplate(template, where));
  return { spec: out, notes };
}
