// Events Knative gave up delivering: each is logged with why it failed and recorded as a Kubernetes Event in
// the system namespace, where `kubectl get events` shows it to an operator. Nothing is dropped silently.
import { loadEnv } from '../../shared/env.js';
import { describeDeadLetter } from '../../shared/events/dead-letter.js';
import { cloudEventFunction, type InboundEvent } from '../../shared/events/handler.js';
import type { ClusterApi } from '../../shared/k8s/cluster.js';
import { systemNamespaceEnv } from '../../shared/k8s/env.js';
import { httpClusterFromEnv } from '../../shared/k8s/http-cluster.js';
import { log } from '../../shared/log.js';

interface DeadLetterDeps {
  readonly cluster: ClusterApi;
  readonly namespace: string;
}

let served: DeadLetterDeps | undefined;

export function startDeadLetter(env: NodeJS.ProcessEnv = process.env): DeadLetterDeps {
  const { SEAKEEPER_NAMESPACE } = loadEnv(systemNamespaceEnv, env);
  served = { cluster: httpClusterFromEnv(env), namespace: SEAKEEPER_NAMESPACE };
  return served;
}

export async function recordDeadLetter(event: InboundEvent, deps: DeadLetterDeps, now = new Date()): Promise<void> {
  const dead = describeDeadLetter(event, { namespace: deps.namespace, now });
  log.error({ fn: 'dead-letter', ...dead.fields }, 'event not delivered');
  // Created, not applied: a redelivered dead letter finds AlreadyExists and records nothing twice.
  await deps.cluster.create(dead.event);
}

export const deadLetter = cloudEventFunction('dead-letter', (event) => recordDeadLetter(event, served ?? startDeadLetter()));
