// What one gate-queue decision costs (shared/pipelines/change-queue.ts, pure: no rig, no I/O), for queues of
// 10, 100 and 1,000 items, beside what the shell pays anyway to read and write the same state (a JSON round
// trip: the ChangeQueue's status is parsed from and serialized to the API server) and a structuredClone of it.
//
//   npm run bench:change-queue [-- --rounds=7 --min-ms=50]
//
// Three windows per depth: the pipeline's (gate-and-submit, 5: a deep queue behind a small window, runs only at
// the front), the default ceiling (20: the most the window grows to), and the whole queue without a ceiling
// (every item has a run: the most a state could hold, includes growing with depth).
// Events, each decided on the same stored state: the run of the item in the middle of those that have runs
// succeeds; it fails (the items behind it that included it are stopped and started again); a tick. Each figure
// is the median over the rounds of the mean time per call in a round; a round repeats the call until `min-ms`
// has passed.
import { performance } from 'node:perf_hooks';
import { decide, emptyQueue, type EnqueueItem, type QueueConfig, type QueueEvent, type QueueState } from '../shared/pipelines/change-queue.js';
import { DEFAULT_WINDOW_CEILING } from '../shared/pipelines/gate-plan.js';
import { median, numericArgs } from './cli.js';

const args = numericArgs();
const ROUNDS = args.rounds ?? 7;
const MIN_MS = args['min-ms'] ?? 50;
const DEPTHS = [10, 100, 1000];

function item(change: number): EnqueueItem {
  return {
    project: 'mediawiki/core',
    branch: 'master',
    change,
    patchset: 1,
    ref: `refs/changes/${String(change % 100).padStart(2, '0')}/${change}/1`,
    revision: change.toString(16).padStart(40, '0'),
    enqueuedAt: new Date(Date.UTC(2025, 0, 1, 12, 0, 0, change)).toISOString(),
    needs: [],
  };
}

function queueOf(depth: number, config: QueueConfig): QueueState {
  const items = Array.from({ length: depth }, (_, i) => item(100_000 + i));
  return decide(emptyQueue(config), { type: 'enqueue', eventId: 'bench', items }, config).state;
}

/** Mean milliseconds per call over a round of at least MIN_MS; the median over ROUNDS rounds. */
function time(call: () => unknown): number {
  const rounds: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    let calls = 0;
    const start = performance.now();
    let elapsed = 0;
    do {
      call();
      calls++;
      elapsed = performance.now() - start;
    } while (elapsed < MIN_MS);
    rounds.push(elapsed / calls);
  }
  return median(rounds);
}

const ms = (value: number) => (value < 0.1 ? value.toFixed(4) : value < 10 ? value.toFixed(3) : value.toFixed(1));

function bench(depth: number, window: number): void {
  const config: QueueConfig = { queue: 'mediawiki/core master', pipeline: 'gate-and-submit', window, windowFloor: 2, windowCeiling: window };
  const state = queueOf(depth, config);
  const running = state.items.filter((i) => i.run?.state === 'running');
  const middle = running[running.length >> 1]!;
  const events: Array<[string, QueueEvent]> = [
    [`run ${middle.change - 100_000} succeeds`, { type: 'run-finished', name: middle.run!.name, result: 'succeeded' }],
    [`run ${middle.change - 100_000} fails`, { type: 'run-finished', name: middle.run!.name, result: 'failed' }],
    ['tick', { type: 'tick' }],
  ];
  const bytes = JSON.stringify(state).length;
  const json = time(() => JSON.parse(JSON.stringify(state)));
  const clone = time(() => structuredClone(state));
  for (const [label, event] of events) {
    const decision = decide(state, event, config);
    const decided = time(() => decide(state, event, config));
    console.log(
      [depth, window, (bytes / 1024).toFixed(1), label, decision.actions.length, ms(decided), ms(json), ms(clone), `×${(decided / json).toFixed(2)}`, `×${(decided / clone).toFixed(2)}`].join(' | '),
    );
  }
}

console.log(`rounds ${ROUNDS}, at least ${MIN_MS} ms each; node ${process.version}`);
console.log('depth | window | state KiB | event | actions | decide ms | JSON round trip ms | structuredClone ms | decide / JSON | decide / clone');
for (const depth of DEPTHS) {
  bench(depth, 5);
  if (depth > DEFAULT_WINDOW_CEILING) bench(depth, DEFAULT_WINDOW_CEILING);
  bench(depth, depth);
}
