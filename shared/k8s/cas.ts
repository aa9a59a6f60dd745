// Compare-and-swap on any object: a JSON merge patch at the resourceVersion the change was decided on
// (ClusterApi.patch). On a conflict the object is read again and the decision taken again on what is there now,
// a few times; then the ConflictError goes up (transient: Knative redelivers the event). The claim/done markers
// (reporting/claims.ts) and stopping superseded runs are built on it.
import { ConflictError, NotFoundError } from '../errors.js';
import type { ClusterApi, ClusterObject } from './cluster.js';

export const CAS_ATTEMPTS = 5;

/** Which object: its type and its name. */
export interface ObjectRef {
  readonly apiVersion: string;
  readonly kind: string;
  /** Undefined for cluster-scoped kinds. */
  readonly namespace?: string | undefined;
  readonly name: string;
}

/** What a compare-and-swap needs of an object as read. */
export interface VersionedObject {
  metadata: { name: string; namespace?: string; resourceVersion?: string; annotations?: Record<string, string> };
}

/** The object, or undefined when there is none of that name. */
export async function readObject<T extends VersionedObject>(cluster: Pick<ClusterApi, 'get'>, ref: ObjectRef): Promise<T | undefined> {
  return (await cluster.get<ClusterObject>(ref.apiVersion, ref.kind, ref.namespace, ref.name)) as unknown as T | undefined;
}

/** A merge patch of the object, applied only if it is still at `resourceVersion`. */
export async function patchObject<T extends VersionedObject>(cluster: Pick<ClusterApi, 'patch'>, ref: ObjectRef, patch: object, resourceVersion: string): Promise<T> {
  const body = patch as { metadata?: object };
  const obj = {
    ...body,
    apiVersion: ref.apiVersion,
    kind: ref.kind,
    metadata: { ...(body.metadata ?? {}), name: ref.name, ...(ref.namespace !== undefined ? { namespace: ref.namespace } : {}) },
  } as unknown as ClusterObject;
  return (await cluster.patch(obj, resourceVersion)) as unknown as T;
}

/** What to do with the object as it is now: patch it (and report `result`), or leave it for `skip`'s reason. */
export type CasStep<R> = { readonly patch: object; readonly result: R } | { readonly skip: string };

export type CasOutcome<T, R> =
  | { readonly done: true; readonly object: T; readonly result: R }
  /** `gone`: the object does not exist (any more); otherwise the reason compute gave. */
  | { readonly done: false; readonly reason: string };

/**
 * Compare-and-swap: `compute` decides on the object as read (`current`, or read now), the patch goes at that
 * resourceVersion; on a conflict the object is read again and `compute` decides again.
 */
export async function casPatch<T extends VersionedObject, R>(
  cluster: Pick<ClusterApi, 'get' | 'patch'>,
  ref: ObjectRef,
  current: T | undefined,
  compute: (object: T) => CasStep<R>,
  attempts = CAS_ATTEMPTS,
): Promise<CasOutcome<T, R>> {
  let object = current ?? (await readObject<T>(cluster, ref));
  for (let attempt = 1; ; attempt++) {
    if (!object) return { done: false, reason: 'gone' };
    const step = compute(object);
    if ('skip' in step) return { done: false, reason: step.skip };
    const resourceVersion = object.metadata.resourceVersion;
    try {
      if (resourceVersion === undefined) throw new ConflictError(`${ref.kind} ${ref.namespace ?? ''}/${ref.name} was read without a resourceVersion`);
      return { done: true, object: await patchObject<T>(cluster, ref, step.patch, resourceVersion), result: step.result };
    } catch (err) {
      if (err instanceof NotFoundError) return { done: false, reason: 'gone' };
      if (!(err instanceof ConflictError) || attempt >= attempts) throw err;
    }
    object = await readObject<T>(cluster, ref);
  }
}
