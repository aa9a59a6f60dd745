// The pure half of `make manifests-check`: checks over the objects `kubectl kustomize knative` renders (and over
// knative/rbac-needs.yaml), each returning the problems it found as sentences, so a test asserts `[]` and a
// fixture asserts the one sentence it was built to provoke. The I/O half (rendering, the server-side dry-run
// against the rig) is in test/integration/manifests.test.ts.
import { parseAllDocuments } from 'yaml';

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [key: string]: unknown };
  [key: string]: unknown;
}

const SYSTEM_NAMESPACE = 'seakeeper-system';

/** Parses `kubectl kustomize` output into objects; a document that is not an object with a kind and name throws. */
export function parseRendered(text: string): K8sObject[] {
  const objects: K8sObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`rendered YAML does not parse: ${doc.errors[0]!.message}`);
    const value = doc.toJS() as unknown;
    if (value === null || value === undefined) continue;
    const obj = value as Partial<K8sObject>;
    if (typeof obj.apiVersion !== 'string' || typeof obj.kind !== 'string' || typeof obj.metadata?.name !== 'string') {
      throw new Error(`rendered document is not a Kubernetes object: ${JSON.stringify(value).slice(0, 120)}`);
    }
    objects.push(obj as K8sObject);
  }
  return objects;
}

