import { CloudEvent } from 'cloudevents';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  branchOfRef,
  canonicalJson,
  changesProjectConfig,
  configChangedId,
  CONFIG_CHANGED_TYPE,
  gerritEventId,
  isStamped,
  occurrenceKey,
  toCloudEvents,
} from '../../shared/events/gerrit-cloudevents.js';
import { parseGerritEvent, parseGerritEventJson, type GerritEvent, type JsonObject, type ProjectGerritEvent } from '../../shared/events/gerrit-event.js';
import { asWebhooksPluginBody, CAPTURE_SOURCE, CAPTURES, streamLines, webhookBodies } from './support/gerrit-fixtures.js';

const source = 'https://gerrit.example.org/r/';

function event(input: unknown): ProjectGerritEvent {
  const result = parseGerritEvent(input);
  if (!result.ok) throw new Error(result.reason);
  if (result.event.kind === 'dropped-output') throw new Error('dropped-output');
  return result.event;
}
const fromJson = (text: string): GerritEvent => {
  const result = parseGerritEventJson(text);
  if (!result.ok) throw new Error(result.reason);
  return result.event;
};
const cloudEvents = (lines: string[]) => lines.map((line) => toCloudEvents(fromJson(line), { source: CAPTURE_SOURCE }));

const change = { project: 'mediawiki/core', branch: 'master', id: 'I0123', number: 42, status: 'NEW' };
const patchSet = { number: 3, revision: 'abc', ref: 'refs/changes/42/42/3' };
const account = { name: 'Ada', email: 'ada@example.org', username: 'ada' };

// --- ids across delivery paths ---------------------------------------------------------------------------------

for (const capture of CAPTURES) {
  test(`${capture}: the same occurrence has the same id via stream-events and via the webhook`, () => {
    const stream = cloudEvents(streamLines(capture)).flat();
    const webhook = cloudEvents(webhookBodies(capture)).flat();
    const streamIds = new Set(stream.map((e) => e.id));
    const webhookIds = new Set(webhook.map((e) => e.id));
    assert.is(streamIds.size, stream.length, 'no two streamed events share an id');
    assert.is(webhookIds.size, webhook.length, 'no two delivered events share an id');
    // The captures overlap except for what only one path saw: the parent project's first events (before its
    // webhook existed) and the deleted change's refs (invisible to the streaming account).
    const onlyStream = stream.filter((e) => !webhookIds.has(e.id));
    const onlyWebhook = webhook.filter((e) => !streamIds.has(e.id));
    assert.equal(onlyStream.map((e) => e.gerritproject), Array(onlyStream.length).fill(capture));
    assert.is(onlyWebhook.length, 2);
    for (const e of onlyWebhook) {
      assert.is(e.type, 'gerrit.ref-updated');
      assert.match(String((e.data!.refUpdate as JsonObject).refName), /^refs\/changes\/\d\d\/\d+\/(1|meta)$/);
      assert.is((e.data!.refUpdate as JsonObject).newRev, '0000000000000000000000000000000000000000');
    }
    assert.ok(stream.length - onlyStream.length > 90);
  });

  test(`${capture}: the webhooks plugin shape (project and changeKey as objects) gives the same CloudEvents but data`, () => {
    const bodies = webhookBodies(capture);
    const plain = cloudEvents(bodies).flat();
    const plugin = cloudEvents(bodies.map(asWebhooksPluginBody)).flat();
    assert.is(plugin.length, plain.length);
    plugin.forEach((e, i) => {
      const { data: _a, ...attributes } = e.toJSON();
      const { data: _b, ...expected } = plain[i]!.toJSON();
      assert.equal(attributes, expected);
    });
  });

  test(`${capture}: abandon, restore and abandon again on one patch set are three occurrences`, () => {
    const events = cloudEvents(streamLines(capture))
      .flat()
      .filter((e) => e.type === 'gerrit.change-abandoned' || e.type === 'gerrit.change-restored');
    assert.is(events.length, 3);
    assert.is(new Set(events.map((e) => e.id)).size, 3);
  });
}

