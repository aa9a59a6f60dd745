// workflow-watch, the shell: the target of an ApiServerSource (Reference mode) on Seakeeper's Workflows. Each
// event only names a Workflow; it is read, and once it has finished, one `workflow.completed` goes to K_SINK
// (the Broker): decide (shouldEmitCompleted) → claim COMPLETED_EVENT_MARKER (CAS) → send → mark done. If the
// sink refuses, the claim is given back and the event is retried. The event's id is deterministic (uid +
// phase), so a second emission after a lost marker is recognised downstream.
import { httpUrl, integer, loadEnv, withDefault, type Env } from '../env.js';
import { loadAll } from '../config/policy-env.js';
import { PermanentError } from '../errors.js';
import type { InboundEvent, LogFields } from '../events/handler.js';
import { DEFAULT_SINK_TIMEOUT_MS, HttpSink, type CloudEventSink } from '../events/sink.js';
import { httpClusterFromEnv } from '../k8s/http-cluster.js';
import { log as processLog, type Logger } from '../log.js';
import type { LiveWorkflow } from '../runs/workflow.js';
import { readWorkflow, workflowObject, type WorkflowCluster } from '../runs/workflow-store.js';
import { claimMarker, markDone, releaseClaim } from './claims.js';
import { shouldEmitCompleted, workflowCompletedEvent, workflowRefOf } from './completed-event.js';
import { COMPLETED_EVENT_MARKER } from './markers.js';

/** What an ApiServerSource in Reference mode sends. A deletion has nothing left to report. */
export const APISERVER_REF_TYPES = ['dev.knative.apiserver.ref.add', 'dev.knative.apiserver.ref.update'] as const;
export const APISERVER_REF_DELETE = 'dev.knative.apiserver.ref.delete';
/** The source of workflow.completed when CLUSTER_URL is not set: the API server as seen from inside the cluster. */
export const DEFAULT_CLUSTER_URL = 'https://kubernetes.default.svc/';

export const watcherEnv = {
  /** Injected by Knative (SinkBinding / the Service's sink): the Broker's ingress. */
  K_SINK: httpUrl(),
  SINK_TIMEOUT_MS: withDefault(integer({ min: 100, max: 60_000 }), DEFAULT_SINK_TIMEOUT_MS),
  /** The cluster's URL: the `source` of workflow.completed. */
  CLUSTER_URL: withDefault(httpUrl(), DEFAULT_CLUSTER_URL),
};

export interface WatcherDeps {
  readonly cluster: WorkflowCluster;
  readonly sink: CloudEventSink;
  /** CLUSTER_URL. */
  readonly source: string;
  readonly now?: () => Date;
  readonly logger?: Logger;
}

export class CompletionWatcher {
  constructor(readonly deps: WatcherDeps) {}

  /** KUBECONFIG (else the pod's ServiceAccount), KUBERNETES_TIMEOUT_MS, K_SINK, SINK_TIMEOUT_MS, CLUSTER_URL. */
  static fromEnv(env: Env = process.env): CompletionWatcher {
    const [config, cluster] = loadAll(
      () => loadEnv(watcherEnv, env),
      () => httpClusterFromEnv(env),
    );
    return new CompletionWatcher({ cluster, sink: new HttpSink(config.K_SINK, { timeoutMs: config.SINK_TIMEOUT_MS }), source: config.CLUSTER_URL });
  }

  async handle(event: InboundEvent): Promise<LogFields> {
    if (event.type === APISERVER_REF_DELETE) return { result: 'deleted' };
    if (!(APISERVER_REF_TYPES as readonly string[]).includes(event.type)) throw new PermanentError(`workflow-watch does not take ${event.type} events`);
    const ref = workflowRefOf(event.data);
    if (!ref) throw new PermanentError('event data is not a reference to an argoproj.io/v1alpha1 Workflow');
    const { cluster, sink, source } = this.deps;
    const now = this.deps.now ?? (() => new Date());
    const workflow = `${ref.namespace}/${ref.name}`;

    const read = await readWorkflow(cluster, ref);
    if (!read) return { result: 'gone', workflow };
    const claim = await claimMarker(cluster, workflowObject(ref), read, COMPLETED_EVENT_MARKER, (current: LiveWorkflow) => {
      const decision = shouldEmitCompleted(current, now());
      return decision.emit ? { act: true, phase: String(current.status?.phase), value: undefined } : { act: false, reason: decision.reason };
    }, now);
    if (!claim.claimed) return { result: claim.reason, workflow };

    const completed = workflowCompletedEvent(claim.object, { source });
    if (!completed) throw new Error(`${workflow}: shouldEmitCompleted said emit, but there is no event to emit`);
    try {
      await sink.send(completed);
    } catch (err) {
      await releaseClaim(cluster, workflowObject(ref), claim.object, COMPLETED_EVENT_MARKER, claim.token, this.#logger);
      throw err;
    }
    const fields = { result: 'emitted', workflow, phase: claim.phase, emitted: completed.id };
    try {
      await markDone(cluster, workflowObject(ref), claim.object, COMPLETED_EVENT_MARKER, claim.phase);
    } catch (err) {
      // Emitted: a retry would find the claim and do nothing. Once the claim expires a later update emits the
      // same event id again, which workflow-completed recognises by its own marker.
      this.#logger.warn({ fn: 'workflow-watch', workflow, err }, 'emitted, but the done marker was not recorded');
      return { ...fields, marker: 'not-recorded' };
    }
    return fields;
  }

  get #logger(): Logger {
    return this.deps.logger ?? processLog;
  }
}
