// gerrit-stream's parts, made from its environment: the checkpointed adapter and the sink it forwards to.
// Nothing connects yet; main.ts starts it. The checkpoint is read and written with HttpCluster, made like every
// function's (KUBERNETES_TIMEOUT_MS, KUBECONFIG problems named): a long-running pod need not hold
// @kubernetes/client-node (bench/README.md, "The two cluster clients").
import { GerritClient } from '../../shared/gerrit/client.js';
import type { Env } from '../../shared/env.js';
import { httpClusterFromEnv } from '../../shared/k8s/http-cluster.js';
import { log } from '../../shared/log.js';
import { ConfigMapCheckpointStore } from '../../shared/events/checkpoint-store.js';
import { HttpSink } from '../../shared/events/sink.js';
import { sshStreamEvents } from '../../shared/events/ssh-stream.js';
import { GerritStreamAdapter } from '../../shared/events/stream-adapter.js';
import { loadStreamConfig } from '../../shared/events/stream-config.js';

export function gerritStreamFromEnv(env: Env = process.env): { adapter: GerritStreamAdapter; sink: HttpSink } {
  const config = loadStreamConfig(env);
  const sink = new HttpSink(config.K_SINK, { timeoutMs: config.SINK_TIMEOUT_MS });
  const adapter = new GerritStreamAdapter({
    openStream: sshStreamEvents({
      host: config.GERRIT_SSH_HOST,
      port: config.GERRIT_SSH_PORT,
      username: config.GERRIT_USER,
      privateKey: config.GERRIT_SSH_KEY,
      ...(config.GERRIT_SSH_HOST_KEY ? { hostKeyFingerprint: config.GERRIT_SSH_HOST_KEY } : {}),
      logger: log,
    }),
    sink,
    gerrit: new GerritClient({
      baseUrl: config.GERRIT_URL,
      username: config.GERRIT_USER,
      password: config.GERRIT_PASSWORD,
      timeoutMs: config.GERRIT_TIMEOUT_MS,
    }),
    store: new ConfigMapCheckpointStore(httpClusterFromEnv(env), config.SEAKEEPER_NAMESPACE, config.GERRIT_STREAM_CHECKPOINT),
    // Also checks, by building one CloudEvent, that it is a source the CloudEvents SDK accepts.
    source: config.GERRIT_URL,
    logger: log,
  });
  return { adapter, sink };
}
