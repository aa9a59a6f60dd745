// gerrit-stream, the loop: read `gerrit stream-events`, forward each event's CloudEvents to the sink, and fill
// every gap — a reconnect, a restart, Gerrit's dropped-output notice — from Gerrit's REST API (gap-recovery.ts).
// Its I/O comes in as dependencies (the stream opener, the sink, a Gerrit and a checkpoint store), so the same
// loop runs in production (sources/gerrit-stream/main.ts) and in tests against the rig's real servers.
//
// One worker forwards in order, one job at a time: streamed events, and recoveries, which a (re)connection
// queues ahead of the events it streams. So the stream and a recovery never race; where they overlap (an
// event that happens while the recovery queries Gerrit is both streamed and rebuilt) the rebuilt copy goes
// first and the streamed one is recognised (ForwardedLog.hasRebuiltOf) and not sent again.
//
// Delivery failures that may pass (TransientError, see errors.ts) are retried with backoff, holding the queue,
// so order is kept; when the queue grows past a bound the SSH channel is paused and Gerrit buffers, or drops
// and says so, which triggers a recovery. A CloudEvent the sink refuses for good is logged and skipped.
//
// Checkpoint: after the sink accepts an event, noteForwarded and ForwardedLog.note; every few seconds (and after
// each recovery, and at stop) checkpointToPersist() and the log's snapshot are written to the store together.
// A first start (nothing stored) has no gap to fill: it starts the checkpoint at the first connection.
import { EventEmitter } from 'node:events';
import { shouldRetry } from '../errors.js';
import type { GerritApi } from '../gerrit/client.js';
import type { ChangeInfo } from '../gerrit/types.js';
import { log as processLog, type Logger } from '../log.js';
import { backoffDelay, RECONNECT_BACKOFF, RETRY_BACKOFF, type BackoffPolicy } from './backoff.js';
import type { CheckpointStore } from './checkpoint-store.js';
import {
  beginRecovery,
  checkpointFrom,
  checkpointToPersist,
  DEFAULT_RECOVERY_MARGIN_SECONDS,
  DEFAULT_STAMP_TOLERANCE_SECONDS,
  endRecovery,
  eventsFromChanges,
  ForwardedLog,
  noteForwarded,
  RECOVERY_CHANGE_OPTIONS,
  updatedSinceQuery,
  type CheckpointState,
} from './gap-recovery.js';
import { checkEventSource, toCloudEvents } from './gerrit-cloudevents.js';
import { changeOf, type ProjectGerritEvent } from './gerrit-event.js';
import { sendInOrder, type CloudEventSink } from './sink.js';
import type { OpenStream, StreamSession } from './ssh-stream.js';
import { LineSplitter, parseStreamLine, type StreamLine } from './stream-lines.js';

const FN = 'gerrit-stream';

export interface StreamAdapterOptions {
  reconnect?: BackoffPolicy;
  retry?: BackoffPolicy;
  /** A connection that lasted this long was healthy: the next reconnect starts the backoff afresh. */
  healthyAfterMs?: number;
  /** How often a changed checkpoint is written. What a crash loses of it is recovered again (duplicates, not gaps). */
  persistIntervalMs?: number;
  /** Queued events above which the SSH channel is paused (resumed at half). */
  maxQueuedEvents?: number;
  recoveryPageSize?: number;
  recoveryMarginSeconds?: number;
  maxLineBytes?: number;
  /** How long stop() keeps forwarding what is queued before it writes the checkpoint. */
  drainMs?: number;
}

const DEFAULTS: Required<StreamAdapterOptions> = {
  reconnect: RECONNECT_BACKOFF,
  retry: RETRY_BACKOFF,
  healthyAfterMs: 60_000,
  persistIntervalMs: 5_000,
  maxQueuedEvents: 1_000,
  recoveryPageSize: 100,
  recoveryMarginSeconds: DEFAULT_RECOVERY_MARGIN_SECONDS,
  maxLineBytes: 4 * 1024 * 1024,
  drainMs: 10_000,
};

/**
 * Gerrit lists query results newest update first, so a change updated while recovery pages through them moves to
 * a page already read. When there was more than one page, the changes updated since paging began (and this
 * much more, for the request times) are read once more.
 */
const CATCH_UP_SLACK_SECONDS = 30;

export interface StreamAdapterDependencies {
  openStream: OpenStream;
  sink: CloudEventSink;
  gerrit: Pick<GerritApi, 'queryChanges'>;
  store: CheckpointStore;
  /** Gerrit's canonical web URL: the CloudEvents' source, and `change.url` in rebuilt events. */
  source: string;
  logger?: Logger;
  options?: StreamAdapterOptions;
  random?: () => number;
}

