// Registers every function with functions-framework; one process serves the one named by --target
// (FUNCTION_TARGET), so each Knative Service runs the same image with a different target.
import { cloudEvent, http } from '@google-cloud/functions-framework';
import { commentAdded } from './comment-added/index.js';
import { deadLetter } from './dead-letter/index.js';
import { gerritWebhook } from './gerrit-webhook/index.js';
import { patchsetCreated } from './patchset-created/index.js';
import { projectConfigChanged } from './project-config-changed/index.js';
import { reconcile } from './reconcile/index.js';
import { workflowCompleted } from './workflow-completed/index.js';
import { workflowWatch } from './workflow-watch/index.js';

http('gerrit-webhook', gerritWebhook);
cloudEvent('patchset-created', patchsetCreated);
cloudEvent('comment-added', commentAdded);
cloudEvent('project-config-changed', projectConfigChanged);
cloudEvent('workflow-watch', workflowWatch);
cloudEvent('workflow-completed', workflowCompleted);
cloudEvent('reconcile', reconcile);
cloudEvent('dead-letter', deadLetter);
