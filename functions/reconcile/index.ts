// PingSource ticks: repairs whatever an outage made the event-driven functions miss.
// Until its issue lands it refuses every event, so nothing is acknowledged without being handled.
import { cloudEventFunction, notImplemented } from '../../shared/events/handler.js';

export const reconcile = cloudEventFunction('reconcile', notImplemented('reconcile'));
