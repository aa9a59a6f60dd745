// The shell of the config check before merge (the pure check is config-check.ts): a patch set on
// refs/meta/config is read at its own revision — the files it touches, seakeeper.yaml, and the workflow files
// that seakeeper.yaml names — checked, and voted on: Verified +1, or -1 with every problem located. Workflow
// files are checked against the same policy as at submission (workflow-policy.ts's workflowValidator, with the
// resources the seakeeper.yaml under review gives the namespace), so an owner learns before merging what the
// pipelines would refuse.
//
// Once per patch set: the vote goes through the vote path (reporting/post-once.ts), claimed on the change's
// config-check Lease; the change's messages, read first anyway, show a vote a delivery before this one posted
// (its message carries CONFIG_CHECK_TAG). A patch set that is no longer current, or a change that is closed,
// gets no vote (a newer patch set has its own event).
import { PermanentError } from '../errors.js';
import type { InboundEvent } from '../events/handler.js';
import { parseGerritEvent } from '../events/gerrit-event.js';
import { changedPaths, type GerritApi } from '../gerrit/client.js';
import { checkConfigChange, CONFIG_CHECK_LABEL, CONFIG_CHECK_TAG } from '../config/config-check.js';
import { loadEnv, type Env } from '../env.js';
import type { Policy } from '../config/policy.js';
import { loadAll, policyFromEnv, type SharedParts } from '../config/policy-env.js';
import { gerritClientFromEnv } from '../gerrit/env.js';
import { systemNamespaceEnv } from '../k8s/env.js';
import { httpClusterFromEnv } from '../k8s/http-cluster.js';
import { log as processLog, type Logger } from '../log.js';
import { ChangeLeases, CONFIG_CHECK_LEASE, CONFIG_CHECK_MARKER } from '../reporting/leases.js';
import type { PostedMessage } from '../reporting/messages.js';
import { postOnce } from '../reporting/post-once.js';
import { CONFIG_FILE, CONFIG_REF, parseProjectConfig, workflowFiles } from '../config/project-config.js';
import { workflowValidator } from './workflow-policy.js';

export interface PatchSetToCheck {
  readonly project: string;
  readonly change: number;
  readonly patchSet: number;
  readonly revision: string;
}

/** Whether the event is a patch set of refs/meta/config: the config check's, not the pipelines'. */
export function isConfigPatchSet(event: InboundEvent): boolean {
  const parsed = parseGerritEvent(event.data);
  return parsed.ok && parsed.event.kind === 'patchset-created' && parsed.event.change.branch === CONFIG_REF;
}

/**
 * The patch set a gerrit.patchset-created event announces on refs/meta/config. Any other branch is the
 * pipelines' work (patchset-created routes it there): a PermanentError here.
 */
export function patchSetToCheck(event: InboundEvent): PatchSetToCheck {
  const parsed = parseGerritEvent(event.data);
  if (!parsed.ok) throw new PermanentError(`event data is not a Gerrit event: ${parsed.reason}`);
  const gerrit = parsed.event;
  if (gerrit.kind !== 'patchset-created') throw new PermanentError(`a Gerrit ${gerrit.type} is not a patchset-created`);
  if (gerrit.change.branch !== CONFIG_REF) throw new PermanentError(`the config check takes patch sets of ${CONFIG_REF}, not of ${gerrit.change.branch}`);
  const revision = gerrit.patchSet.revision;
  if (revision === undefined) throw new PermanentError('patchset-created without patchSet.revision');
  return { project: gerrit.project, change: gerrit.change.number, patchSet: gerrit.patchSet.number, revision };
}

export type ConfigReviewGerrit = Pick<GerritApi, 'getChange' | 'listRevisionFiles' | 'getFileContentAt' | 'postReview'>;

export type ConfigReviewResult =
  | { readonly result: 'voted'; readonly vote: 1 | -1; readonly problems: number }
  /** The patch set touches nothing Seakeeper reads. */
  | { readonly result: 'not-relevant' }
  /** in-progress: a twin delivery holds the claim and is posting. */
  | { readonly result: 'already-reported' | 'in-progress' | 'superseded' | 'closed' };

