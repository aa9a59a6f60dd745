// Plain Kubernetes objects as the provisioning core builds and compares them: no client library types, so
// the core stays free of I/O; structurally they are what shared/k8s's ClusterApi takes and returns.

export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

/** One entry of `metadata.managedFields`, as the API server returns it. */
export interface ManagedFieldsEntry {
  manager?: string;
  operation?: string;
  apiVersion?: string;
  fieldsType?: string;
  fieldsV1?: unknown;
  subresource?: string;
}

/** An object as read from the cluster: the server adds uid, resourceVersion, managedFields, status, defaults. */
export interface LiveObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta & {
    uid?: string;
    resourceVersion?: string;
    deletionTimestamp?: string;
    managedFields?: ManagedFieldsEntry[];
    [field: string]: unknown;
  };
  [field: string]: unknown;
}

export interface ObjectRef {
  apiVersion: string;
  kind: string;
  /** Undefined for cluster-scoped kinds. */
  namespace?: string | undefined;
  name: string;
}

export function refOf(obj: { apiVersion: string; kind: string; metadata: { name: string; namespace?: string | undefined } }): ObjectRef {
  return {
    apiVersion: obj.apiVersion,
    kind: obj.kind,
    ...(obj.metadata.namespace ? { namespace: obj.metadata.namespace } : {}),
    name: obj.metadata.name,
  };
}

/** Identity regardless of API version (`rbac.authorization.k8s.io/v1` and `/v1beta1` name the same object). */
export function objectKey(ref: ObjectRef): string {
  const slash = ref.apiVersion.lastIndexOf('/');
  const group = slash < 0 ? '' : ref.apiVersion.slice(0, slash);
  return `${group}|${ref.kind}|${ref.namespace ?? ''}|${ref.name}`;
}

export function describeRef(ref: ObjectRef): string {
  return `${ref.kind} ${ref.namespace ? `${ref.namespace}/` : ''}${ref.name}`;
}
