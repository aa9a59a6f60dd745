// A gate queue's state, kept as the status of its ChangeQueue object (config/crds/changequeues.yaml) in the
// system namespace: the only place the queue is kept (docs/architecture.md, "State"). Every change goes
// through `update`: read the object, decide on its status (change-queue.ts), and write the next status by
// compare-and-swap at the resourceVersion read. Several deliveries decide on one queue at once (twin
// deliveries, approvals of different changes, runs finishing); the one whose write conflicts reads again
// and decides again on what the winner stored, so each event is decided on a state that holds every event
// stored before it. A decision that leaves the state as it was writes nothing.
//
// The actions of a decision are carried out after it is stored, by the caller; actionsOf makes them
// derivable from the stored state alone, so a crash in between is repaired by any later decision.
import { isDeepStrictEqual } from 'node:util';
import { AlreadyExistsError, ConflictError, NotFoundError, PermanentError, TransientError } from '../errors.js';
import { backoffDelay, type BackoffPolicy } from '../events/backoff.js';
import type { ClusterApi, ClusterObject } from '../k8s/api.js';
import { COMPONENT_LABEL, MANAGED_BY_LABEL, MANAGED_BY_VALUE, readableLabel } from '../names.js';
import { CHANGE_QUEUE_API_VERSION, CHANGE_QUEUE_KIND, decide, emptyQueue, type QueueConfig, type QueueDecision, type QueueEvent, type QueueState } from './change-queue.js';

/** Reads and writes of one queue before giving up (the event is retried by Knative then). */
export const QUEUE_UPDATE_ATTEMPTS = 16;
/** Waits between attempts: full jitter, small, since the contenders are a few deliveries of one queue. */
export const QUEUE_CONFLICT_BACKOFF: BackoffPolicy = { baseMs: 10, capMs: 200 };
export const CHANGE_QUEUE_COMPONENT = 'change-queue';

export interface ChangeQueueObject extends ClusterObject {
  spec: { pipeline: string; queue: string };
  /** Absent until the first decision that changed anything is stored. */
  status?: QueueState;
}

export type QueueCluster = Pick<ClusterApi, 'get' | 'create' | 'replaceStatus'>;

export interface QueueUpdate {
  /** As decided on the state that is now stored; its actions are the caller's to carry out. */
  readonly decision: QueueDecision;
  /** Writes (or creates) that met another's first and were decided again. */
  readonly retries: number;
  /** False when the decision left the state as it was, and nothing was written. */
  readonly written: boolean;
  /** The object as it now stands (absent when there is none): a later update of the same caller may start from it. */
  readonly stored?: ChangeQueueObject;
}

export interface QueueStoreOptions {
  readonly attempts?: number;
  readonly backoff?: BackoffPolicy;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
  /** The time of each decision: when items left, when approvals were refused (the status page shows both). */
  readonly now?: () => Date;
}

/**
 * The ChangeQueue of a pipeline's queue: `<pipeline>-<queue>` when the queue's name is a tidy DNS label that
 * fits, otherwise `<pipeline>-<folded queue>--<hash>` (shared/names.ts, readableLabel): a DNS label of at most
 * 63 characters, distinct for distinct queues of a pipeline. Two pipelines whose names differ by a tail
 * (`gate` and `gate-a`) could meet in the readable form; the store refuses an object whose spec names
 * another queue rather than share it.
 */
export function queueObjectName(pipeline: string, queue: string): string {
  return readableLabel(pipeline, queue);
}

/** The ChangeQueue as created: spec only, the status comes with the first write. */
export function changeQueueObject(namespace: string, config: QueueConfig): ChangeQueueObject {
  return {
    apiVersion: CHANGE_QUEUE_API_VERSION,
    kind: CHANGE_QUEUE_KIND,
    metadata: {
      name: queueObjectName(config.pipeline, config.queue),
      namespace,
      labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [COMPONENT_LABEL]: CHANGE_QUEUE_COMPONENT },
    },
    spec: { pipeline: config.pipeline, queue: config.queue },
  };
}