/** Whether a message with the config check's tag was posted on this patch set. */
export function alreadyReported(messages: readonly PostedMessage[], patchSet: number): boolean {
  return messages.some((m) => m.tag === CONFIG_CHECK_TAG && m._revision_number === patchSet);
}

export interface ConfigReviewDeps {
  readonly gerrit: ConfigReviewGerrit;
  readonly policy: Policy;
  readonly leases: ChangeLeases;
  readonly logger?: Logger;
}

export async function reviewConfigChange(target: PatchSetToCheck, { gerrit, policy, leases, logger = processLog }: ConfigReviewDeps): Promise<ConfigReviewResult> {
  const changeId = `${target.project}~${target.change}`;
  const change = await gerrit.getChange(changeId, ['CURRENT_REVISION', 'MESSAGES']);
  if (change.status !== 'NEW') return { result: 'closed' };
  if (change.current_revision !== target.revision) return { result: 'superseded' };
  if (alreadyReported(change.messages ?? [], target.patchSet)) return { result: 'already-reported' };

  const read = (path: string) => gerrit.getFileContentAt(target.project, target.revision, path);
  const [files, seakeeperYaml] = await Promise.all([gerrit.listRevisionFiles(changeId, target.revision), read(CONFIG_FILE)]);
  // Gerrit lists a commit's changes, not its tree: the files the check needs to see are seakeeper.yaml and the
  // workflow files it names, each looked up at the revision (absent ones read as undefined).
  const parsed = seakeeperYaml === undefined ? undefined : parseProjectConfig(seakeeperYaml, policy);
  const named = parsed?.ok ? workflowFiles(parsed.config) : [];
  const texts = await Promise.all(named.map(async (path) => [path, await read(path)] as const));
  const workflowTexts = new Map(texts.filter((entry): entry is readonly [string, string] => entry[1] !== undefined));
  const check = checkConfigChange(
    {
      changedFiles: changedPaths(files),
      seakeeperYaml,
      files: [...(seakeeperYaml === undefined ? [] : [CONFIG_FILE]), ...workflowTexts.keys()],
      workflowTexts,
      project: target.project,
    },
    policy,
    workflowValidator(parsed?.ok ? { resources: parsed.config.resources } : {}),
  );
  if (!check.relevant) return { result: 'not-relevant' };
  const posted = await postOnce(
    gerrit,
    {
      claim: () => leases.claim(CONFIG_CHECK_LEASE, CONFIG_CHECK_MARKER, target),
      plan: () => ({
        changeId,
        revision: target.revision,
        review: { message: check.message, labels: { [CONFIG_CHECK_LABEL]: check.vote }, tag: CONFIG_CHECK_TAG, notify: 'OWNER' },
        submit: false,
      }),
      onChange: (messages) => alreadyReported(messages, target.patchSet),
      messages: change.messages ?? [],
    },
    logger,
  );
  if (posted.result === 'not-claimed') return { result: posted.reason === 'in-progress' ? 'in-progress' : 'already-reported' };
  if (posted.result === 'already-posted') return { result: 'already-reported' };
  return { result: 'voted', vote: check.vote, problems: check.problems.length };
}

/** The config check as the patchset-created function runs it, built once from the environment. */
export class ConfigReviewer {
  constructor(readonly deps: ConfigReviewDeps) {}

  /**
   * GERRIT_* (an account that may vote Verified on refs/meta/config), SEAKEEPER_POLICY_FILE, and the cluster
   * (KUBECONFIG, else the pod's ServiceAccount) with SEAKEEPER_NAMESPACE, where the claims' Leases are; the
   * clients and policy in `shared` are used as they are.
   */
  static fromEnv(env: Env = process.env, shared: SharedParts = {}): ConfigReviewer {
    const [gerrit, policy, cluster, config] = loadAll(
      () => shared.gerrit ?? gerritClientFromEnv(env),
      () => shared.policy ?? policyFromEnv(env),
      () => shared.cluster ?? httpClusterFromEnv(env),
      () => loadEnv(systemNamespaceEnv, env),
    );
    const leases = new ChangeLeases(cluster, config.SEAKEEPER_NAMESPACE);
    return new ConfigReviewer({ gerrit, policy, leases });
  }

  async handle(event: InboundEvent): Promise<ConfigReviewResult> {
    return reviewConfigChange(patchSetToCheck(event), this.deps);
  }
}
