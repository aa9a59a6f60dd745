// STAND-IN for the Knative Broker "ci" in `make dev` (Knative's data plane cannot run on a machine without a
// cluster). It routes with the very Triggers deployed to production — read from knative/eventing through
// `kubectl kustomize` — and retries like the Broker's delivery spec, dead-lettering what still fails, so the
// filters and the error contract are exercised locally. It is not a Broker: nothing is persisted, and an event in
// flight is lost when the process stops.
import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CloudEvent, HTTP } from 'cloudevents';
import { parseAllDocuments } from 'yaml';

/** The Trigger filter dialects Knative made GA in Eventing 1.15 that our Triggers use. */
export interface Filter {
  exact?: Record<string, string>;
  prefix?: Record<string, string>;
  suffix?: Record<string, string>;
  all?: Filter[];
  any?: Filter[];
  not?: Filter;
}

export interface Route {
  trigger: string;
  filters: Filter[];
  /** The Knative Service the Trigger subscribes. */
  service: string;
}

export interface Delivery {
  retry: number;
  backoffDelayMs: number;
  backoffPolicy: 'exponential' | 'linear';
  deadLetterService: string | undefined;
}

type Attributes = Readonly<Record<string, unknown>>;

function eachAttribute(spec: Record<string, string> | undefined, attributes: Attributes, test: (value: string, wanted: string) => boolean): boolean {
  return Object.entries(spec ?? {}).every(([name, wanted]) => {
    const value = attributes[name];
    return typeof value === 'string' && test(value, wanted);
  });
}

/** One filter expression: every dialect present must hold (Knative's semantics for a filter with several keys). */
export function matches(filter: Filter, attributes: Attributes): boolean {
  return (
    eachAttribute(filter.exact, attributes, (v, w) => v === w) &&
    eachAttribute(filter.prefix, attributes, (v, w) => v.startsWith(w)) &&
    eachAttribute(filter.suffix, attributes, (v, w) => v.endsWith(w)) &&
    (filter.all ?? []).every((f) => matches(f, attributes)) &&
    (filter.any === undefined || filter.any.some((f) => matches(f, attributes))) &&
    (filter.not === undefined || !matches(filter.not, attributes))
  );
}

/** A Trigger's `filters` are ANDed; a Trigger without any takes every event. */
export const routeMatches = (route: Route, attributes: Attributes): boolean => route.filters.every((f) => matches(f, attributes));

/** ISO-8601 durations as Knative writes them (PT0.5S, PT2S, PT1M). */
export function durationMs(iso: string): number {
  const m = /^PT(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?$/.exec(iso);
  if (!m || (m[1] === undefined && m[2] === undefined)) throw new Error(`unsupported duration ${JSON.stringify(iso)}`);
  return Math.round((Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0)) * 1000);
}

/** The Triggers and Broker delivery spec out of rendered manifests. */
export function routingFrom(objects: readonly unknown[]): { routes: Route[]; delivery: Delivery } {
  const routes: Route[] = [];
  let delivery: Delivery = { retry: 0, backoffDelayMs: 0, backoffPolicy: 'exponential', deadLetterService: undefined };
  for (const raw of objects) {
    const o = raw as { kind?: string; metadata?: { name?: string }; spec?: Record<string, any> };
    if (o?.kind === 'Trigger' && o.spec?.subscriber?.ref?.kind === 'Service') {
      routes.push({ trigger: o.metadata?.name ?? '?', filters: o.spec.filters ?? [], service: o.spec.subscriber.ref.name });
    }
    if (o?.kind === 'Broker' && o.spec?.delivery) {
      const d = o.spec.delivery;
      delivery = {
        retry: d.retry ?? 0,
        backoffDelayMs: d.backoffDelay ? durationMs(d.backoffDelay) : 0,
        backoffPolicy: d.backoffPolicy === 'linear' ? 'linear' : 'exponential',
        deadLetterService: d.deadLetterSink?.ref?.kind === 'Service' ? d.deadLetterSink.ref.name : undefined,
      };
    }
  }
  return { routes, delivery };
}