test('an id does not depend on key order, whitespace or the account fields beside the username', () => {
  const line = streamLines().find((l) => l.includes('"comment-added"'))!;
  const reordered = JSON.stringify(Object.fromEntries(Object.entries(JSON.parse(line) as JsonObject).reverse()), null, 2);
  assert.is(gerritEventId(fromJson(reordered) as ProjectGerritEvent), gerritEventId(fromJson(line) as ProjectGerritEvent));
  const base = { type: 'comment-added', change, patchSet, eventCreatedOn: 100, comment: 'recheck' };
  assert.is(
    gerritEventId(event({ ...base, author: account })),
    gerritEventId(event({ ...base, author: { username: 'ada', name: 'Ada L.' } })),
  );
});

test('ids tell apart what differs in an occurrence', () => {
  const comment = { type: 'comment-added', change, patchSet, eventCreatedOn: 100, author: account, comment: 'recheck' };
  const ids = [
    comment,
    { ...comment, comment: 'recheck ' },
    { ...comment, eventCreatedOn: 101 },
    { ...comment, author: { ...account, username: 'bob' } },
    { ...comment, patchSet: { ...patchSet, number: 4 } },
    { ...comment, change: { ...change, number: 43 } },
    { ...comment, change: { ...change, project: 'mediawiki/vendor' } },
    { ...comment, type: 'patchset-created' },
    { ...comment, type: 'change-merged' },
    { ...comment, type: 'change-abandoned' },
    { ...comment, type: 'change-restored' },
    { ...comment, type: 'topic-changed' },
    { ...comment, type: 'topic-changed', eventCreatedOn: 101 },
    { ...comment, type: 'topic-changed', oldTopic: 'a' },
  ].map((input) => gerritEventId(event(input)));
  assert.is(new Set(ids).size, ids.length);
  // And what does not: a patch set is created once, whatever else the event says.
  const created = { type: 'patchset-created', change, patchSet, eventCreatedOn: 100, uploader: account };
  assert.is(gerritEventId(event(created)), gerritEventId(event({ ...created, eventCreatedOn: 200, uploader: {} })));
});

test('the instant is in the id of every kind that can repeat, and only the occurrence key leaves it out', () => {
  const at = (input: Record<string, unknown>, eventCreatedOn: number) => event({ ...input, eventCreatedOn });
  const recheck = { type: 'comment-added', change, patchSet, author: account, comment: 'Patch Set 3:\n\nrecheck' };
  assert.is.not(gerritEventId(at(recheck, 100)), gerritEventId(at(recheck, 160)), 'a second recheck is another occurrence');
  assert.is(occurrenceKey(at(recheck, 100)), occurrenceKey(at(recheck, 160)));
  const ref = { type: 'ref-updated', refUpdate: { oldRev: 'a', newRev: 'b', refName: 'refs/meta/config', project: 'p' } };
  assert.is.not(gerritEventId(at(ref, 100)), gerritEventId(at(ref, 300)), 'a ref set back and forth');
  const stamped = (input: Record<string, unknown>) => isStamped(at(input, 1));
  assert.is(stamped({ type: 'patchset-created', change, patchSet }), false);
  assert.is(stamped({ type: 'change-merged', change, patchSet }), false);
  for (const type of ['comment-added', 'change-abandoned', 'change-restored', 'wip-state-changed', 'private-state-changed', 'topic-changed']) {
    assert.is(stamped({ type, change, patchSet }), true, type);
  }
  assert.is(stamped(ref), true);
  assert.is(stamped({ type: 'project-created', projectName: 'p' }), true);
  // Where the instant is not in the identity, the occurrence key is the id.
  const created = at({ type: 'patchset-created', change, patchSet }, 1);
  assert.is(occurrenceKey(created), gerritEventId(created));
});

test('an id is readable: the Gerrit type, then 40 hex', () => {
  for (const e of cloudEvents(streamLines()).flat()) {
    const type = e.type.startsWith('gerrit.') ? e.type.slice('gerrit.'.length) : e.type;
    assert.match(e.id, new RegExp(`^${type.replace('.', '\\.')}-[0-9a-f]{40}$`));
  }
});

// --- attributes ----------------------------------------------------------------------------------------------

