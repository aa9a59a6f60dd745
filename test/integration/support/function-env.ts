// The other half of the environment check in `make manifests-check`: runs each program's own start-up
// configuration check (what functions-framework runs before it listens) against the environment its manifest
// gives it, with an env object that records every variable the code asks for. A problem the check reports is a
// gap in the manifest; a variable the manifest sets that the code never asked for is an orphan.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import ssh2 from 'ssh2';
import { ConfigError, type Env } from '../../../shared/env.js';
import { startCapacityReport } from '../../../functions/capacity-report/index.js';
import { startCommentAdded } from '../../../functions/comment-added/index.js';
import { startDeadLetter } from '../../../functions/dead-letter/index.js';
import { startGerritWebhook } from '../../../functions/gerrit-webhook/index.js';
import { startPatchsetCreated } from '../../../functions/patchset-created/index.js';
import { startProjectConfigChanged } from '../../../functions/project-config-changed/index.js';
import { startReconcile } from '../../../functions/reconcile/index.js';
import { startStatus } from '../../../functions/status/index.js';
import { startWorkflowCompleted } from '../../../functions/workflow-completed/index.js';
import { startWorkflowWatch } from '../../../functions/workflow-watch/index.js';
import { gerritStreamFromEnv } from '../../../sources/gerrit-stream/configure.js';
import type { WorkloadEnvironment } from '../../support/manifests.js';

/** Each deployed program's start-up: the function's start check, or gerrit-stream's construction. */
export const START_UPS: Readonly<Record<string, (env: Env) => unknown>> = {
  'capacity-report': startCapacityReport,
  'comment-added': startCommentAdded,
  'dead-letter': startDeadLetter,
  'gerrit-webhook': startGerritWebhook,
  'patchset-created': startPatchsetCreated,
  'project-config-changed': startProjectConfigChanged,
  reconcile: startReconcile,
  status: startStatus,
  'workflow-completed': startWorkflowCompleted,
  'workflow-watch': startWorkflowWatch,
  'gerrit-stream': gerritStreamFromEnv,
};

/** Set on purpose for someone other than our code: functions-framework (FUNCTION_TARGET) and node itself. */
const READ_BY_OTHERS = new Set(['FUNCTION_TARGET', 'NODE_OPTIONS']);

/** A secret file's content as a mounted Secret would provide it: long enough for every minimum length. */
const FILE_CONTENT = 'placeholder-secret-file-content-0123456789\n';
/** Files whose content is checked at start-up: gerrit-stream's SSH key must parse as one. */
const FILE_CONTENT_OF: Readonly<Record<string, () => string>> = {
  GERRIT_SSH_KEY: () => ssh2.utils.generateKeyPairSync('ed25519').private,
};

/**
 * Problems with one workload's environment: what its start-up check refuses (gaps, bad values) and what it sets
 * that its code never reads (orphans). `platform` stands in for what the cluster provides on its own (the pod's
 * ServiceAccount, as a KUBECONFIG).
 */
export function checkEnvironment(workload: WorkloadEnvironment, platform: Record<string, string>): string[] {
  const start = START_UPS[workload.program];
  if (!start) return [`${workload.workload}: no start-up known for ${workload.program}`];
  const dir = mkdtempSync(path.join(tmpdir(), 'seakeeper-env-'));
  try {
    const vars: Record<string, string> = { ...workload.vars, ...platform };
    for (const name of workload.mountedFiles) {
      const file = path.join(dir, name);
      writeFileSync(file, FILE_CONTENT_OF[name]?.() ?? FILE_CONTENT);
      vars[name] = file;
    }
    const read = new Set<string>();
    const env = new Proxy(vars, {
      get: (target, key) => {
        if (typeof key === 'string') read.add(key);
        return Reflect.get(target, key);
      },
      ownKeys: () => {
        throw new Error('the start-up enumerated its environment, so what it reads cannot be told');
      },
    });
    const problems: string[] = [];
    try {
      start(env);
    } catch (err) {
      if (err instanceof ConfigError) problems.push(...err.problems.map((p) => `${workload.workload}: ${p}`));
      else problems.push(`${workload.workload}: start-up failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    for (const name of Object.keys(workload.vars)) {
      if (READ_BY_OTHERS.has(name) || read.has(name)) continue;
      const how = workload.injected.includes(name) ? 'gets injected' : 'sets';
      problems.push(`${workload.workload}: ${how} ${name}, which ${workload.program} never reads`);
    }
    return problems;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
