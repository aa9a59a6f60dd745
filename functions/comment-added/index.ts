// gerrit.comment-added (and change-merged / change-abandoned): `recheck`, gate entry on Code-Review+2, dequeues.
// Until its issue lands it refuses every event, so nothing is acknowledged without being handled.
import { cloudEventFunction, notImplemented } from '../../shared/events/handler.js';

export const commentAdded = cloudEventFunction('comment-added', notImplemented('comment-added'));