export interface RecoverySummary {
  reason: string;
  since: number;
  changes: number;
  events: number;
  sent: number;
  known: number;
  refused: number;
  notRebuilt: number;
}

/** What the adapter does, for whoever watches it (tests; logs say the same). */
export interface StreamAdapterEvents {
  connected: [];
  disconnected: [reason: string];
  recovered: [summary: RecoverySummary];
}

type Job = { kind: 'event'; event: ProjectGerritEvent } | { kind: 'recover'; reason: string };

/** Thrown inside the worker when stop() ends the drain: the job stays undone, the next start recovers it. */
class Stopping extends Error {}

const nowSeconds = () => Math.floor(Date.now() / 1000);

export class GerritStreamAdapter extends EventEmitter<StreamAdapterEvents> {
  readonly #deps: StreamAdapterDependencies;
  readonly #options: Required<StreamAdapterOptions>;
  readonly #logger: Logger;
  #state: CheckpointState = checkpointFrom(undefined);
  #log: ForwardedLog;
  /** Only what recoveries sent, to recognise its streamed twin (see the module comment). */
  readonly #rebuilt: ForwardedLog;
  readonly #queue: Job[] = [];
  #wakeWorker: (() => void) | undefined;
  readonly #sleepers = new Set<() => void>();
  #session: StreamSession | undefined;
  #paused = false;
  #started = false;
  #stopping = false;
  #drainDeadline = Infinity;
  #worker: Promise<void> = Promise.resolve();
  #connector: Promise<void> = Promise.resolve();
  #persistTimer: NodeJS.Timeout | undefined;
  #dirty = false;
  #persisting: Promise<void> = Promise.resolve();
  #stopped: Promise<void> | undefined;

  constructor(deps: StreamAdapterDependencies) {
    super();
    checkEventSource(deps.source);
    this.#deps = deps;
    this.#options = { ...DEFAULTS, ...deps.options };
    this.#logger = deps.logger ?? processLog;
    this.#log = new ForwardedLog(this.#logOptions());
    this.#rebuilt = new ForwardedLog(this.#logOptions());
  }