test('a patchset-created: type, source, subject, time, extensions and data', () => {
  const input = { type: 'patchset-created', change, patchSet, uploader: account, eventCreatedOn: 1_700_000_000 };
  const [ce, ...rest] = toCloudEvents(event(input), { source });
  assert.is(rest.length, 0);
  assert.ok(ce instanceof CloudEvent);
  assert.is(ce!.type, 'gerrit.patchset-created');
  assert.is(ce!.source, source);
  assert.is(ce!.specversion, '1.0');
  assert.is(ce!.subject, 'mediawiki/core/42/3');
  assert.is(ce!.time, '2023-11-14T22:13:20.000Z');
  assert.is(ce!.datacontenttype, 'application/json');
  assert.ok(ce!.data === input, 'data is the Gerrit event as received');
  assert.is(ce!.gerritproject, 'mediawiki/core');
  assert.is(ce!.gerritchange, '42');
  assert.is(ce!.gerritpatchset, '3');
  assert.is(ce!.gerritbranch, 'master');
});

test('extension names are valid CloudEvents attribute names, values strings', () => {
  const all = [...cloudEvents(streamLines()).flat(), ...cloudEvents(webhookBodies()).flat()];
  const standard = new Set(['id', 'type', 'source', 'specversion', 'subject', 'time', 'datacontenttype', 'data']);
  const seen = new Set<string>();
  for (const e of all) {
    for (const [name, value] of Object.entries(e.toJSON())) {
      if (value === undefined || standard.has(name)) continue;
      seen.add(name);
      assert.match(name, /^[a-z0-9]+$/);
      assert.ok(name.length <= 20);
      assert.type(value, 'string');
    }
    // The package re-validates in strict mode; this would throw on a bad name or value.
    assert.ok(new CloudEvent(e.toJSON(), true));
  }
  assert.equal([...seen].sort(), ['gerritbranch', 'gerritchange', 'gerritpatchset', 'gerritproject']);
});

test('subjects and extensions for changes, refs, projects and other events', () => {
  const first = (input: unknown) => toCloudEvents(event(input), { source })[0]!;
  const abandoned = first({ type: 'change-abandoned', change, eventCreatedOn: 1, abandoner: account });
  assert.equal([abandoned.subject, abandoned.gerritchange, abandoned.gerritpatchset], ['mediawiki/core/42', '42', undefined]);
  const branch = first({ type: 'ref-updated', refUpdate: { oldRev: 'a', newRev: 'b', refName: 'refs/heads/REL1_43', project: 'p/q' }, eventCreatedOn: 1 });
  assert.equal([branch.subject, branch.gerritproject, branch.gerritbranch, branch.gerritchange], ['p/q/refs/heads/REL1_43', 'p/q', 'REL1_43', undefined]);
  const tag = first({ type: 'ref-updated', refUpdate: { oldRev: 'a', newRev: 'b', refName: 'refs/tags/v1', project: 'p' }, eventCreatedOn: 1 });
  assert.equal([tag.subject, tag.gerritbranch], ['p/refs/tags/v1', undefined]);
  const created = first({ type: 'project-created', projectName: 'p/new', headName: 'refs/heads/main', eventCreatedOn: 1 });
  assert.equal([created.subject, created.gerritproject, created.gerritbranch], ['p/new', 'p/new', undefined]);
  const topic = first({ type: 'topic-changed', change: { ...change, branch: 'refs/meta/config' }, patchSet, eventCreatedOn: 1 });
  assert.equal([topic.type, topic.subject, topic.gerritbranch, topic.gerritpatchset], ['gerrit.topic-changed', 'mediawiki/core/42/3', 'refs/meta/config', '3']);
  const bare = first({ type: 'ref-replicated', project: { name: 'p' }, ref: 'refs/heads/x', eventCreatedOn: 1 });
  assert.equal([bare.type, bare.subject, bare.gerritproject], ['gerrit.ref-replicated', 'p', 'p']);
});

