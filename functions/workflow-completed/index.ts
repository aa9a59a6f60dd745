// workflow.completed: reports to Gerrit (check pipelines) or takes the gating decision (gate pipelines).
// Until its issue lands it refuses every event, so nothing is acknowledged without being handled.
import { cloudEventFunction, notImplemented } from '../../shared/events/handler.js';

export const workflowCompleted = cloudEventFunction('workflow-completed', notImplemented('workflow-completed'));
