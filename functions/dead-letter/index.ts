// Events Knative gave up delivering: makes each one visible to a human instead of dropping it.
// Until its issue lands it refuses every event, so nothing is acknowledged without being handled.
import { cloudEventFunction, notImplemented } from '../../shared/events/handler.js';

export const deadLetter = cloudEventFunction('dead-letter', notImplemented('dead-letter'));
