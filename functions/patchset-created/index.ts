// gerrit.patchset-created: resolves the project's config and submits the Workflows of every pipeline the new patchset triggers.
// Until its issue lands it refuses every event, so nothing is acknowledged without being handled.
import { cloudEventFunction, notImplemented } from '../../shared/events/handler.js';

export const patchsetCreated = cloudEventFunction('patchset-created', notImplemented('patchset-created'));
