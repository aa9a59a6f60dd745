import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  accountKey,
  oneLine,
  parseGerritEvent,
  parseGerritEventJson,
  type GerritEvent,
  type ParseResult,
} from '../../shared/events/gerrit-event.js';
import { asWebhooksPluginBody, CAPTURES, streamLines, webhookBodies } from './support/gerrit-fixtures.js';

function parsed(result: ParseResult): GerritEvent {
  if (!result.ok) assert.unreachable(`expected an event, got: ${result.reason}`);
  return (result as { event: GerritEvent }).event;
}

function rejected(result: ParseResult): string {
  if (result.ok) assert.unreachable(`expected a rejection, got a ${result.event.type}`);
  const reason = (result as { reason: string }).reason;
  assert.not.match(reason, /\n/, 'a reason is one line');
  return reason;
}

const change = { project: 'mediawiki/core', branch: 'master', id: 'I0123', number: 42, status: 'NEW' };
const patchSet = { number: 3, revision: 'abc', ref: 'refs/changes/42/42/3', createdOn: 1_700_000_000 };
const patchsetCreated = (overrides: Record<string, unknown> = {}) => ({
  type: 'patchset-created',
  change,
  patchSet,
  uploader: { name: 'A', username: 'a' },
  eventCreatedOn: 1_700_000_000,
  ...overrides,
});

// --- the captured fixtures -----------------------------------------------------------------------------------

const CAPTURED_TYPES = [
  'patchset-created',
  'comment-added',
  'change-merged',
  'change-abandoned',
  'change-restored',
  'wip-state-changed',
  'private-state-changed',
  'ref-updated',
  'project-created',
  'topic-changed',
  'hashtags-changed',
  'reviewer-added',
  'reviewer-deleted',
  'vote-deleted',
  'change-deleted',
];

for (const capture of CAPTURES) {
  for (const [name, load] of [
    ['stream-events', () => streamLines(capture)],
    ['webhook', () => webhookBodies(capture)],
    ['webhooks-plugin-shaped webhook', () => webhookBodies(capture).map(asWebhooksPluginBody)],
  ] as const) {
    test(`${capture}: every captured ${name} event parses, keeps its type and raw object, and names its project`, () => {
      const events = load().map((line) => parsed(parseGerritEventJson(line)));
      assert.ok(events.length > 90);
      for (const event of events) {
        if (event.kind === 'dropped-output') {
          assert.unreachable('no dropped-output was captured');
          continue;
        }
        assert.ok(event.project === capture || event.project === `${capture}/child`, event.project);
        assert.is(event.type, event.raw.type);
        assert.is(event.eventCreatedOn, event.raw.eventCreatedOn);
      }
      const types = new Set(events.map((e) => e.type));
      for (const type of CAPTURED_TYPES) assert.ok(types.has(type), `${name} fixtures hold a ${type}`);
    });
  }
}

test('captured events get their kind: modelled types by name, the rest as other', () => {
  const kinds = new Map<string, Set<string>>();
  for (const line of streamLines()) {
    const event = parsed(parseGerritEventJson(line));
    if (!kinds.has(event.type)) kinds.set(event.type, new Set());
    kinds.get(event.type)!.add(event.kind);
  }
  for (const type of ['patchset-created', 'comment-added', 'change-merged', 'change-abandoned', 'change-restored', 'wip-state-changed', 'private-state-changed', 'ref-updated', 'project-created']) {
    assert.equal([...kinds.get(type)!], [type]);
  }
  for (const type of ['topic-changed', 'hashtags-changed', 'reviewer-added', 'reviewer-deleted', 'vote-deleted', 'change-deleted']) {
    assert.equal([...kinds.get(type)!], ['other']);
  }
});

test('a captured comment-added exposes author, comment and approvals as Gerrit sent them', () => {
  const event = streamLines()
    .map((line) => parsed(parseGerritEventJson(line)))
    .find((e) => e.kind === 'comment-added' && e.comment?.includes('Looks good, ship it.'));
  assert.ok(event && event.kind === 'comment-added');
  if (event?.kind !== 'comment-added') return;
  assert.is(event.author?.username, 'admin');
  assert.is(event.comment, 'Patch Set 2: Code-Review+2\n\nLooks good, ship it.');
  assert.equal(
    event.approvals.find((a) => a.type === 'Code-Review'),
    { type: 'Code-Review', description: 'Code-Review', value: '2', oldValue: '0' },
  );
  assert.is(event.patchSet.number, 2);
  assert.is(event.change.number, 1);
  assert.is(event.change.branch, 'master');
});