test('gerritbranch: Gerrit short names; refs/meta/config in full; no branch for other refs', () => {
  assert.is(branchOfRef('refs/heads/master'), 'master');
  assert.is(branchOfRef('refs/heads/wmf/1.43'), 'wmf/1.43');
  assert.is(branchOfRef('refs/meta/config'), 'refs/meta/config');
  assert.is(branchOfRef('refs/heads/'), undefined);
  assert.is(branchOfRef('refs/tags/v1'), undefined);
  assert.is(branchOfRef('refs/changes/01/1/meta'), undefined);
  const fullName = toCloudEvents(event({ type: 'patchset-created', change: { ...change, branch: 'refs/heads/dev' }, patchSet, eventCreatedOn: 1 }), { source })[0]!;
  assert.is(fullName.gerritbranch, 'dev');
});

// --- project.config-changed ----------------------------------------------------------------------------------

test('project.config-changed follows a refs/meta/config ref-updated and a project-created, and nothing else', () => {
  const all = cloudEvents(streamLines());
  let configChanges = 0;
  for (const events of all) {
    const [gerrit, ...more] = events;
    const data = gerrit!.data!;
    const isMeta = gerrit!.type === 'gerrit.ref-updated' && (data.refUpdate as JsonObject).refName === 'refs/meta/config';
    const isCreated = gerrit!.type === 'gerrit.project-created';
    if (isMeta || isCreated) {
      assert.is(more.length, 1, `${gerrit!.type} yields one config change`);
      const config = more[0]!;
      configChanges++;
      assert.is(config.type, CONFIG_CHANGED_TYPE);
      assert.is(config.id, configChangedId(gerrit!.id));
      assert.is.not(config.id, gerrit!.id);
      assert.is(config.gerritproject, gerrit!.gerritproject);
      assert.is(config.gerritbranch, 'refs/meta/config');
      assert.is(config.subject, gerrit!.gerritproject);
      assert.is(config.source, gerrit!.source);
      assert.is(config.time, gerrit!.time);
      assert.ok(config.data === gerrit!.data);
    } else {
      assert.is(more.length, 0, `${gerrit!.type} ${gerrit!.subject} yields no config change`);
    }
  }
  // Each project's creation and its first two config commits, the parent's webhook commit, the child's edits.
  assert.ok(configChanges >= 6);
  // Other refs, and other event types naming refs/meta/config, do not.
  const other = event({ type: 'batch-ref-updated', refUpdates: [{ refName: 'refs/meta/config' }], project: 'p', eventCreatedOn: 1 });
  assert.is(changesProjectConfig(other), false);
  const merged = event({ type: 'change-merged', change: { ...change, branch: 'refs/meta/config' }, patchSet, eventCreatedOn: 1 });
  assert.is(toCloudEvents(merged, { source }).length, 1);
});

test('dropped-output yields no CloudEvent', () => {
  assert.equal(toCloudEvents(fromJson('{"type":"dropped-output"}'), { source }), []);
});

// --- canonical JSON --------------------------------------------------------------------------------------------

test('canonical JSON sorts keys at every level and keeps __proto__ keys as data', () => {
  assert.is(canonicalJson({ b: 1, a: [{ d: 2, c: null }] }), '{"a":[{"c":null,"d":2}],"b":1}');
  assert.is(canonicalJson(JSON.parse('{"__proto__":{"x":1},"a":2}')), '{"__proto__":{"x":1},"a":2}');
  fc.assert(
    fc.property(fc.jsonValue(), (value) => {
      assert.equal(JSON.parse(canonicalJson(value)), JSON.parse(JSON.stringify(value)));
    }),
  );
});

test('property: an unknown event keeps its id through a reserialisation and a plugin-shaped project', () => {
  fc.assert(
    fc.property(
      fc.dictionary(fc.string().filter((k) => !['type', 'project', 'eventCreatedOn', 'change', 'patchSet', 'refUpdate', 'projectName', '__proto__'].includes(k)), fc.jsonValue(), { maxKeys: 6 }),
      fc.nat(),
      (fields, at) => {
        const stream = { ...fields, type: 'plugin-event', project: 'p', eventCreatedOn: at };
        const plugin = JSON.parse(JSON.stringify({ type: 'plugin-event', eventCreatedOn: at, project: { name: 'p' }, ...fields })) as JsonObject;
        assert.is(gerritEventId(event(plugin)), gerritEventId(event(stream)));
      },
    ),
  );
});

test.run();
