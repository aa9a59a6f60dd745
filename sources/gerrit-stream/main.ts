// gerrit-stream: reads `gerrit stream-events` over SSH and forwards every event to K_SINK as CloudEvents,
// filling gaps from Gerrit's REST API (shared/events/stream-adapter.ts). A long-running process, not a
// function: Knative runs it as a ContainerSource (`node dist/sources/gerrit-stream/main.js`), which injects
// K_SINK. SIGTERM stops reading, forwards what is queued (bounded) and writes the checkpoint.
import { log } from '../../shared/log.js';
import type { HttpSink } from '../../shared/events/sink.js';
import type { GerritStreamAdapter } from '../../shared/events/stream-adapter.js';
import { gerritStreamFromEnv } from './configure.js';

function fail(what: string, err: unknown): never {
  log.fatal({ fn: 'gerrit-stream', err: err instanceof Error ? err.message : String(err) }, what);
  process.exit(1);
}

let sink: HttpSink;
let adapter: GerritStreamAdapter;
try {
  ({ adapter, sink } = gerritStreamFromEnv(process.env));
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
