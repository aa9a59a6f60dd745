// The Broker stand-in of `make dev` routes with the production Triggers: check it against the rendered
// knative/eventing (kubectl kustomize, with the rig's kubectl when the rig's env is loaded) and the filter rules.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseAllDocuments } from 'yaml';
import { readFileSync } from 'node:fs';
import { backoffMs, durationMs, matches, routeMatches, routingFrom } from '../../dev/broker.js';

const docs = (file: string) => parseAllDocuments(readFileSync(new URL(`../../knative/eventing/${file}`, import.meta.url), 'utf8')).map((d) => d.toJS());
const routing = routingFrom([...docs('broker.yaml'), ...docs('triggers.yaml')]);
const servicesFor = (type: string) =>
  routing.routes.filter((r) => routeMatches(r, { type, source: 'https://gerrit.example.org/', id: '1' })).map((r) => r.service).sort();

test('every Gerrit event type the functions handle reaches exactly its function', () => {
  assert.equal(servicesFor('gerrit.patchset-created'), ['patchset-created']);
  assert.equal(servicesFor('gerrit.wip-state-changed'), ['patchset-created']);
  assert.equal(servicesFor('gerrit.ref-updated'), ['patchset-created']);
  assert.equal(servicesFor('gerrit.comment-added'), ['comment-added']);
  assert.equal(servicesFor('gerrit.change-merged'), ['comment-added']);
  assert.equal(servicesFor('gerrit.change-abandoned'), ['comment-added']);
  assert.equal(servicesFor('project.config-changed'), ['project-config-changed']);
  assert.equal(servicesFor('dev.knative.apiserver.ref.update'), ['workflow-watch']);
  assert.equal(servicesFor('workflow.completed'), ['workflow-completed']);
});

test('types nobody handles, deletions, and near-misses reach nobody', () => {
  assert.equal(servicesFor('gerrit.ref-replicated'), []);
  assert.equal(servicesFor('dev.knative.apiserver.ref.delete'), []);
  assert.equal(servicesFor('gerrit.patchset-created.extra'), []);
  assert.equal(servicesFor('GERRIT.PATCHSET-CREATED'), []);
});

test('the delivery spec comes from the Broker: retries, exponential backoff, dead-letter service', () => {
  assert.is(routing.delivery.deadLetterService, 'dead-letter');
  assert.ok(routing.delivery.retry > 0);
  assert.is(backoffMs(routing.delivery, 1), routing.delivery.backoffDelayMs);
  assert.is(backoffMs(routing.delivery, 3), routing.delivery.backoffDelayMs * 4);
});

test('filter dialects: exact, prefix, suffix, all, any, not, and a missing attribute never matches', () => {
  const e = { type: 'gerrit.comment-added', gerritproject: 'mediawiki/core' };
  assert.ok(matches({ prefix: { type: 'gerrit.' }, suffix: { gerritproject: '/core' } }, e));
  assert.not.ok(matches({ exact: { pipeline: 'check' } }, e));
  assert.ok(matches({ all: [{ prefix: { type: 'gerrit' } }, { not: { exact: { type: 'gerrit.ref-updated' } } }] }, e));
  assert.not.ok(matches({ any: [] }, e));
  assert.ok(matches({}, e));
});

test('durations as Knative writes them', () => {
  assert.is(durationMs('PT0.5S'), 500);
  assert.is(durationMs('PT1M30S'), 90_000);
  assert.throws(() => durationMs('5s'), /unsupported duration/);
  assert.throws(() => durationMs('PT'), /unsupported duration/);
});

test.run();
