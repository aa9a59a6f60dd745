// Starting one run, shared by the independent pipelines (carry-out.ts) and the gate (gate.ts): create the
// Workflow holding its start message's claim (AlreadyExists = a redelivery), create its change ConfigMap owned
// by it, and post the start message through the vote path, once however often this is called.
//
// The start message is claimed on the run (START_MARKER): by the create that made it, else now, so a twin
// delivery or a redelivery posts it once, and never once the run is being reported or was (startDecision).
import type { ClusterApi, ClusterObject } from '../k8s/cluster.js';
import type { Logger } from '../log.js';
import { ARGO_API_VERSION, WORKFLOW_KIND } from '../names.js';
import { createdClaim, heldMarker } from '../reporting/claims.js';
import { claimPatch, START_MARKER } from '../reporting/markers.js';
import { reviewAlreadyPosted, type ReviewPlan } from '../reporting/messages.js';
import { postOnce, type PostGerrit, type PostResult } from '../reporting/post-once.js';
import { START_PHASE, startDecision } from '../reporting/report.js';
import { TransientError } from '../errors.js';
import type { LiveWorkflow, Workflow } from '../runs/workflow.js';
import { workflowObject, type WorkflowRef } from '../runs/workflow-store.js';
import type { ChangeConfigMap } from './workflow-builder.js';
import type { EffectiveConfig } from '../config/inheritance.js';
import type { ConfigProblem } from '../config/yaml.js';
import type { EventConfigReader } from './config-source.js';
import { readDefinition, wantedDefinition } from './definitions.js';
import { planRefTrigger } from './managers.js';
import type { RefTrigger } from './triggers.js';

export interface RunStartDeps {
  readonly gerrit: PostGerrit;
  readonly cluster: Pick<ClusterApi, 'create' | 'get' | 'patch'>;
  readonly logger: Logger;
}

export interface RunToStart {
  readonly workflow: Workflow;
  readonly environment: ChangeConfigMap;
  readonly start?: ReviewPlan | undefined;
  /** The patch set the start message is about (to recognise it among the change's messages). */
  readonly patchset: number;
}

export interface RunStarted {
  readonly ref: WorkflowRef;
  /** False when the Workflow already existed (a redelivery). */
  readonly created: boolean;
  /** The start message's fate, as reviewField says; absent when there is none. */
  readonly review?: string;
}

/** Creates the run and its ConfigMap and posts its start message. Throws when the ConfigMap could not be made. */
export async function startRun(deps: RunStartDeps, run: RunToStart): Promise<RunStarted> {
  const { workflow } = run;
  const ref = { namespace: workflow.metadata.namespace, name: workflow.metadata.name };
  // The create takes the start message's claim: the run is born holding it, and the delivery that created
  // it posts before anything else can fail (a redelivery finds the claim done, or free once given back).
  const claim = run.start ? claimPatch(START_MARKER, START_PHASE, new Date()).metadata.annotations : {};
  const object = { ...workflow, metadata: { ...workflow.metadata, annotations: { ...workflow.metadata.annotations, ...claim } } };
  const created = await deps.cluster.create(object as unknown as ClusterObject & LiveWorkflow);
  const made = created.created ? created.object : undefined;
  // The run's pods wait for their ConfigMap: without it the event must be redelivered, which makes it. It is
  // made before the start message, so a start message posted means a ConfigMap made (the gate relies on it).
  await createEnvironment(deps, run.environment, made);
  const posted = run.start ? await postStart(deps, run.start, ref, made, run.patchset) : undefined;
  return { ref, created: created.created, ...(posted ? { review: posted } : {}) };
}

/**
 * A ref pipeline's run (runs/ref-run.ts), for an event (carry-out.ts) or a timer (timers.ts): its definition read
 * as the project's configuration says, checked, and the run created with its ConfigMap; nothing posted. A refused
 * definition starts nothing and says why.
 */
export async function startRefRun(
  deps: RunStartDeps,
  trigger: RefTrigger,
  eventId: string,
  effective: Extract<EffectiveConfig, { kind: 'configured' }>,
  reader: EventConfigReader,
): Promise<{ readonly refused: readonly ConfigProblem[] } | { readonly started: RunStarted }> {
  const definition = await readDefinition(deps.cluster, trigger.subject.project, wantedDefinition(trigger.projectPipeline), effective, reader);
  const plan = planRefTrigger({ trigger, eventId, definition });
  if (plan.action === 'refused') return { refused: plan.problems };
  return { started: await startRun(deps, { workflow: plan.workflow, environment: plan.environment, patchset: 0 }) };
}

/**
 * The run's change ConfigMap, owned by the run so that it goes when the run goes (Argo's TTL, or an owner
 * deleting it). A redelivery reads the run for its uid and finds the ConfigMap made, or makes it.
 */
async function createEnvironment(deps: RunStartDeps, environment: ChangeConfigMap, created: LiveWorkflow | undefined): Promise<void> {
  const { cluster } = deps;
  const { namespace, name } = environment.metadata;
  const run = created ?? (await cluster.get<LiveWorkflow & ClusterObject>(ARGO_API_VERSION, WORKFLOW_KIND, namespace, name));
  if (run?.metadata.uid === undefined) throw new TransientError(`the run ${namespace}/${name} is not readable to own its change ConfigMap`);
  const ownerReferences = [{ apiVersion: ARGO_API_VERSION, kind: WORKFLOW_KIND, name, uid: run.metadata.uid }];
  await cluster.create({ ...environment, metadata: { ...environment.metadata, ownerReferences } } as ClusterObject);
}

/** The start message is news, not state: when it cannot be posted the run goes on, and the failure is logged. */
async function postStart(deps: RunStartDeps, plan: ReviewPlan, ref: WorkflowRef, created: LiveWorkflow | undefined, patchset: number): Promise<string> {
  const { cluster, gerrit } = deps;
  const now = () => new Date();
  try {
    const posted = await postOnce(
      gerrit,
      {
        claim: async () =>
          created
            ? createdClaim(cluster, workflowObject(ref), START_MARKER, created, START_PHASE, created.metadata.annotations![START_MARKER.claim]!)
            : heldMarker(cluster, workflowObject(ref), undefined, START_MARKER, (run: LiveWorkflow) => startDecision(run, now()), now),
        plan: () => plan,
        onChange: (messages) => reviewAlreadyPosted(messages, plan, patchset),
      },
      deps.logger,
    );
    return reviewField(posted);
  } catch (err) {
    deps.logger.warn({ fn: 'pipelines', workflow: `${ref.namespace}/${ref.name}`, change: plan.changeId, err }, 'the start message was not posted');
    return 'failed';
  }
}

/** A post's fate in one word, for log lines. */
export function reviewField(posted: PostResult<unknown>): string {
  if (posted.result === 'not-claimed') return posted.reason;
  if (posted.result === 'already-posted') return 'already-posted';
  return posted.notVoted ? 'not-voted' : 'posted';
}
