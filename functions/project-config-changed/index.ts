// project.config-changed: provisions or updates the project's namespace after a change to refs/meta/config.
// Until its issue lands it refuses every event, so nothing is acknowledged without being handled.
import { cloudEventFunction, notImplemented } from '../../shared/events/handler.js';

export const projectConfigChanged = cloudEventFunction('project-config-changed', notImplemented('project-config-changed'));
