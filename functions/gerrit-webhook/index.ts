// Gerrit's webhooks plugin POSTs each event here; it goes on to K_SINK as CloudEvents (shared/events/webhook.ts).
import type { HttpFunction } from '@google-cloud/functions-framework';
import { guardFrameworkRequests } from '../../shared/events/framework.js';
import { GerritWebhook } from '../../shared/events/webhook.js';

let served: HttpFunction | undefined;

/** Checks the configuration and guards the framework's body reading: at start-up, when this function is served. */
export function startGerritWebhook(env: NodeJS.ProcessEnv = process.env): HttpFunction {
  const webhook = GerritWebhook.fromEnv(env);
  guardFrameworkRequests(webhook.guard);
  served = webhook.httpFunction();
  return served;
}

export const gerritWebhook: HttpFunction = (req, res) => (served ?? startGerritWebhook())(req, res);