test('a vote cast by a push is a comment-added without a comment, as Gerrit sends it', () => {
  const pushed = streamLines()
    .map((line) => parsed(parseGerritEventJson(line)))
    .filter((e) => e.kind === 'comment-added' && e.comment === undefined);
  assert.is(pushed.length, 2);
});

test('ref-updated and project-created take their project from inside the event', () => {
  const events = streamLines().map((line) => parsed(parseGerritEventJson(line)));
  const meta = events.find((e) => e.kind === 'ref-updated' && e.refUpdate.refName === 'refs/meta/config');
  assert.ok(meta);
  const created = events.find((e) => e.kind === 'project-created');
  assert.is(created?.kind === 'project-created' && created.headName, 'refs/heads/master');
});

// --- both serialisations -------------------------------------------------------------------------------------

test('the webhooks plugin payload: a top-level project object is fine, change.project wins', () => {
  const event = parsed(parseGerritEvent(patchsetCreated({ project: { name: 'mediawiki/core' }, changeKey: { key: 'I0123' } })));
  assert.is(event.kind, 'patchset-created');
  assert.is(event.kind !== 'dropped-output' && event.project, 'mediawiki/core');
  const disagreeing = parsed(parseGerritEvent(patchsetCreated({ project: { name: 'elsewhere' } })));
  assert.is(disagreeing.kind !== 'dropped-output' && disagreeing.project, 'mediawiki/core');
});

test('an unknown type passes through, its project read from wherever it is', () => {
  const fromObject = parsed(parseGerritEvent({ type: 'ref-replicated', project: { name: 'p1' }, eventCreatedOn: 5 }));
  assert.equal([fromObject.kind, fromObject.type, fromObject.kind !== 'dropped-output' && fromObject.project], ['other', 'ref-replicated', 'p1']);
  const fromString = parsed(parseGerritEvent({ type: 'ref-replicated', project: 'p2', eventCreatedOn: 5 }));
  assert.is(fromString.kind !== 'dropped-output' && fromString.project, 'p2');
  const fromChange = parsed(parseGerritEvent({ type: 'topic-changed', change, eventCreatedOn: 5, oldTopic: 'x' }));
  assert.is(fromChange.kind === 'other' && fromChange.change?.number, 42);
  const fromProjectName = parsed(parseGerritEvent({ type: 'project-head-updated', projectName: 'p3', eventCreatedOn: 5 }));
  assert.is(fromProjectName.kind !== 'dropped-output' && fromProjectName.project, 'p3');
  const fromRefUpdate = parsed(parseGerritEvent({ type: 'batch-ref-updated-x', refUpdate: { oldRev: 'a', newRev: 'b', refName: 'refs/heads/x', project: 'p4' }, eventCreatedOn: 5 }));
  assert.is(fromRefUpdate.kind !== 'dropped-output' && fromRefUpdate.project, 'p4');
});

test('dropped-output is recognised: no project, a signal for the stream to recover', () => {
  const event = parsed(parseGerritEventJson('{"type":"dropped-output"}'));
  assert.is(event.kind, 'dropped-output');
});

test('the typed view holds validated copies; the raw object is the input itself', () => {
  const input = patchsetCreated({ extra: { kept: true } });
  const event = parsed(parseGerritEvent(input));
  assert.ok(event.raw === input);
  assert.ok(event.kind === 'patchset-created' && event.change !== input.change);
  assert.equal(event.kind === 'patchset-created' && event.change, change);
});

test('accounts are keyed by username, then e-mail, then name', () => {
  assert.is(accountKey({ username: 'u', email: 'e', name: 'n' }), 'username:u');
  assert.is(accountKey({ email: 'e', name: 'n' }), 'email:e');
  assert.is(accountKey({ name: 'n' }), 'name:n');
  assert.is(accountKey(undefined), '');
});

// --- bad input -----------------------------------------------------------------------------------------------

test('malformed JSON text is a reason, not an exception', () => {
  for (const text of ['', '{', '{"type":"patchset-created",}', 'not json', '[1,2', '{"type":"x"}\n{"type":"y"}']) {
    assert.match(rejected(parseGerritEventJson(text)), /^malformed JSON: /);
  }
});

test('not an object, no type, or a type that is not a name', () => {
  assert.is(rejected(parseGerritEvent(null)), 'event is null, not a JSON object');
  assert.is(rejected(parseGerritEvent([patchsetCreated()])), 'event is an array, not a JSON object');
  assert.is(rejected(parseGerritEvent('patchset-created')), 'event is the string "patchset-created", not a JSON object');
  assert.is(rejected(parseGerritEvent({ change })), 'type is missing');
  assert.is(rejected(parseGerritEvent({ type: 7, change })), 'type is a number, not a string');
  assert.match(rejected(parseGerritEvent({ type: 'a b\nc', change })), /^type "a b\\nc" is not a Gerrit event type name$/);
  assert.match(rejected(parseGerritEvent({ type: '', change })), /is not a Gerrit event type name/);
});

