// gerrit-stream: reads `gerrit stream-events` over SSH and forwards every event to K_SINK as CloudEvents,
// filling gaps from Gerrit's REST API (shared/events/stream-adapter.ts). A long-running process, not a
// function: Knative runs it as a ContainerSource (`node dist/sources/gerrit-stream/main.js`), which injects
// K_SINK. SIGTERM stops reading, forwards what is queued (bounded) and writes the checkpoint.
import { GerritClient } from '../../shared/gerrit/client.js';
import { ClusterClient } from '../../shared/k8s/cluster.js';
import { log } from '../../shared/log.js';
import { ConfigMapCheckpointStore } from '../../shared/events/checkpoint-store.js';
import { HttpSink } from '../../shared/events/sink.js';
import { sshStreamEvents } from '../../shared/events/ssh-stream.js';
import { GerritStreamAdapter } from '../../shared/events/stream-adapter.js';
import { loadStreamConfig } from '../../shared/events/stream-config.js';

function fail(what: string, err: unknown): never {
  log.fatal({ fn: 'gerrit-stream', err: err instanceof Error ? err.message : String(err) }, what);
  process.exit(1);
}

let sink: HttpSink;
let adapter: GerritStreamAdapter;
try {
  const config = loadStreamConfig(process.env);
  sink = new HttpSink(config.K_SINK, { timeoutMs: config.SINK_TIMEOUT_MS });
  adapter = new GerritStreamAdapter({
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
    store: new ConfigMapCheckpointStore(ClusterClient.fromEnv(process.env), config.SEAKEEPER_NAMESPACE, config.GERRIT_STREAM_CHECKPOINT),
    // Also checks, by building one CloudEvent, that it is a source the CloudEvents SDK accepts.
    source: config.GERRIT_URL,
    logger: log,
  });
} catch (err) {
  fail('cannot start', err);
}

try {
  await adapter.start();
} catch (err) {
  // Without the checkpoint a start could skip a gap; exiting lets Kubernetes restart us with backoff.
  fail('cannot read the checkpoint', err);
}

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    log.info({ fn: 'gerrit-stream', signal }, 'stopping');
    void adapter.stop().then(() => {
      sink.close();
      process.exit(0);
    });
  });
}
