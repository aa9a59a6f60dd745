// STAND-IN for the Knative Broker "ci" (its data plane cannot run on these machines): an HTTP server on
// loopback that takes CloudEvents as the Broker's ingress does — 202 for an event it accepts, 400 for a request
// that is not one — decodes percent-encoded header values as the HTTP binding (3.1.3.2) says a receiver must,
// and records each event. A test can make it fail or stall the next requests, or stop answering altogether.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { HTTP, type CloudEvent } from 'cloudevents';
import { decodeHeaderValue } from '../../../shared/events/sink.js';
import { eventually } from './wait.js';

export interface Received {
  event: CloudEvent<unknown>;
  /** The headers as they arrived, still encoded. */
  headers: IncomingHttpHeaders;
}

export class BrokerStandIn {
  readonly received: Received[] = [];
  /** Requests it answered with a failure (or not at all), in order. */
  readonly refused: { status: number | 'stalled'; headers: IncomingHttpHeaders }[] = [];
  #failures: { status: number; matches: (headers: IncomingHttpHeaders) => boolean }[] = [];
  #stalls: { ms: number; matches: (headers: IncomingHttpHeaders) => boolean }[] = [];
  readonly #sockets = new Set<Socket>();

  private constructor(readonly server: Server) {
    server.on('connection', (socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    });
  }

  static async start(): Promise<BrokerStandIn> {
    let broker: BrokerStandIn | undefined;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => broker!.#answer(req.headers, Buffer.concat(chunks).toString('utf8'), res));
    });
    broker = new BrokerStandIn(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return broker;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/`;
  }

  /** The next `count` requests (that `matches`, by their still-encoded headers) are answered with `status`, not recorded. */
  failNext(count: number, status: number, matches: (headers: IncomingHttpHeaders) => boolean = () => true): void {
    for (let i = 0; i < count; i++) this.#failures.push({ status, matches });
  }

  /** The next `count` requests (that `matches`) get no answer for `ms`, then the usual one (recorded then). */
  stallNext(count: number, ms: number, matches: (headers: IncomingHttpHeaders) => boolean = () => true): void {
    for (let i = 0; i < count; i++) this.#stalls.push({ ms, matches });
  }

  /** The events whose `gerritproject` is `project`. */
  of(project: string): CloudEvent<unknown>[] {
    return this.received.map((r) => r.event).filter((e) => e.gerritproject === project);
  }

  /** Waits until `predicate` holds of the events recorded so far, and returns them. */
  async waitFor(predicate: (events: CloudEvent<unknown>[]) => boolean, what: string, timeoutMs = 30_000): Promise<CloudEvent<unknown>[]> {
    return eventually(async () => {
      const events = this.received.map((r) => r.event);
      if (!predicate(events)) throw new Error(`the broker stand-in has not received ${what} (has ${events.length} events)`);
      return events;
    }, timeoutMs, 100);
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }

  #answer(headers: IncomingHttpHeaders, body: string, res: import('node:http').ServerResponse): void {
    const failure = this.#failures.findIndex((f) => f.matches(headers));
    if (failure !== -1) {
      const { status } = this.#failures.splice(failure, 1)[0]!;
      this.refused.push({ status, headers });
      res.writeHead(status).end();
      return;
    }
    const stall = this.#stalls.findIndex((f) => f.matches(headers));
    if (stall !== -1) {
      const { ms } = this.#stalls.splice(stall, 1)[0]!;
      this.refused.push({ status: 'stalled', headers });
      setTimeout(() => this.#accept(headers, body, res), ms);
      return;
    }
    this.#accept(headers, body, res);
  }

  #accept(headers: IncomingHttpHeaders, body: string, res: import('node:http').ServerResponse): void {
    try {
      const decoded: Record<string, string> = {};
      for (const [name, value] of Object.entries(headers)) {
        if (typeof value !== 'string') continue;
        decoded[name] = name.startsWith('ce-') ? decodeHeaderValue(value) : value;
      }
      const event = HTTP.toEvent({ headers: decoded, body }) as CloudEvent<unknown>;
      event.validate();
      this.received.push({ event, headers });
      if (!res.destroyed) res.writeHead(202).end();
    } catch (err) {
      if (!res.destroyed) res.writeHead(400, { 'content-type': 'text/plain' }).end(String(err));
    }
  }
}
