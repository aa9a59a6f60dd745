// Gerrit's webhooks plugin POSTs stream-events JSON here; this turns each into a CloudEvent for the Broker.
// Until its issue lands it answers 501, so Gerrit keeps the event and retries instead of believing it delivered.
import { httpFunction, notImplemented } from '../../shared/events/handler.js';

export const gerritWebhook = httpFunction('gerrit-webhook', notImplemented('gerrit-webhook'));