const sleepFor = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class ChangeQueueStore {
  readonly #cluster: QueueCluster;
  readonly #namespace: string;
  readonly #attempts: number;
  readonly #backoff: BackoffPolicy;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #random: () => number;
  readonly #now: () => Date;

  constructor(cluster: QueueCluster, namespace: string, options: QueueStoreOptions = {}) {
    this.#cluster = cluster;
    this.#namespace = namespace;
    this.#attempts = options.attempts ?? QUEUE_UPDATE_ATTEMPTS;
    this.#backoff = options.backoff ?? QUEUE_CONFLICT_BACKOFF;
    this.#sleep = options.sleep ?? sleepFor;
    this.#random = options.random ?? Math.random;
    this.#now = options.now ?? (() => new Date());
  }

  /** The queue's state as stored; an empty queue when there is no object (nothing is created). */
  async read(config: QueueConfig): Promise<QueueState> {
    return (await this.#get(config))?.status ?? emptyQueue(config);
  }

  /**
   * Decides `event` on the stored state and stores the next one by compare-and-swap; on a conflict reads
   * again and decides again, up to the attempts, then a TransientError. The object is created on the first
   * decision that changes anything. `from`, the object as the caller's previous update left it, saves the
   * first read; when it is out of date the write conflicts and the queue is read again at once.
   */
  async update(config: QueueConfig, event: QueueEvent, from?: ChangeQueueObject): Promise<QueueUpdate> {
    let retries = 0;
    for (let attempt = 1; ; attempt++) {
      const assumed = attempt === 1 && from !== undefined;
      const stored = assumed ? from : await this.#get(config);
      const state = stored?.status ?? emptyQueue(config);
      const decision = decide(state, event, config, this.#now().toISOString());
      if (isDeepStrictEqual(decision.state, state)) {
        // Nothing to write on what the caller assumed: only the stored state may say so.
        if (assumed) continue;
        return { decision, retries, written: false, ...(stored ? { stored } : {}) };
      }
      try {
        const object = stored ?? (await this.#create(config));
        const written = await this.#cluster.replaceStatus<ChangeQueueObject>({ ...object, status: decision.state });
        return { decision, retries, written: true, stored: written };
      } catch (err) {
        // Another write came first (a conflict, a create of the same object), or the object went: read again.
        if (!(err instanceof ConflictError || err instanceof NotFoundError)) throw err;
        retries += 1;
        if (attempt >= this.#attempts) {
          throw new TransientError(`${this.#describe(config)}: another write came first each of ${attempt} times; the event is to be retried`, { cause: err });
        }
      }
      // An object the caller assumed was only out of date: no one to make room for.
      if (!assumed) await this.#sleep(backoffDelay(attempt - 1, this.#backoff, this.#random));
    }
  }

  async #get(config: QueueConfig): Promise<ChangeQueueObject | undefined> {
    const name = queueObjectName(config.pipeline, config.queue);
    const object = await this.#cluster.get<ChangeQueueObject>(CHANGE_QUEUE_API_VERSION, CHANGE_QUEUE_KIND, this.#namespace, name);
    if (object && (object.spec?.pipeline !== config.pipeline || object.spec.queue !== config.queue)) {
      throw new PermanentError(
        `${this.#describe(config)}: the object holds queue ${JSON.stringify(object.spec?.queue)} of pipeline ${JSON.stringify(object.spec?.pipeline)}; rename one of the two queues`,
      );
    }
    return object;
  }

  /** Creates the object; one created by someone else since it was read is a conflict (read again). */
  async #create(config: QueueConfig): Promise<ChangeQueueObject> {
    const result = await this.#cluster.create(changeQueueObject(this.#namespace, config));
    if (!result.created) throw new AlreadyExistsError(`${this.#describe(config)} was created by another delivery`, { status: 409, reason: 'AlreadyExists' });
    return result.object;
  }

  #describe(config: QueueConfig): string {
    return `ChangeQueue ${this.#namespace}/${queueObjectName(config.pipeline, config.queue)} (${config.pipeline} queue ${JSON.stringify(config.queue)})`;
  }
}
