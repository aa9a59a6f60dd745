// The Gerrit events captured from the rig's Gerrit 3.10.2 (test/fixtures/gerrit-events/README.md): the same
// occurrences through stream-events and through the webhooks plugin, and the changes' REST view afterwards.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stripXssiPrefix } from '../../../shared/gerrit/rest.js';

export const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/gerrit-events');

/** The canonical URL the rig's Gerrit had when the fixtures were captured (it appears in `change.url`). */
export const CAPTURE_SOURCE = 'http://127.0.0.1:44209/';

export const fixtureText = (relative: string): string => readFileSync(path.join(FIXTURES, relative), 'utf8');

const lines = (relative: string) => fixtureText(relative).split('\n').filter((line) => line !== '');

/**
 * One run of capture.sh: a project `fixtures-<hex>` with a child, driven through the same sequence of changes.
 * The second run is kept because Gerrit stamped one of its events a second after the change message.
 */
export const CAPTURES = ['fixtures-56abee', 'fixtures-a5da01'] as const;
export type Capture = (typeof CAPTURES)[number];

/** stream-events output exactly as the ssh channel delivered it, one event per line. */
export const streamLines = (capture: Capture = CAPTURES[0]): string[] => lines(`stream/${capture}.jsonl`);

/** The bodies the webhooks plugin POSTed, one per line (each body is one line of JSON). */
export const webhookBodies = (capture: Capture = CAPTURES[0]): string[] => lines(`webhook/${capture}.jsonl`);

/** `GET /a/changes/?q=project:… after:…&o=ALL_REVISIONS&o=ALL_COMMITS&o=MESSAGES&o=DETAILED_ACCOUNTS&o=DETAILED_LABELS`, as the bot. */
export const restChanges = (capture: Capture = CAPTURES[0]): unknown[] =>
  JSON.parse(stripXssiPrefix(fixtureText(`rest/${capture}.json`))) as unknown[];

/**
 * A captured body as Gerrit's real webhooks plugin would have sent it. The rig's stand-in serialises with
 * Gerrit's own event Gson, like stream-events; the plugin uses a plain Gson, which writes the top-level
 * `project` (a Project.NameKey) as `{"name": …}` and `changeKey` (a Change.Key) as `{"key": …}`.
 */
export function asWebhooksPluginBody(body: string): string {
  const event = JSON.parse(body) as Record<string, unknown>;
  if (typeof event.project === 'string') event.project = { name: event.project };
  const changeKey = event.changeKey as { id?: unknown } | undefined;
  if (changeKey && typeof changeKey.id === 'string') event.changeKey = { key: changeKey.id };
  return JSON.stringify(event);
}