test('a change event without a change, or without the patch set it needs', () => {
  assert.is(rejected(parseGerritEvent(patchsetCreated({ change: undefined }))), 'patchset-created event without a change');
  assert.is(rejected(parseGerritEvent({ type: 'comment-added', eventCreatedOn: 1, author: {} })), 'comment-added event without a change');
  assert.is(rejected(parseGerritEvent({ type: 'change-abandoned', change: null, eventCreatedOn: 1 })), 'change-abandoned event without a change');
  assert.is(rejected(parseGerritEvent(patchsetCreated({ patchSet: undefined }))), 'patchset-created event without a patchSet');
  // Abandon and the like may come without a patch set.
  assert.is(parsed(parseGerritEvent({ type: 'change-abandoned', change, eventCreatedOn: 1 })).kind, 'change-abandoned');
  assert.is(rejected(parseGerritEvent({ type: 'ref-updated', eventCreatedOn: 1 })), 'ref-updated event without a refUpdate');
});

test('a missing or mistyped project is named', () => {
  assert.is(rejected(parseGerritEvent(patchsetCreated({ change: { ...change, project: undefined } }))), 'patchset-created: change.project is missing');
  assert.is(
    rejected(parseGerritEvent(patchsetCreated({ change: { ...change, project: 42 } }))),
    'patchset-created: change.project is a number, not a non-empty string',
  );
  assert.is(
    rejected(parseGerritEvent(patchsetCreated({ change: { ...change, project: { name: 'x' } } }))),
    'patchset-created: change.project is an object, not a non-empty string',
  );
  assert.match(rejected(parseGerritEvent({ type: 'ref-replicated', eventCreatedOn: 1 })), /^ref-replicated: missing project/);
  assert.match(rejected(parseGerritEvent({ type: 'ref-replicated', project: 7, eventCreatedOn: 1 })), /^ref-replicated: project is a number/);
  assert.match(rejected(parseGerritEvent({ type: 'ref-replicated', project: { name: 7 }, eventCreatedOn: 1 })), /^ref-replicated: project is an object/);
  assert.is(rejected(parseGerritEvent({ type: 'project-created', eventCreatedOn: 1 })), 'project-created: missing project (projectName)');
  assert.is(
    rejected(parseGerritEvent({ type: 'ref-updated', refUpdate: { oldRev: 'a', newRev: 'b', refName: 'r', project: '' }, eventCreatedOn: 1 })),
    'ref-updated: refUpdate.project is the string "", not a non-empty string',
  );
});

test('wrong field types are named with their path', () => {
  const cases: [Record<string, unknown>, string][] = [
    [patchsetCreated({ change: { ...change, number: '42' } }), 'patchset-created: change.number is the string "42", not an integer ≥ 1'],
    [patchsetCreated({ change: { ...change, number: 0 } }), 'patchset-created: change.number is a number, not an integer ≥ 1'],
    [patchsetCreated({ change: { ...change, number: 1.5 } }), 'patchset-created: change.number is a number, not an integer ≥ 1'],
    [patchsetCreated({ patchSet: { ...patchSet, number: null } }), 'patchset-created: patchSet.number is null, not an integer ≥ 1'],
    [patchsetCreated({ patchSet: [] }), 'patchset-created: patchSet is an array, not an object'],
    [patchsetCreated({ change: { ...change, wip: 'yes' } }), 'patchset-created: change.wip is the string "yes", not a boolean'],
    [patchsetCreated({ change: { ...change, owner: 'bob' } }), 'patchset-created: change.owner is the string "bob", not an account object'],
    [patchsetCreated({ uploader: { username: 5 } }), 'patchset-created: uploader.username is a number, not a string'],
    [patchsetCreated({ change: { ...change, hashtags: ['a', 1] } }), 'patchset-created: change.hashtags is an array, not a list of strings'],
    [patchsetCreated({ eventCreatedOn: '1700000000' }), 'patchset-created: event.eventCreatedOn is the string "1700000000", not an integer ≥ 0'],
    [patchsetCreated({ eventCreatedOn: undefined }), 'patchset-created: event.eventCreatedOn is missing'],
    [
      { type: 'comment-added', change, patchSet, eventCreatedOn: 1, approvals: [{ type: 'Code-Review', value: 'two' }] },
      'comment-added: approvals[0].value is the string "two", not a vote such as "2" or "-1"',
    ],
    [{ type: 'comment-added', change, patchSet, eventCreatedOn: 1, approvals: {} }, 'comment-added: approvals is an object, not a list'],
    [{ type: 'comment-added', change, patchSet, eventCreatedOn: 1, comment: 7 }, 'comment-added: event.comment is a number, not a string'],
  ];
  for (const [input, reason] of cases) assert.is(rejected(parseGerritEvent(input)), reason);
});

