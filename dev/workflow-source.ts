// STAND-IN for the Knative ApiServerSource "workflows" in `make dev`: watches Seakeeper's Workflows (the label the
// production source selects on) and sends what the source would in Reference mode — the Workflow's reference
// as a `dev.knative.apiserver.ref.add|update` CloudEvent — to the Broker stand-in. The watch restarts when the
// API server ends it.
import { CloudEvent, HTTP } from 'cloudevents';
import type { ClusterApi, ClusterObject, WatchEventType } from '../shared/k8s/cluster.js';

const SELECTOR = 'seakeeper.dev/pipeline';
const TYPES: Partial<Record<WatchEventType, string>> = { ADDED: 'dev.knative.apiserver.ref.add', MODIFIED: 'dev.knative.apiserver.ref.update' };

export function referenceEvent(type: WatchEventType, workflow: ClusterObject, source: string): CloudEvent<unknown> | undefined {
  const ceType = TYPES[type];
  const { name, namespace, resourceVersion } = workflow.metadata;
  if (!ceType || !namespace) return undefined;
  return new CloudEvent({
    id: `${namespace}/${name}/${resourceVersion ?? ''}`,
    source,
    type: ceType,
    subject: `/apis/argoproj.io/v1alpha1/namespaces/${namespace}/workflows/${name}`,
    datacontenttype: 'application/json',
    data: { apiVersion: workflow.apiVersion, kind: workflow.kind, name, namespace },
  });
}

export function watchWorkflows(cluster: ClusterApi, sink: string, source: string, log: (line: string) => void): () => void {
  let stopped = false;
  let stop: (() => void) | undefined;
  const start = async (): Promise<void> => {
    if (stopped) return;
    try {
      stop = await cluster.watch<ClusterObject>('/apis/argoproj.io/v1alpha1/workflows', SELECTOR, (type, workflow) => {
        const event = referenceEvent(type, workflow, source);
        if (!event) return;
        const message = HTTP.binary(event);
        fetch(sink, { method: 'POST', headers: message.headers as Record<string, string>, body: message.body as string }).catch((err) =>
          log(`could not send ${event.type} for ${event.subject}: ${String(err)}`),
        );
      }, () => void setTimeout(start, 1000));
    } catch (err) {
      log(`watch failed (${String(err)}); retrying`);
      setTimeout(start, 2000);
    }
  };
  void start();
  return () => {
    stopped = true;
    stop?.();
  };
}
