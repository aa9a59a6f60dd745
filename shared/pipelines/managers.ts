// Pipeline managers, one per kind (Zuul's zuul/manager/): what to do when a change is enqueued into a
// pipeline. Pure: a manager says what it needs fetched (`needs`), and turns the trigger plus what was fetched
// into a Plan the shell carries out. This is where "what happens when a pipeline triggers" is decided.
//
//   independent  each change on its own (Zuul's check): skip a stale event, check the definition, build the
//                Workflow, stop the runs it supersedes, post the start message.
//   dependent    shared gate queues (Zuul's gate): its plan is `enqueue`, carried out by the gate's shell
//                (gate.ts), which reads the change from Gerrit and decides through the queue's core.
//
// The shell, per trigger (see triggeredPipelines):
//   1. needs = managerFor(trigger.pipeline).needs(trigger); fetch needs.definition (a file from refs/meta/config
//      of the project whose seakeeper.yaml applies — EffectiveConfig.source — or a WorkflowTemplate from the
//      namespace) and list needs.runs (Workflows by label selector in the namespace)
//   2. plan = planTrigger({trigger, eventId, definition, existing, argoUiUrl})
//   3. start: create plan.workflow (holding plan.start's claim, if any), create plan.environment owned by it
//      (AlreadyExists = done) while posting plan.start through the vote path, then apply each plan.stop patch (also when the create answered AlreadyExists: a redelivery finishes what
//      an earlier delivery could not, and runsToStop never names a run newer than this one).
//      reject: apply plan.stop, post plan.review through the vote path, acknowledge (a permanent fault of the
//      project's definition, shown to its owners on the change).
//      enqueue: the gate's shell (gate.ts). skip: log plan.reason. not-implemented: log, finish the other plans,
//      then throw NotImplementedError.
import type { ConfigProblem } from '../config/yaml.js';
import { namespaceFor } from '../names.js';
import { dependencyCycleReview, rejectionReview, startReview, type ReviewPlan } from '../reporting/messages.js';
import type { QueuedChange } from './change-queue.js';
import { changesText } from './gate-plan.js';
import type { ManagerKind, Pipeline } from '../config/pipeline-config.js';
import { wantedDefinition } from './definitions.js';
import { newerRun, runsToStop, type StopOrder } from './runs.js';
import type { RefTrigger, Trigger } from './triggers.js';
import { buildRefWorkflow, buildWorkflow, workflowName, type ChangeConfigMap } from './workflow-builder.js';
import { checkDefinition, type DefinitionInput } from './workflow-policy.js';
import { argoWorkflowUrl, CHANGES_VARIABLE, DEPENDENCIES_ANNOTATION, dependenciesAnnotation, GIT_URL_VARIABLE, runSelector, type LiveWorkflow, type Workflow } from '../runs/workflow.js';

/** What the shell fetches for a trigger before asking for a plan. */
export interface ManagerNeeds {
  /** The definition: a file on refs/meta/config, or a WorkflowTemplate in the project's namespace. */
  readonly definition?: { readonly kind: 'file'; readonly path: string } | { readonly kind: 'template'; readonly name: string };
  /** The Workflows to list (label selector, in the namespace) and pass as `existing`. */
  readonly runs?: { readonly namespace: string; readonly selector: string };
  /** The change's open dependencies (dependencies.ts), resolved and passed as `dependencies`. */
  readonly dependencies?: boolean;
}

/** A change's open dependencies as a run tests them. */
export interface RunDependencies {
  /** In merge order, the change itself last (its trigger's patch set). */
  readonly changes: readonly QueuedChange[];
  /** Set instead when they form a cycle: the changes, the first repeated at the end. */
  readonly cycle?: readonly number[];
  /** Footers that were not followed, one sentence each. */
  readonly problems: readonly string[];
  /** SEAKEEPER_GIT_URL of the run. */
  readonly gitUrl: string;
}

export interface PlanInput {
  readonly trigger: Trigger;
  /** The triggering CloudEvent's id. */
  readonly eventId: string;
  /** As fetched for needs.definition. */
  readonly definition?: DefinitionInput;
  /** As listed for needs.runs. */
  readonly existing?: readonly LiveWorkflow[];
  /** ARGO_UI_URL, for links in messages. */
  readonly argoUiUrl: string;
  /** As resolved for needs.dependencies. */
  readonly dependencies?: RunDependencies;
}

export type Plan =
  /** Create `workflow`; apply `stop` (created or AlreadyExists); post `start` only if it was created. */
  | {
      readonly action: 'start';
      readonly pipeline: string;
      readonly workflow: Workflow;
      /** The run's change ConfigMap (the exact change text its containers get as environment). */
      readonly environment: ChangeConfigMap;
      /** What the policy changed in the definition. */
      readonly notes: readonly string[];
      readonly stop: readonly StopOrder[];
      readonly start?: ReviewPlan | undefined;
    }
  /** The definition breaks the policy: stop older patchsets' runs, post `review` (the pipeline's failure vote). */
  | { readonly action: 'reject'; readonly pipeline: string; readonly problems: readonly ConfigProblem[]; readonly stop: readonly StopOrder[]; readonly review: ReviewPlan }
  /** A dependent pipeline: hand the trigger to the gate (gate.ts). */
  | { readonly action: 'enqueue'; readonly pipeline: string }
  /** Nothing to do (a stale event). */
  | { readonly action: 'skip'; readonly pipeline: string; readonly reason: string }
  /** The pipeline's manager does not exist yet: the shell must not acknowledge the event as handled. */
  | { readonly action: 'not-implemented'; readonly pipeline: string; readonly reason: string };