  /** Reads the stored checkpoint, then connects and keeps reconnecting until stop(). Rejects if the store cannot be read. */
  async start(): Promise<void> {
    if (this.#started) throw new Error('gerrit-stream adapter already started');
    this.#started = true;
    const stored = await this.#deps.store.load();
    for (const problem of stored.problems ?? []) {
      this.#logger.warn({ fn: FN, outcome: 'checkpoint ignored', reason: problem });
    }
    this.#state = checkpointFrom(stored.checkpoint);
    this.#log = ForwardedLog.restore(stored.forwarded, this.#logOptions());
    this.#logger.info({ fn: FN, outcome: 'started', checkpoint: stored.checkpoint ?? null, remembered: this.#log.size });
    this.#worker = this.#work();
    this.#connector = this.#connectLoop();
    this.#persistTimer = setInterval(() => void this.#persist(), this.#options.persistIntervalMs);
    this.#persistTimer.unref();
  }

  /**
   * Stops reading, forwards what is queued for up to `drainMs` (stopping at a pending recovery, which the next
   * start redoes), and writes the checkpoint.
   */
  stop(): Promise<void> {
    this.#stopped ??= this.#stop();
    return this.#stopped;
  }

  async #stop(): Promise<void> {
    this.#stopping = true;
    this.#drainDeadline = Date.now() + this.#options.drainMs;
    clearInterval(this.#persistTimer);
    this.#session?.close();
    this.#wakeWorker?.();
    for (const wake of this.#sleepers) wake();
    await Promise.all([this.#connector, this.#worker]);
    await this.#persist();
    this.#logger.info({ fn: FN, outcome: 'stopped', checkpoint: checkpointToPersist(this.#state) ?? null, queued: this.#queue.length });
  }

  /** The checkpoint as it would be written now (undefined before anything was forwarded). */
  get checkpoint(): number | undefined {
    return checkpointToPersist(this.#state);
  }

  #logOptions() {
    const toleranceSeconds = DEFAULT_STAMP_TOLERANCE_SECONDS;
    return { toleranceSeconds, horizonSeconds: this.#options.recoveryMarginSeconds + toleranceSeconds + 60 };
  }

  // --- the connection ----------------------------------------------------------------------------------------

  async #connectLoop(): Promise<void> {
    let attempt = 0;
    while (!this.#stopping) {
      const openMs = await this.#connectOnce();
      if (this.#stopping) return;
      if (openMs >= this.#options.healthyAfterMs) attempt = 0;
      const delay = backoffDelay(attempt++, this.#options.reconnect, this.#deps.random);
      this.#logger.info({ fn: FN, outcome: 'reconnecting', inMs: delay, attempt });
      await this.#sleep(delay);
    }
  }

  /** One session, from connect to its end; resolves with how long it was open (0: it never opened). */
  #connectOnce(): Promise<number> {
    return new Promise((resolve) => {
      let openedAt: number | undefined;
      const splitter = new LineSplitter({ maxLineBytes: this.#options.maxLineBytes });
      this.#paused = false;
      this.#session = this.#deps.openStream({
        onOpen: () => {
          openedAt = Date.now();
          this.#onConnected();
        },
        onData: (chunk) => {
          for (const line of splitter.push(chunk)) this.#onLine(line);
        },
        onEnd: (reason) => {
          for (const line of splitter.end()) this.#onLine(line);
          this.#session = undefined;
          this.#logger.warn({ fn: FN, outcome: 'disconnected', reason, openMs: openedAt === undefined ? 0 : Date.now() - openedAt });
          this.emit('disconnected', reason);
          resolve(openedAt === undefined ? 0 : Date.now() - openedAt);
        },
      });
    });
  }

  #onConnected(): void {
    this.#logger.info({ fn: FN, outcome: 'connected' });
    if (this.#state.newest === undefined) {
      // A first start: nothing was missed, everything from now on streams. Checkpointing now lets a restart
      // before the first event recover what it missed.
      this.#state = noteForwarded(this.#state, nowSeconds());
      this.#dirty = true;
    } else {
      this.#enqueue({ kind: 'recover', reason: 'connected' });
    }
    this.emit('connected');
  }

  #onLine(line: StreamLine): void {
    const parsed = parseStreamLine(line);
    if (!parsed.ok) {
      this.#logger.warn({ fn: FN, outcome: 'skipped', reason: parsed.reason });
    } else if (parsed.event.kind === 'dropped-output') {
      this.#logger.warn({ fn: FN, outcome: 'dropped-output', reason: 'Gerrit dropped events for this reader; recovering them' });
      this.#enqueue({ kind: 'recover', reason: 'dropped-output' });
    } else {
      this.#enqueue({ kind: 'event', event: parsed.event });
    }
  }

  #enqueue(job: Job): void {
    this.#queue.push(job);
    if (!this.#paused && this.#session && this.#queue.length >= this.#options.maxQueuedEvents) {
      this.#paused = true;
      this.#session.pause();
    }
    this.#wakeWorker?.();
  }

  // --- the worker ----------------------------------------------------------------------------------------------

  async #work(): Promise<void> {
    for (;;) {
      const job = this.#queue[0];
      if (!job) {
        if (this.#stopping) return;
        await new Promise<void>((wake) => (this.#wakeWorker = wake));
        this.#wakeWorker = undefined;
        continue;
      }
      // While stopping, a recovery is left for the next start, and so is everything queued behind it.
      if (this.#stopping && (job.kind === 'recover' || Date.now() >= this.#drainDeadline)) return;
      try {
        if (job.kind === 'recover') await this.#recover(job.reason);
        else await this.#forwardStreamed(job.event);
      } catch (err) {
        if (err instanceof Stopping) return;
        throw err;
      }
      this.#queue.shift();
      if (this.#paused && this.#queue.length <= this.#options.maxQueuedEvents / 2) {
        this.#paused = false;
        this.#session?.resume();
      }
    }
  }

  async #forwardStreamed(event: ProjectGerritEvent): Promise<void> {
    if (this.#rebuilt.hasRebuiltOf(event)) {
      this.#logger.info({ fn: FN, ...describe(event), outcome: 'duplicate', reason: 'a recovery already sent it' });
      return;
    }
    if (await this.#deliver(event)) this.#noteForwarded(event, 'streamed');
  }

  #noteForwarded(event: ProjectGerritEvent, how: 'streamed' | 'recovered'): void {
    this.#state = noteForwarded(this.#state, event.eventCreatedOn);
    this.#log.note(event);
    if (how === 'recovered') this.#rebuilt.note(event);
    this.#dirty = true;
  }

  /** Sends one Gerrit event's CloudEvents; false when the sink refused them for good (logged). */
  async #deliver(event: ProjectGerritEvent, how = 'streamed'): Promise<boolean> {
    const cloudEvents = toCloudEvents(event, { source: this.#deps.source });
    const line = { fn: FN, ...describe(event), id: cloudEvents[0]?.id, how };
    for (let attempt = 0; ; attempt++) {
      const started = performance.now();
      try {
        await sendInOrder(this.#deps.sink, cloudEvents);
        this.#logger.info({ ...line, outcome: 'ok', ms: Math.round(performance.now() - started) });
        return true;
      } catch (err) {
        if (!shouldRetry(err)) {
          this.#logger.error({ ...line, outcome: 'refused', err });
          return false;
        }
        this.#logger.warn({ ...line, outcome: 'retry', attempt, err });
        await this.#sleep(backoffDelay(attempt, this.#options.retry, this.#deps.random));
        if (this.#stopping && Date.now() >= this.#drainDeadline) throw new Stopping();
      }
    }
  }

  // --- recovery ------------------------------------------------------------------------------------------------

  async #recover(reason: string): Promise<void> {
    const begun = beginRecovery(this.#state, this.#options.recoveryMarginSeconds);
    if (begun.since === undefined) return;
    this.#state = begun.state;
    this.#dirty = true;
    const since = begun.since;
    for (let attempt = 0; ; attempt++) {
      const started = performance.now();
      try {
        const changes = await this.#changesUpdatedSince(since);
        const { events, skipped } = eventsFromChanges(changes, since, { webUrl: this.#deps.source });
        for (const what of skipped) this.#logger.warn({ fn: FN, outcome: 'not recovered', reason: what });
        const summary: RecoverySummary = { reason, since, changes: changes.length, events: events.length, sent: 0, known: 0, refused: 0, notRebuilt: skipped.length };
        for (const event of events) {
          if (this.#log.has(event)) summary.known++;
          else if (await this.#deliver(event, 'recovered')) {
            this.#noteForwarded(event, 'recovered');
            summary.sent++;
          } else summary.refused++;
        }
        this.#state = endRecovery(this.#state);
        this.#dirty = true;
        this.#logger.info({ fn: FN, outcome: 'recovered', ...summary, ms: Math.round(performance.now() - started) });
        await this.#persist();
        this.emit('recovered', summary);
        return;
      } catch (err) {
        if (err instanceof Stopping) throw err;
        // Not ended: the checkpoint stays held, so a restart before it succeeds recovers from the same instant.
        this.#logger.warn({ fn: FN, outcome: 'recovery failed', reason, attempt, err });
        await this.#sleep(backoffDelay(attempt, this.#options.retry, this.#deps.random));
        if (this.#stopping) throw new Stopping();
      }
    }
  }

  async #changesUpdatedSince(since: number): Promise<ChangeInfo[]> {
    const pagingStarted = Date.now();
    const { changes, pages } = await this.#allPages(updatedSinceQuery(since));
    if (pages <= 1) return changes;
    const seconds = Math.ceil((Date.now() - pagingStarted) / 1000) + CATCH_UP_SLACK_SECONDS;
    const fresh = await this.#allPages(`${updatedSinceQuery(since)} -age:${seconds}s`);
    // The fresh copies first: eventsFromChanges reads a change once, the first time it sees it.
    return [...fresh.changes, ...changes];
  }

  async #allPages(query: string): Promise<{ changes: ChangeInfo[]; pages: number }> {
    const changes: ChangeInfo[] = [];
    let pages = 0;
    for (;;) {
      const page = await this.#deps.gerrit.queryChanges(query, {
        options: RECOVERY_CHANGE_OPTIONS,
        limit: this.#options.recoveryPageSize,
        start: changes.length,
      });
      pages++;
      changes.push(...page.changes);
      if (!page.more || page.changes.length === 0) return { changes, pages };
    }
  }

  // --- persistence and time ------------------------------------------------------------------------------------

  /** Writes the checkpoint and the forwarded log if they changed; one write at a time. Failures are retried later. */
  #persist(): Promise<void> {
    this.#persisting = this.#persisting.then(async () => {
      const checkpoint = checkpointToPersist(this.#state);
      if (!this.#dirty || checkpoint === undefined) return;
      this.#dirty = false;
      try {
        await this.#deps.store.save(checkpoint, this.#log.snapshot());
      } catch (err) {
        this.#dirty = true;
        this.#logger.warn({ fn: FN, outcome: 'checkpoint not written', err });
      }
    });
    return this.#persisting;
  }

  /** Waits `ms`, less when stopping: then never past the drain deadline. */
  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.#sleepers.delete(wake);
        resolve();
      };
      const wait = this.#stopping ? Math.max(0, Math.min(ms, this.#drainDeadline - Date.now())) : ms;
      const timer = setTimeout(wake, wait);
      this.#sleepers.add(wake);
    });
  }
}

function describe(event: ProjectGerritEvent) {
  return { type: `gerrit.${event.type}`, project: event.project, change: changeOf(event)?.number };
}
