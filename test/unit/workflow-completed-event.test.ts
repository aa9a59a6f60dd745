import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { completedEventId, shouldEmitCompleted, workflowCompletedEvent, workflowRefOf, WORKFLOW_COMPLETED_TYPE } from '../../shared/reporting/completed-event.js';
import { claimPatch, COMPLETED_EVENT_MARKER, donePatch } from '../../shared/reporting/markers.js';
import type { LiveWorkflow } from '../../shared/runs/workflow.js';
import { namespaceFor } from '../../shared/names.js';
import { liveWorkflow } from './support/pipelines.js';

const SOURCE = 'https://kubernetes.example.org:6443';
const NOW = new Date('2025-01-01T12:00:00Z');
const done = (phase: string, extra: Parameters<typeof liveWorkflow>[0] = {}) =>
  liveWorkflow({ uid: 'b1946ac9-2d8f-4c56-9a7e-0123456789ab', status: { phase, startedAt: '2025-01-01T10:00:00Z', finishedAt: '2025-01-01T10:04:12Z' }, ...extra });

const annotate = (w: LiveWorkflow, patch: { metadata: { annotations: Readonly<Record<string, string | null>> } }): LiveWorkflow => ({
  ...w,
  metadata: { ...w.metadata, annotations: { ...w.metadata.annotations, ...(patch.metadata.annotations as Record<string, string>) } },
});

test('the workflow.completed event of a finished run', () => {
  const w = done('Failed');
  const event = workflowCompletedEvent(w, { source: SOURCE })!;
  assert.is(event.type, WORKFLOW_COMPLETED_TYPE);
  assert.is(event.source, SOURCE);
  assert.is(event.id, completedEventId('b1946ac9-2d8f-4c56-9a7e-0123456789ab', 'Failed'));
  assert.match(event.id, /^workflow\.completed-[0-9a-f]{40}$/);
  assert.is(event.subject, `${namespaceFor('mediawiki/core')}/${w.metadata.name}`);
  assert.is(event.time, '2025-01-01T10:04:12.000Z');
  assert.equal(event.data, {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Workflow',
    namespace: namespaceFor('mediawiki/core'),
    name: w.metadata.name,
    uid: 'b1946ac9-2d8f-4c56-9a7e-0123456789ab',
    phase: 'Failed',
  });
  const attrs = event as unknown as Record<string, unknown>;
  assert.equal([attrs.pipeline, attrs.gerritproject, attrs.gerritchange, attrs.gerritpatchset, attrs.gerritbranch], ['check', 'mediawiki/core', '12345', '3', 'master']);
});

test('the id is deterministic: same uid and phase, same id; another phase or Workflow, another id', () => {
  const a = workflowCompletedEvent(done('Failed'), { source: SOURCE })!.id;
  assert.is(workflowCompletedEvent(done('Failed'), { source: 'https://other' })!.id, a);
  assert.is.not(workflowCompletedEvent(done('Succeeded'), { source: SOURCE })!.id, a);
  assert.is.not(workflowCompletedEvent(done('Failed', { uid: 'another-uid' }), { source: SOURCE })!.id, a);
  assert.is(completedEventId('u', 'Failed'), completedEventId('u', 'Failed'));
});

test('no event for a run that has not finished, a Workflow that is not ours, or one without a uid', () => {
  assert.is(workflowCompletedEvent(done('Running'), { source: SOURCE }), undefined);
  assert.is(workflowCompletedEvent({ metadata: { name: 'x', uid: 'u' }, status: { phase: 'Failed' } }, { source: SOURCE }), undefined);
  const noUid = done('Failed');
  delete noUid.metadata.uid;
  assert.is(workflowCompletedEvent(noUid, { source: SOURCE }), undefined);
});

test('shouldEmitCompleted: once per phase, with a compare-and-swap claim in between', () => {
  const w = done('Succeeded');
  assert.equal(shouldEmitCompleted(w, NOW), { emit: true });
  assert.equal(shouldEmitCompleted(done('Running'), NOW), { emit: false, reason: 'not-completed' });
  const claimed = annotate(w, claimPatch(COMPLETED_EVENT_MARKER, 'Succeeded', NOW));
  assert.equal(shouldEmitCompleted(claimed, NOW), { emit: false, reason: 'in-progress' });
  assert.equal(shouldEmitCompleted(claimed, new Date(NOW.getTime() + 10 * 60_000)), { emit: true });
  const sent = annotate(claimed, donePatch(COMPLETED_EVENT_MARKER, 'Succeeded'));
  assert.equal(shouldEmitCompleted(sent, NOW), { emit: false, reason: 'already-emitted' });
  // Superseded runs finish too; workflow-completed decides not to report them.
  assert.equal(shouldEmitCompleted(done('Failed', { annotations: { 'seakeeper.dev/superseded-by': 'x' } }), NOW), { emit: true });
});

test('workflowRefOf checks what an ApiServerSource or a workflow.completed event names', () => {
  assert.equal(workflowRefOf({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', namespace: 'sk-a', name: 'check-1-1-abc' }), { namespace: 'sk-a', name: 'check-1-1-abc' });
  assert.is(workflowRefOf({ apiVersion: 'v1', kind: 'Pod', namespace: 'sk-a', name: 'p' }), undefined);
  assert.is(workflowRefOf({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', namespace: '../x', name: 'a' }), undefined);
  assert.is(workflowRefOf(null), undefined);
});

test.run();
