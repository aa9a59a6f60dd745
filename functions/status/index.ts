// The live status page: where each change is in its gate queue, what runs, and how long it should take
// (shared/status/). HTTP, read only; it lists ChangeQueues and Workflows and calls nothing else.
import type { HttpFunction } from '@google-cloud/functions-framework';
import { StatusService } from '../../shared/status/status-http.js';

let served: HttpFunction | undefined;

/** Checks the configuration and reads the page: at start-up, when this function is served. */
export function startStatus(env: NodeJS.ProcessEnv = process.env): HttpFunction {
  served = StatusService.fromEnv(env).httpFunction();
  return served;
}

export const status: HttpFunction = (req, res) => (served ?? startStatus())(req, res);