export const identity = (o: K8sObject): string => `${o.apiVersion.split('/').length > 1 ? o.apiVersion.split('/')[0] : 'core'}/${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;

const group = (apiVersion: string): string => (apiVersion.includes('/') ? apiVersion.split('/')[0]! : '');
const isKind = (o: K8sObject, apiGroup: string, kind: string) => group(o.apiVersion) === apiGroup && o.kind === kind;
const nsOf = (o: K8sObject) => o.metadata.namespace ?? SYSTEM_NAMESPACE;

type Env = { name: string; value?: string; valueFrom?: unknown };
type Container = { name?: string; image?: string; command?: string[]; env?: Env[]; volumeMounts?: { name: string; mountPath: string }[] };
type PodSpec = { serviceAccountName?: string; containers?: Container[]; automountServiceAccountToken?: boolean; volumes?: { name: string; secret?: unknown }[] };
type Ref = { apiVersion?: string; kind?: string; name?: string; namespace?: string };

const get = (o: unknown, ...path: string[]): unknown => path.reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), o);

/** The pod spec a workload-like object carries: a Knative Service's or a ContainerSource's template. */
function podSpecOf(o: K8sObject): PodSpec | undefined {
  if (isKind(o, 'serving.knative.dev', 'Service') || isKind(o, 'sources.knative.dev', 'ContainerSource')) {
    return get(o, 'spec', 'template', 'spec') as PodSpec | undefined;
  }
  return undefined;
}

const functionTarget = (o: K8sObject): string | undefined =>
  podSpecOf(o)?.containers?.flatMap((c) => c.env ?? []).find((e) => e.name === 'FUNCTION_TARGET')?.value;

const knativeServices = (objects: K8sObject[]) => objects.filter((o) => isKind(o, 'serving.knative.dev', 'Service'));

/** Every function directory has exactly one Knative Service whose FUNCTION_TARGET is its name, and every Service serves one. */
export function checkFunctionsDeployed(objects: K8sObject[], functionNames: readonly string[]): string[] {
  const problems: string[] = [];
  const services = knativeServices(objects);
  for (const name of functionNames) {
    const serving = services.filter((s) => functionTarget(s) === name);
    if (serving.length !== 1) problems.push(`function ${name}: ${serving.length} Knative Services have FUNCTION_TARGET=${name} (want exactly 1)`);
  }
  for (const s of services) {
    const target = functionTarget(s);
    if (target === undefined) problems.push(`Service ${s.metadata.name}: no FUNCTION_TARGET`);
    else if (!functionNames.includes(target)) problems.push(`Service ${s.metadata.name}: FUNCTION_TARGET=${target} is not a directory in functions/`);
  }
  return problems;
}

const serviceRef = (ref: Ref | undefined): ref is Ref & { name: string } =>
  !!ref && ref.kind === 'Service' && group(ref.apiVersion ?? '') === 'serving.knative.dev' && typeof ref.name === 'string';

/** Where events are delivered to Knative Services: Trigger subscribers, source sinks, the Broker's dead-letter sink. */
function deliveries(objects: K8sObject[]): { from: string; service: string; namespace: string }[] {
  const found: { from: string; service: string; namespace: string }[] = [];
  for (const o of objects) {
    const refs: Ref[] = [];
    if (isKind(o, 'eventing.knative.dev', 'Trigger')) refs.push(get(o, 'spec', 'subscriber', 'ref') as Ref);
    else if (isKind(o, 'eventing.knative.dev', 'Broker')) refs.push(get(o, 'spec', 'delivery', 'deadLetterSink', 'ref') as Ref);
    else if (group(o.apiVersion) === 'sources.knative.dev' && o.kind !== 'SinkBinding') refs.push(get(o, 'spec', 'sink', 'ref') as Ref);
    for (const ref of refs) {
      if (serviceRef(ref)) found.push({ from: `${o.kind} ${o.metadata.name}`, service: ref.name, namespace: ref.namespace ?? nsOf(o) });
    }
  }
  return found;
}

/** Every CloudEvent function's Service receives events from something: a Trigger, a source's sink, or the dead-letter sink. */
export function checkReachable(objects: K8sObject[], cloudEventFunctions: readonly string[]): string[] {
  const targets = new Map(knativeServices(objects).map((s) => [`${nsOf(s)}/${s.metadata.name}`, functionTarget(s)]));
  const reached = new Set(deliveries(objects).map((d) => targets.get(`${d.namespace}/${d.service}`)));
  return cloudEventFunctions.filter((f) => !reached.has(f)).map((f) => `function ${f}: no Trigger, source or dead-letter sink delivers to its Service`);
}

/** Every Trigger's subscriber (and every sink naming a Knative Service) names a Service that is rendered. */
export function checkSubscribersExist(objects: K8sObject[]): string[] {
  const services = new Set(knativeServices(objects).map((s) => `${nsOf(s)}/${s.metadata.name}`));
  const problems: string[] = [];
  for (const o of objects.filter((x) => isKind(x, 'eventing.knative.dev', 'Trigger'))) {
    const ref = get(o, 'spec', 'subscriber', 'ref') as Ref | undefined;
    if (!ref) problems.push(`Trigger ${o.metadata.name}: no subscriber.ref`);
    else if (!serviceRef(ref)) problems.push(`Trigger ${o.metadata.name}: subscriber is ${ref.kind ?? '?'} ${ref.name ?? '?'}, not a Knative Service`);
  }
  for (const d of deliveries(objects)) {
    if (!services.has(`${d.namespace}/${d.service}`)) problems.push(`${d.from}: delivers to Service ${d.service}, which does not exist`);
  }
  return problems;
}

/** The ServiceAccounts workloads run as (Services, ContainerSources, ApiServerSources) all exist. */
export function checkServiceAccountsExist(objects: K8sObject[]): string[] {
  const accounts = new Set(objects.filter((o) => o.apiVersion === 'v1' && o.kind === 'ServiceAccount').map((o) => `${nsOf(o)}/${o.metadata.name}`));
  const problems: string[] = [];
  for (const o of objects) {
    const name = podSpecOf(o)?.serviceAccountName ?? (isKind(o, 'sources.knative.dev', 'ApiServerSource') ? (get(o, 'spec', 'serviceAccountName') as string | undefined) : undefined);
    if (podSpecOf(o) && name === undefined) problems.push(`${o.kind} ${o.metadata.name}: no serviceAccountName (would run as default)`);
    if (name !== undefined && !accounts.has(`${nsOf(o)}/${name}`)) problems.push(`${o.kind} ${o.metadata.name}: ServiceAccount ${name} does not exist`);
  }
  return problems;
}

/** The rendered ConfigMaps' data, by `namespace/name`. */
const configMapData = (objects: K8sObject[]) =>
  new Map(objects.filter((o) => o.apiVersion === 'v1' && o.kind === 'ConfigMap').map((o) => [`${nsOf(o)}/${o.metadata.name}`, (o.data ?? {}) as Record<string, string>]));

/** Every configMapKeyRef in a workload names a key of a rendered ConfigMap (Secrets are made out of band, so not checked). */
export function checkConfigMapRefs(objects: K8sObject[]): string[] {
  const data = configMapData(objects);
  const problems: string[] = [];
  for (const o of objects) {
    for (const c of podSpecOf(o)?.containers ?? []) {
      for (const e of c.env ?? []) {
        const ref = get(e, 'valueFrom', 'configMapKeyRef') as { name?: string; key?: string; optional?: boolean } | undefined;
        if (!ref || ref.optional) continue;
        const cm = data.get(`${nsOf(o)}/${ref.name}`);
        if (!cm) problems.push(`${o.kind} ${o.metadata.name}: env ${e.name} refers to ConfigMap ${ref.name}, which is not rendered`);
        else if (!(String(ref.key) in cm)) problems.push(`${o.kind} ${o.metadata.name}: env ${e.name} refers to key ${ref.key} that ConfigMap ${ref.name} does not have`);
      }
    }
  }
  return problems;
}

/** A workload's environment as its container would see it, for checking against what its code reads. */
export interface WorkloadEnvironment {
  /** `Service gerrit-webhook`, `ContainerSource gerrit-stream`. */
  workload: string;
  /** The function (FUNCTION_TARGET) or, for a ContainerSource, its name. */
  program: string;
  /** Literals and ConfigMap values as rendered; a Secret's key and an injected sink as placeholders. */
  vars: Record<string, string>;
  /** The variables that name a file inside a mounted Secret volume: mounted files, not in the manifests. */
  mountedFiles: string[];
  /** The variables Knative injects (K_SINK from a SinkBinding or the ContainerSource's sink). */
  injected: string[];
}

/** A sink address as Knative resolves one; the checks need a well-formed URL, never this one. */
export const INJECTED_SINK = 'http://broker-ingress.knative-eventing.svc.cluster.local/seakeeper-system/ci';

export function workloadEnvironments(objects: K8sObject[]): WorkloadEnvironment[] {
  const configMaps = configMapData(objects);
  const bound = new Set(
    objects
      .filter((o) => isKind(o, 'sources.knative.dev', 'SinkBinding'))
      .map((o) => get(o, 'spec', 'subject') as Ref | undefined)
      .filter((ref) => ref?.kind === 'Service' && group(ref.apiVersion ?? '') === 'serving.knative.dev')
      .map((ref) => ref!.name),
  );
  const environments: WorkloadEnvironment[] = [];
  for (const o of objects) {
    const spec = podSpecOf(o);
    if (!spec) continue;
    const secretVolumes = new Set((spec.volumes ?? []).filter((v) => v.secret !== undefined).map((v) => v.name));
    for (const c of spec.containers ?? []) {
      const vars: Record<string, string> = {};
      for (const e of c.env ?? []) {
        const configMapKey = get(e, 'valueFrom', 'configMapKeyRef') as { name?: string; key?: string } | undefined;
        const secretKey = get(e, 'valueFrom', 'secretKeyRef') as { name?: string; key?: string } | undefined;
        if (e.value !== undefined) vars[e.name] = e.value;
        else if (configMapKey) {
          const value = configMaps.get(`${nsOf(o)}/${configMapKey.name}`)?.[String(configMapKey.key)];
          if (value !== undefined) vars[e.name] = String(value);
        } else if (secretKey) vars[e.name] = `secret-${secretKey.name}-${secretKey.key}-placeholder`;
        else vars[e.name] = 'placeholder';
      }
      const mounts = (c.volumeMounts ?? []).filter((m) => secretVolumes.has(m.name)).map((m) => m.mountPath.replace(/\/*$/, '/'));
      const mountedFiles = Object.keys(vars).filter((name) => mounts.some((dir) => vars[name]!.startsWith(dir)));
      const injected = isKind(o, 'sources.knative.dev', 'ContainerSource') || bound.has(o.metadata.name) ? ['K_SINK'] : [];
      for (const name of injected) vars[name] = INJECTED_SINK;
      environments.push({ workload: `${o.kind} ${o.metadata.name}`, program: functionTarget(o) ?? o.metadata.name, vars, mountedFiles, injected });
    }
  }
  return environments;
}

/** The container command each Knative Service sets, by FUNCTION_TARGET (none: the image's CMD). */
export function serviceCommands(objects: K8sObject[]): Record<string, string[] | undefined> {
  return Object.fromEntries(
    knativeServices(objects).map((o) => [functionTarget(o) ?? o.metadata.name, podSpecOf(o)?.containers?.[0]?.command]),
  );
}

const SECRET_ENV_NAME = /(PASSWORD|PASSWD|TOKEN|SECRET|CREDENTIALS?|API_KEY|PRIVATE_KEY)$/;

/** No Secret carries data in the manifests and no secret-looking environment variable has a literal value. */
export function checkNoInlinedSecrets(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  for (const o of objects) {
    if (o.apiVersion === 'v1' && o.kind === 'Secret' && (o.data !== undefined || o.stringData !== undefined)) {
      problems.push(`Secret ${o.metadata.name}: values inlined in the manifests (reference a Secret created out of band)`);
    }
    for (const c of podSpecOf(o)?.containers ?? []) {
      for (const e of c.env ?? []) {
        if (e.value !== undefined && SECRET_ENV_NAME.test(e.name)) problems.push(`${o.kind} ${o.metadata.name}: env ${e.name} has a literal value (use secretKeyRef or a mounted file)`);
      }
    }
  }
  return problems;
}

// ---- RBAC: what each account's code needs against what its bindings grant ----

export interface RbacNeed {
  apiGroup: string;
  resource: string;
  verbs: string[];
  resourceNames?: string[];
  /** Absent: cluster-wide. */
  namespace?: string;
}

export type RbacNeeds = Record<string, RbacNeed[]>;

/** Reads knative/rbac-needs.yaml (`serviceAccounts: {name: [need…]}`; YAML aliases may nest lists, which are flattened). */
export function parseRbacNeeds(text: string): RbacNeeds {
  const doc = parseAllDocuments(text)[0]?.toJS() as { serviceAccounts?: Record<string, unknown[]> } | undefined;
  const accounts = doc?.serviceAccounts;
  if (!accounts || typeof accounts !== 'object') throw new Error('rbac needs: no serviceAccounts map');
  const needs: RbacNeeds = {};
  for (const [account, list] of Object.entries(accounts)) {
    needs[account] = ((list ?? []) as unknown[]).flat(Infinity) as RbacNeed[];
    for (const n of needs[account]!) {
      if (typeof n.apiGroup !== 'string' || typeof n.resource !== 'string' || !Array.isArray(n.verbs)) {
        throw new Error(`rbac needs: ${account}: entry ${JSON.stringify(n)} needs apiGroup, resource and verbs`);
      }
    }
  }
  return needs;
}

/** One permission: `account scope apiGroup/resource verb [name]`, scope `cluster` or `ns:<namespace>`. */
const atom = (account: string, scope: string, apiGroup: string, resource: string, verb: string, name?: string) =>
  `${account} ${scope} ${apiGroup || 'core'}/${resource} ${verb}${name ? ` [${name}]` : ''}`;

function needAtoms(needs: RbacNeeds): Set<string> {
  const atoms = new Set<string>();
  for (const [account, list] of Object.entries(needs)) {
    for (const n of list) {
      const scope = n.namespace ? `ns:${n.namespace}` : 'cluster';
      for (const verb of n.verbs) {
        for (const name of n.resourceNames?.length ? n.resourceNames : [undefined]) atoms.add(atom(account, scope, n.apiGroup, n.resource, verb, name));
      }
    }
  }
  return atoms;
}

type Rule = { apiGroups?: string[]; resources?: string[]; verbs?: string[]; resourceNames?: string[] };
type Subject = { kind: string; name: string; namespace?: string };

/** What the rendered Roles and ClusterRoles grant each ServiceAccount of the namespace through their bindings. */
export function grantedAtoms(objects: K8sObject[], namespace = SYSTEM_NAMESPACE): { atoms: Set<string>; problems: string[] } {
  const rbac = (kind: string) => objects.filter((o) => isKind(o, 'rbac.authorization.k8s.io', kind));
  const clusterRoles = new Map(rbac('ClusterRole').map((r) => [r.metadata.name, r]));
  const roles = new Map(rbac('Role').map((r) => [`${nsOf(r)}/${r.metadata.name}`, r]));
  const atoms = new Set<string>();
  const problems: string[] = [];
  for (const binding of [...rbac('ClusterRoleBinding'), ...rbac('RoleBinding')]) {
    const clusterWide = binding.kind === 'ClusterRoleBinding';
    const roleRef = binding.roleRef as { kind: string; name: string };
    const role = roleRef.kind === 'ClusterRole' ? clusterRoles.get(roleRef.name) : roles.get(`${nsOf(binding)}/${roleRef.name}`);
    const accounts = ((binding.subjects ?? []) as Subject[])
      .filter((s) => s.kind === 'ServiceAccount' && (s.namespace ?? nsOf(binding)) === namespace)
      .map((s) => s.name);
    if (accounts.length === 0) continue;
    if (!role) {
      problems.push(`${binding.kind} ${binding.metadata.name}: ${roleRef.kind} ${roleRef.name} does not exist`);
      continue;
    }
    const scope = clusterWide ? 'cluster' : `ns:${nsOf(binding)}`;
    for (const rule of (role.rules ?? []) as Rule[]) {
      for (const account of accounts)
        for (const g of rule.apiGroups ?? [])
          for (const resource of rule.resources ?? [])
            for (const verb of rule.verbs ?? [])
              for (const name of rule.resourceNames?.length ? rule.resourceNames : [undefined]) atoms.add(atom(account, scope, g, resource, verb, name));
    }
  }
  return { atoms, problems };
}

/**
 * Gaps (needed, not granted) and orphans (granted, not needed), compared exactly: a wider grant than the need
 * (cluster-wide for a namespace, a wildcard, no resourceNames for a named object) is an orphan, and the need it
 * was meant for a gap. Also: every account in the needs exists, and no account bound to something is undeclared.
 */
export function checkRbac(objects: K8sObject[], needs: RbacNeeds, namespace = SYSTEM_NAMESPACE): string[] {
  const wanted = needAtoms(needs);
  const { atoms: granted, problems } = grantedAtoms(objects, namespace);
  const accounts = new Set(objects.filter((o) => o.apiVersion === 'v1' && o.kind === 'ServiceAccount' && nsOf(o) === namespace).map((o) => o.metadata.name));
  for (const account of Object.keys(needs)) if (!accounts.has(account)) problems.push(`rbac needs: ServiceAccount ${account} is not rendered`);
  for (const a of wanted) if (!granted.has(a)) problems.push(`gap: ${a} is needed but not granted`);
  for (const a of granted) if (!wanted.has(a)) problems.push(`orphan: ${a} is granted but not declared in the needs`);
  return problems;
}

/** A ServiceAccount that is declared to need nothing should not have a token mounted. */
export function checkNoTokenWithoutNeeds(objects: K8sObject[], needs: RbacNeeds, namespace = SYSTEM_NAMESPACE): string[] {
  return objects
    .filter((o) => o.apiVersion === 'v1' && o.kind === 'ServiceAccount' && nsOf(o) === namespace)
    .filter((o) => needs[o.metadata.name]?.length === 0 && o.automountServiceAccountToken !== false)
    .map((o) => `ServiceAccount ${o.metadata.name}: needs no Kubernetes access but mounts a token (set automountServiceAccountToken: false)`);
}

/** Every check above at once, for the base and each overlay. */
export function checkAll(objects: K8sObject[], functionNames: readonly string[], cloudEventFunctions: readonly string[], needs: RbacNeeds): string[] {
  return [
    ...checkFunctionsDeployed(objects, functionNames),
    ...checkReachable(objects, cloudEventFunctions),
    ...checkSubscribersExist(objects),
    ...checkServiceAccountsExist(objects),
    ...checkNoInlinedSecrets(objects),
    ...checkConfigMapRefs(objects),
    ...checkRbac(objects, needs),
    ...checkNoTokenWithoutNeeds(objects, needs),
  ];
}
