// What the Broker's dead-letter sink does with an event Knative gave up delivering: a pure description of it
// (for the log line) and a Kubernetes Event an operator sees with `kubectl get events -n seakeeper-system`.
// Knative adds the failure as extensions: knativeerrordest (the subscriber), knativeerrorcode (its last HTTP
// status) and knativeerrordata (its last response body, base64). The Event's name derives from the dead
// event's source and id, so a redelivery records nothing twice.
import { createHash } from 'node:crypto';
import type { InboundEvent } from './handler.js';

/** Kubernetes keeps Event messages short; the subscriber's answer is cut to this many characters. */
export const MAX_ERROR_DATA_CHARS = 1024;
export const DEAD_LETTER_REASON = 'DeliveryFailed';
export const DEAD_LETTER_COMPONENT = 'seakeeper-dead-letter';
/** What the Events are about: the Broker whose delivery gave up. */
export const BROKER_NAME = 'ci';

export interface DeadLetter {
  /** For the log line: the dead event's identity and why it died. */
  readonly fields: {
    deadType: string;
    deadId: string;
    deadSource: string;
    subject: string | undefined;
    destination: string | undefined;
    code: string | undefined;
    response: string | undefined;
  };
  /** A core/v1 Event in the system namespace. */
  readonly event: {
    apiVersion: 'v1';
    kind: 'Event';
    metadata: { name: string; namespace: string; labels: Record<string, string> };
    involvedObject: { apiVersion: string; kind: string; name: string; namespace: string };
    type: 'Warning';
    reason: string;
    message: string;
    source: { component: string };
    reportingComponent: string;
    reportingInstance: string;
    firstTimestamp: string;
    lastTimestamp: string;
    count: number;
  };
}

const extension = (event: InboundEvent, name: string): string | undefined => {
  const value = event[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
};

/** knativeerrordata is base64 of whatever the subscriber answered; anything undecodable is shown as it came. */
export function decodeErrorData(data: string | undefined): string | undefined {
  if (data === undefined) return undefined;
  const decoded = /^[A-Za-z0-9+/]*={0,2}$/.test(data) ? Buffer.from(data, 'base64').toString('utf8') : data;
  const oneLine = decoded.replace(/\s+/g, ' ').trim();
  return oneLine.length > MAX_ERROR_DATA_CHARS ? `${oneLine.slice(0, MAX_ERROR_DATA_CHARS)}…` : oneLine;
}

export function deadLetterName(event: Pick<InboundEvent, 'source' | 'id'>): string {
  const digest = createHash('sha256').update(`${event.source}\n${event.id}`).digest('hex');
  return `dead-letter.${digest.slice(0, 32)}`;
}

export function describeDeadLetter(event: InboundEvent, options: { namespace: string; now: Date }): DeadLetter {
  const destination = extension(event, 'knativeerrordest');
  const code = extension(event, 'knativeerrorcode');
  const response = decodeErrorData(extension(event, 'knativeerrordata'));
  const at = options.now.toISOString();
  const message = [
    `${event.type} ${event.id} from ${event.source}${event.subject ? ` (${event.subject})` : ''} was not delivered`,
    destination ? ` to ${destination}` : '',
    code ? `: HTTP ${code}` : '',
    response ? `: ${response}` : '',
  ].join('');
  return {
    fields: {
      deadType: event.type,
      deadId: event.id,
      deadSource: event.source,
      subject: event.subject,
      destination,
      code,
      response,
    },
    event: {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: {
        name: deadLetterName(event),
        namespace: options.namespace,
        labels: { 'app.kubernetes.io/managed-by': 'seakeeper', 'seakeeper.dev/dead-letter': 'true' },
      },
      involvedObject: { apiVersion: 'eventing.knative.dev/v1', kind: 'Broker', name: BROKER_NAME, namespace: options.namespace },
      type: 'Warning',
      reason: DEAD_LETTER_REASON,
      message,
      source: { component: DEAD_LETTER_COMPONENT },
      reportingComponent: DEAD_LETTER_COMPONENT,
      reportingInstance: DEAD_LETTER_COMPONENT,
      firstTimestamp: at,
      lastTimestamp: at,
      count: 1,
    },
  };
}
