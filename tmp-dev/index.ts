// TEMPORARY (not for commit): serves my patchset-created until the provisioning helper hands off.
import { cloudEvent } from '@google-cloud/functions-framework';
import { cloudEventFunction } from '../shared/events/handler.js';
import { PipelineTrigger } from '../shared/pipelines/submit.js';
let served: PipelineTrigger | undefined;
cloudEvent('patchset-created', cloudEventFunction('patchset-created', (event) => (served ??= PipelineTrigger.fromEnv()).handle(event)));