export function backoffMs(delivery: Delivery, attempt: number): number {
  return delivery.backoffPolicy === 'linear' ? delivery.backoffDelayMs * attempt : delivery.backoffDelayMs * 2 ** (attempt - 1);
}

/** Renders knative/eventing with the kubectl on PATH (the rig's), as `kubectl apply -k` would. */
export function loadRouting(dir: string): { routes: Route[]; delivery: Delivery } {
  const rendered = execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8' });
  return routingFrom(parseAllDocuments(rendered).map((d) => d.toJS()));
}

export interface BrokerStandIn {
  url: string;
  server: Server;
}

/**
 * How much a line of the stand-in matters, in LOG_LEVEL's words: a delivery that succeeded or an event no Trigger
 * takes (the Broker drops it too) is `debug`, since the function's own line says what the event did; a failed
 * delivery, which the Broker would retry and dead-letter, is `info`.
 */
export type StandInLevel = 'debug' | 'info';

/**
 * Accepts CloudEvents (202 at once, as the Broker's ingress does) and delivers each to every matching route's
 * function; `urlOf(service)` says where a function listens. `log` gets one line per delivery outcome.
 */
export async function startBroker(options: {
  routes: readonly Route[];
  delivery: Delivery;
  urlOf: (service: string) => string | undefined;
  log: (line: string, level: StandInLevel) => void;
}): Promise<BrokerStandIn> {
  const { routes, delivery, urlOf, log } = options;

  async function post(url: string, event: CloudEvent<unknown>): Promise<{ ok: boolean; status: number; body: string }> {
    const message = HTTP.binary(event);
    try {
      const response = await fetch(url, { method: 'POST', headers: message.headers as Record<string, string>, body: message.body as string });
      return { ok: response.ok, status: response.status, body: await response.text() };
    } catch (err) {
      return { ok: false, status: 0, body: err instanceof Error ? err.message : String(err) };
    }
  }

  async function deliver(route: Route, event: CloudEvent<unknown>): Promise<void> {
    const url = urlOf(route.service);
    if (!url) {
      log(`${event.type} ${event.id} → ${route.service}: no such function running`, 'info');
      return;
    }
    let last = { ok: false, status: 0, body: '' };
    for (let attempt = 0; attempt <= delivery.retry; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, backoffMs(delivery, attempt)));
      last = await post(url, event);
      // Knative retries 404, 409, 429 and 5xx; any other 4xx is final.
      if (last.ok || (last.status >= 400 && last.status < 500 && ![404, 409, 429].includes(last.status))) break;
    }
    log(`${event.type} ${event.id} → ${route.service} (trigger ${route.trigger}): ${last.ok ? `${last.status}` : `failed ${last.status || 'network'}`}`, last.ok ? 'debug' : 'info');
    if (last.ok || !delivery.deadLetterService) return;
    const deadUrl = urlOf(delivery.deadLetterService);
    if (!deadUrl) return;
    const dead = event.cloneWith(
      { knativeerrordest: url, knativeerrorcode: String(last.status), knativeerrordata: Buffer.from(last.body.slice(0, 4096)).toString('base64') },
      false,
    );
    await post(deadUrl, dead);
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let event: CloudEvent<unknown>;
      try {
        event = HTTP.toEvent({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') }) as CloudEvent<unknown>;
      } catch (err) {
        res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: String(err) }));
        return;
      }
      res.writeHead(202).end();
      const attributes = event.toJSON() as Attributes;
      const matched = routes.filter((r) => routeMatches(r, attributes));
      if (matched.length === 0) log(`${event.type} ${event.id}: no trigger matches`, 'debug');
      for (const route of matched) void deliver(route, event);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, server };
}
