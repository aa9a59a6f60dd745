// Where gerrit-stream keeps what survives a restart: the checkpoint (newest eventCreatedOn forwarded, held back
// while a recovery is open) and the ForwardedLog snapshot that lets the next recovery skip what was already
// sent. Both live in one ConfigMap, so they are written together; every write is a compare-and-swap on the
// resourceVersion last read. gerrit-stream runs as one replica: a conflict means our own view is stale (a
// write that timed out but landed), so the store re-reads the version and writes again.
import { ConflictError, NotFoundError, TransientError } from '../errors.js';
import type { ClusterApi, ClusterObject } from '../k8s/cluster.js';
import type { ForwardedLogSnapshot } from './gap-recovery.js';

export const DEFAULT_CHECKPOINT_NAME = 'gerrit-stream-checkpoint';
const CHECKPOINT_KEY = 'checkpoint';
const FORWARDED_KEY = 'forwarded';
const MAX_CONFLICT_RETRIES = 3;

export interface StoredCheckpoint {
  /** Seconds, Gerrit's clock; undefined before anything was forwarded. */
  checkpoint: number | undefined;
  /** A ForwardedLogSnapshot as stored; ForwardedLog.restore() checks it. */
  forwarded: unknown;
  /** What in the stored state could not be used (it counts as absent). */
  problems?: string[];
}

export interface CheckpointStore {
  load(): Promise<StoredCheckpoint>;
  save(checkpoint: number, forwarded: ForwardedLogSnapshot): Promise<void>;
}

export type ConfigMap = ClusterObject & { data?: Record<string, string> };

/** The ConfigMap that holds `checkpoint` and `forwarded`. */
export function checkpointConfigMap(namespace: string, name: string, checkpoint: number, forwarded: ForwardedLogSnapshot): ConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name,
      namespace,
      labels: { 'app.kubernetes.io/name': 'gerrit-stream', 'app.kubernetes.io/managed-by': 'seakeeper' },
    },
    data: { [CHECKPOINT_KEY]: String(checkpoint), [FORWARDED_KEY]: JSON.stringify(forwarded) },
  };
}

/** What a stored ConfigMap says; a value that does not parse counts as absent, never as a reason to stop. */
export function readCheckpointConfigMap(configMap: ConfigMap | undefined): StoredCheckpoint {
  const problems: string[] = [];
  const data = configMap?.data ?? {};
  let checkpoint: number | undefined;
  const text = data[CHECKPOINT_KEY];
  if (text !== undefined) {
    if (/^\d{1,12}$/.test(text)) checkpoint = Number(text);
    else problems.push(`${CHECKPOINT_KEY} is not a number of seconds`);
  }
  let forwarded: unknown;
  const log = data[FORWARDED_KEY];
  if (log !== undefined) {
    try {
      forwarded = JSON.parse(log);
    } catch {
      problems.push(`${FORWARDED_KEY} is not JSON`);
    }
  }
  return { checkpoint, forwarded, problems };
}

export class ConfigMapCheckpointStore implements CheckpointStore {
  readonly namespace: string;
  readonly name: string;
  readonly #cluster: Pick<ClusterApi, 'get' | 'create' | 'patch'>;
  /** The version last read or written; undefined: the ConfigMap does not exist (yet). */
  #resourceVersion: string | undefined;

  constructor(cluster: Pick<ClusterApi, 'get' | 'create' | 'patch'>, namespace: string, name = DEFAULT_CHECKPOINT_NAME) {
    this.#cluster = cluster;
    this.namespace = namespace;
    this.name = name;
  }

  async load(): Promise<StoredCheckpoint> {
    const configMap = await this.#cluster.get<ConfigMap>('v1', 'ConfigMap', this.namespace, this.name);
    this.#resourceVersion = configMap?.metadata.resourceVersion;
    return readCheckpointConfigMap(configMap);
  }

  async save(checkpoint: number, forwarded: ForwardedLogSnapshot): Promise<void> {
    const desired = checkpointConfigMap(this.namespace, this.name, checkpoint, forwarded);
    for (let attempt = 0; attempt <= MAX_CONFLICT_RETRIES; attempt++) {
      try {
        if (this.#resourceVersion === undefined) {
          const result = await this.#cluster.create(desired);
          // Someone created it first: take its version and patch it.
          if (!result.created) throw new ConflictError(`ConfigMap ${this.namespace}/${this.name} already exists`);
          this.#resourceVersion = result.object.metadata.resourceVersion;
        } else {
          const written = await this.#cluster.patch(desired, this.#resourceVersion);
          this.#resourceVersion = written.metadata.resourceVersion;
        }
        return;
      } catch (err) {
        if (err instanceof NotFoundError) {
          // Deleted under us: create it again.
          this.#resourceVersion = undefined;
          continue;
        }
        if (!(err instanceof ConflictError)) throw err;
        const current = await this.#cluster.get<ConfigMap>('v1', 'ConfigMap', this.namespace, this.name);
        this.#resourceVersion = current?.metadata.resourceVersion;
      }
    }
    throw new TransientError(`ConfigMap ${this.namespace}/${this.name}: still conflicting after ${MAX_CONFLICT_RETRIES} re-reads`);
  }
}
