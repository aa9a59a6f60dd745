// Registers the functions with functions-framework; one process serves the one named by --target
// (FUNCTION_TARGET), so each Knative Service runs the same image with a different target. A process serving one
// of them imports that one's module only: the others' dependencies (@kubernetes/client-node for provisioning,
// ssh2, …) would cost every function memory and start-up time (bench/README.md, "patchset-created and
// workflow-completed"). Without a known target (tests, tools) every function is registered.
// functions-framework awaits this module's import before it looks the target up.
import { cloudEvent, http, type CloudEventFunction, type HttpFunction } from '@google-cloud/functions-framework';
import { servedFunction, startServedFunction } from '../shared/events/framework.js';

type Loaded = { kind: 'http'; handler: HttpFunction; start?: () => unknown } | { kind: 'cloudEvent'; handler: CloudEventFunction<unknown>; start?: () => unknown };

const FUNCTIONS: Readonly<Record<string, () => Promise<Loaded>>> = {
  'gerrit-webhook': async () => {
    const m = await import('./gerrit-webhook/index.js');
    return { kind: 'http', handler: m.gerritWebhook, start: () => m.startGerritWebhook() };
  },
  'patchset-created': async () => {
    const m = await import('./patchset-created/index.js');
    return { kind: 'cloudEvent', handler: m.patchsetCreated, start: () => m.startPatchsetCreated() };
  },
  'comment-added': async () => {
    const m = await import('./comment-added/index.js');
    return { kind: 'cloudEvent', handler: m.commentAdded, start: () => m.startCommentAdded() };
  },
  'project-config-changed': async () => {
    const m = await import('./project-config-changed/index.js');
    return { kind: 'cloudEvent', handler: m.projectConfigChanged, start: () => m.startProjectConfigChanged() };
  },
  'workflow-watch': async () => {
    const m = await import('./workflow-watch/index.js');
    return { kind: 'cloudEvent', handler: m.workflowWatch, start: () => m.startWorkflowWatch() };
  },
  'workflow-completed': async () => {
    const m = await import('./workflow-completed/index.js');
    return { kind: 'cloudEvent', handler: m.workflowCompleted, start: () => m.startWorkflowCompleted() };
  },
  reconcile: async () => {
    const m = await import('./reconcile/index.js');
    return { kind: 'cloudEvent', handler: m.reconcile, start: () => m.startReconcile() };
  },
  'capacity-report': async () => {
    const m = await import('./capacity-report/index.js');
    return { kind: 'cloudEvent', handler: m.capacityReport, start: () => m.startCapacityReport() };
  },
  'dead-letter': async () => {
    const m = await import('./dead-letter/index.js');
    return { kind: 'cloudEvent', handler: m.deadLetter, start: () => m.startDeadLetter() };
  },
  status: async () => {
    const m = await import('./status/index.js');
    return { kind: 'http', handler: m.status, start: () => m.startStatus() };
  },
};

const target = servedFunction();
const starts: Record<string, () => unknown> = {};
for (const name of Object.hasOwn(FUNCTIONS, target) ? [target] : Object.keys(FUNCTIONS)) {
  const loaded = await FUNCTIONS[name]!();
  if (loaded.kind === 'http') http(name, loaded.handler);
  else cloudEvent(name, loaded.handler);
  if (loaded.start) starts[name] = loaded.start;
}

// The function this process serves checks its configuration now, before functions-framework listens.
startServedFunction(starts, undefined, target);
