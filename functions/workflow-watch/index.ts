// Argo Workflow updates from the ApiServerSource: emits workflow.completed when a Workflow finishes.
// Until its issue lands it refuses every event, so nothing is acknowledged without being handled.
import { cloudEventFunction, notImplemented } from '../../shared/events/handler.js';

export const workflowWatch = cloudEventFunction('workflow-watch', notImplemented('workflow-watch'));