export interface PipelineManager {
  readonly kind: ManagerKind;
  readonly implemented: boolean;
  needs(trigger: Trigger): ManagerNeeds;
  plan(input: PlanInput): Plan;
}

/** Shared by the managers: where the definition and the runs of a trigger are. */
function standardNeeds(trigger: Trigger): ManagerNeeds {
  const { projectPipeline, change, pipeline } = trigger;
  return {
    definition: wantedDefinition(projectPipeline),
    runs: { namespace: namespaceFor(change.project), selector: runSelector(change.project, pipeline.name, change.number) },
  };
}

/** Zuul's independent pipeline manager. */
export const independentManager: PipelineManager = {
  kind: 'independent',
  implemented: true,
  needs: (trigger) => ({ ...standardNeeds(trigger), dependencies: true }),
  plan({ trigger, eventId, definition, existing = [], argoUiUrl, dependencies }: PlanInput): Plan {
    const { pipeline, change } = trigger;
    const newer = newerRun(existing, { pipeline: pipeline.name, change: change.number, patchset: change.patchset });
    if (newer !== undefined) {
      return { action: 'skip', pipeline: pipeline.name, reason: `patchset ${change.patchset} is stale: patchset ${newer} of change ${change.number} already ran in ${pipeline.name}` };
    }
    if (!definition) throw new Error(`planTrigger(${pipeline.name}): the definition named by needs() was not passed`);
    const name = workflowName(pipeline.name, change.number, change.patchset, eventId);

    const checked = checkDefinition(definition, { resources: trigger.resources });
    if (!checked.ok) {
      const source = definition.kind === 'file' ? definition.file : `WorkflowTemplate/${definition.name}`;
      const older = runsToStop(existing, { pipeline: pipeline.name, change: change.number, patchset: change.patchset, name }, { samePatchset: false });
      return { action: 'reject', pipeline: pipeline.name, problems: checked.problems, stop: older, review: rejectionReview(pipeline, change, source, checked.problems) };
    }

    if (dependencies?.cycle) {
      const older = runsToStop(existing, { pipeline: pipeline.name, change: change.number, patchset: change.patchset, name }, { samePatchset: false });
      return { action: 'reject', pipeline: pipeline.name, problems: [], stop: older, review: dependencyCycleReview(pipeline, change, dependencies.cycle) };
    }
    // The checkout (config/gate/checkout.sh) merges what the change depends on, then the change, as in the gate.
    const speculative = dependencies ? { environment: { [CHANGES_VARIABLE]: changesText(dependencies.changes), [GIT_URL_VARIABLE]: dependencies.gitUrl } } : {};
    const ahead = (dependencies?.changes ?? []).slice(0, -1);
    const tested = ahead.map((c) => `${c.project} change ${c.change}, patch set ${c.patchset}`);
    // The report names them too: the run carries them, as its other texts, in their safe form.
    const named = ahead.length > 0 ? { annotations: { [DEPENDENCIES_ANNOTATION]: dependenciesAnnotation(ahead) } } : {};
    const { workflow, environment, notes } = buildWorkflow({ trigger, eventId, definition: checked.definition, ...speculative, ...named });
    const url = argoWorkflowUrl(argoUiUrl, workflow.metadata.namespace, workflow.metadata.name);
    return {
      action: 'start',
      pipeline: pipeline.name,
      workflow,
      environment,
      notes,
      stop: runsToStop(existing, { pipeline: pipeline.name, change: change.number, patchset: change.patchset, name }),
      start: startReview(pipeline, change, url, notes, { tested, problems: dependencies?.problems ?? [] }),
    };
  },
};

/**
 * Zuul's dependent pipeline manager: the trigger goes to the gate's shell (gate.ts), which checks the change
 * against Gerrit and enqueues it; the queue (change-queue.ts) decides the runs.
 */
export const dependentManager: PipelineManager = {
  kind: 'dependent',
  implemented: true,
  needs: () => ({}),
  plan({ trigger }: PlanInput): Plan {
    return { action: 'enqueue', pipeline: trigger.pipeline.name };
  },
};

const MANAGERS: Readonly<Record<ManagerKind, PipelineManager>> = { independent: independentManager, dependent: dependentManager };

export function managerFor(pipeline: Pipeline): PipelineManager {
  return MANAGERS[pipeline.manager];
}

/** What to do about a ref trigger (change-merged, ref-updated): start its run, or log why its definition is refused. */
export type RefPlan =
  | { readonly action: 'start'; readonly pipeline: string; readonly workflow: Workflow; readonly environment: ChangeConfigMap; readonly notes: readonly string[] }
  | { readonly action: 'refused'; readonly pipeline: string; readonly problems: readonly ConfigProblem[] };

/**
 * A ref run (runs/ref-run.ts): the definition checked as any run's, the run built; nothing to supersede (every
 * revision a ref moves to is tested, in order of the events) and no start message (nobody waits for a vote). A
 * refused definition is the owner's to see in the config check of their refs/meta/config; here it is logged.
 */
export function planRefTrigger(input: { readonly trigger: RefTrigger; readonly eventId: string; readonly definition: DefinitionInput }): RefPlan {
  const { trigger, eventId, definition } = input;
  const checked = checkDefinition(definition, { resources: trigger.resources });
  if (!checked.ok) return { action: 'refused', pipeline: trigger.pipeline.name, problems: checked.problems };
  const { workflow, environment, notes } = buildRefWorkflow({ trigger, eventId, definition: checked.definition });
  return { action: 'start', pipeline: trigger.pipeline.name, workflow, environment, notes };
}

/** The plan for one trigger, by its pipeline's manager. */
export function planTrigger(input: PlanInput): Plan {
  return managerFor(input.trigger.pipeline).plan(input);
}