test('approval values given as numbers are normalised to Gerrit strings', () => {
  const event = parsed(
    parseGerritEvent({ type: 'comment-added', change, patchSet, eventCreatedOn: 1, approvals: [{ type: 'Code-Review', value: 2, oldValue: '+1' }] }),
  );
  assert.equal(event.kind === 'comment-added' && event.approvals, [{ type: 'Code-Review', value: '2', oldValue: '1' }]);
});

test('__proto__ and constructor keys stay data: no pollution, no inherited fields read', () => {
  const text =
    '{"type":"patchset-created","__proto__":{"polluted":true},"change":{"project":"p","branch":"b","number":1,"__proto__":{"isAdmin":true}},' +
    '"patchSet":{"number":1,"constructor":{"prototype":{"polluted":true}}},"eventCreatedOn":1}';
  const event = parsed(parseGerritEventJson(text));
  assert.is(({} as Record<string, unknown>).polluted, undefined);
  assert.is(({} as Record<string, unknown>).isAdmin, undefined);
  assert.is(Object.getPrototypeOf(event.raw), Object.prototype);
  assert.is(event.kind === 'patchset-created' && (event.change as unknown as Record<string, unknown>).isAdmin, undefined);
  // A type named like an Object.prototype member is just an unknown type.
  for (const type of ['constructor', 'toString', 'hasOwnProperty', 'valueOf']) {
    const other = parsed(parseGerritEvent({ type, project: 'p', eventCreatedOn: 1 }));
    assert.is(other.kind, 'other');
  }
  assert.match(rejected(parseGerritEventJson('{"type":"__proto__","project":"p","eventCreatedOn":1}')), /is not a Gerrit event type name/);
  // An object without a prototype is read the same.
  const bare = Object.assign(Object.create(null) as Record<string, unknown>, patchsetCreated());
  assert.is(parsed(parseGerritEvent(bare)).kind, 'patchset-created');
  // Inherited fields are not the event's: a type only on the prototype is no type.
  assert.is(rejected(parseGerritEvent(Object.create({ type: 'patchset-created', change, patchSet, eventCreatedOn: 1 }))), 'type is missing');
});

test('an unknown type nested absurdly deep is refused rather than hashed', () => {
  let deep: unknown = 1;
  for (let i = 0; i < 10_000; i++) deep = [deep];
  assert.match(rejected(parseGerritEvent({ type: 'x-event', project: 'p', eventCreatedOn: 1, deep })), /nests deeper than 32 levels/);
  assert.match(rejected(parseGerritEventJson(`{"type":"x","project":"p","eventCreatedOn":1,"d":${'['.repeat(5000)}${']'.repeat(5000)}}`)), /nests deeper/);
});

test('reasons are one line and bounded, whatever the input holds', () => {
  const long = 'x'.repeat(10_000);
  const reason = rejected(parseGerritEvent({ type: `t${long}` }));
  assert.ok(reason.length < 400);
  assert.is(oneLine('a\nb\u2028c\u0000'), 'a\\u000ab\\u2028c\\u0000');
});

test('property: parsing never throws, whatever JSON-like value it is given', () => {
  fc.assert(
    fc.property(fc.jsonValue(), (value) => {
      const result = parseGerritEvent(value);
      assert.type(result.ok, 'boolean');
    }),
    { numRuns: 500 },
  );
  fc.assert(
    fc.property(
      fc.record({
        type: fc.constantFrom('patchset-created', 'comment-added', 'ref-updated', 'project-created', 'change-merged', 'x'),
        change: fc.option(fc.record({ project: fc.oneof(fc.string(), fc.integer()), branch: fc.string(), number: fc.oneof(fc.integer(), fc.string()) })),
        patchSet: fc.option(fc.record({ number: fc.integer() })),
        eventCreatedOn: fc.oneof(fc.nat(), fc.string()),
        project: fc.option(fc.oneof(fc.string(), fc.record({ name: fc.string() }))),
      }),
      (value) => {
        const result = parseGerritEvent(value);
        if (!result.ok) assert.not.match(result.reason, /\n/);
      },
    ),
    { numRuns: 500 },
  );
  fc.assert(fc.property(fc.string(), (text) => assert.type(parseGerritEventJson(text).ok, 'boolean')), { numRuns: 300 });
});

test.run();
