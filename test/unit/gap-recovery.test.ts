import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  beginRecovery,
  checkpointFrom,
  checkpointToPersist,
  classifyMessage,
  DEFAULT_RECOVERY_MARGIN_SECONDS,
  endRecovery,
  eventsFromChanges,
  formatGerritTimestamp,
  ForwardedLog,
  noteForwarded,
  parseGerritTimestamp,
  parseVotes,
  RECOVERY_CHANGE_OPTIONS,
  recoverySince,
  updatedSinceQuery,
} from '../../shared/events/gap-recovery.js';
import { gerritEventId, isStamped, occurrenceKey, toCloudEvents } from '../../shared/events/gerrit-cloudevents.js';
import { parseGerritEvent, parseGerritEventJson, type ApprovalAttribute, type JsonObject, type ProjectGerritEvent } from '../../shared/events/gerrit-event.js';
import { CAPTURE_SOURCE, CAPTURES, restChanges, streamLines, type Capture } from './support/gerrit-fixtures.js';

const RECOVERABLE = new Set(['patchset-created', 'comment-added', 'change-merged', 'change-abandoned', 'change-restored']);

function streamed(capture: Capture): ProjectGerritEvent[] {
  return streamLines(capture).flatMap((line) => {
    const result = parseGerritEventJson(line);
    return result.ok && result.event.kind !== 'dropped-output' ? [result.event] : [];
  });
}

const byType = (approvals: readonly ApprovalAttribute[]) =>
  [...approvals].map(({ description: _d, ...rest }) => rest).sort((a, b) => a.type.localeCompare(b.type));

/** A log of everything the stream forwarded. */
function forwarded(capture: Capture): ForwardedLog {
  const log = new ForwardedLog();
  for (const event of streamed(capture)) log.note(event);
  return log;
}

/** The streamed event a rebuilt one stands for: the same id, or the same occurrence stamped up to 5 s later. */
function original(capture: Capture, rebuilt: ProjectGerritEvent): ProjectGerritEvent | undefined {
  const candidates = streamed(capture).filter((e) => occurrenceKey(e) === occurrenceKey(rebuilt));
  return (
    candidates.find((e) => gerritEventId(e) === gerritEventId(rebuilt)) ??
    candidates.find((e) => e.eventCreatedOn >= rebuilt.eventCreatedOn && e.eventCreatedOn <= rebuilt.eventCreatedOn + 5)
  );
}

const changeNumber = (e: ProjectGerritEvent) => ('change' in e ? e.change?.number : undefined);

// --- rebuilt events against the streamed originals -----------------------------------------------------------

/** Per capture: the rebuilt events whose id differs from their streamed original (Gerrit stamped it later). */
const SKEWED: Record<Capture, string[]> = {
  'fixtures-56abee': [],
  'fixtures-a5da01': ['comment-added Patch Set 4: Code-Review+2'],
};

for (const capture of CAPTURES) {
  test(`${capture}: every rebuilt event has the id Gerrit's streamed event has, unless Gerrit stamped that a second later`, () => {
    const { events, skipped } = eventsFromChanges(restChanges(capture), 0, { webUrl: CAPTURE_SOURCE });
    assert.equal(skipped, []);
    assert.is(events.length, 27);
    const ids = new Set(streamed(capture).map(gerritEventId));
    const skewed: string[] = [];
    for (const event of events) {
      const match = original(capture, event);
      assert.ok(match, `rebuilt ${event.type} ${JSON.stringify(event.raw).slice(0, 200)} stands for a streamed event`);
      if (ids.has(gerritEventId(event))) {
        // The whole CloudEvent but its data is the same; its time may be a second early, as Gerrit stamps
        // the event after the update it reports (seen for a patchset-created).
        const [a] = toCloudEvents(event, { source: CAPTURE_SOURCE });
        const [b] = toCloudEvents(match!, { source: CAPTURE_SOURCE });
        const { data: _a, time: rebuiltTime, ...rebuiltAttributes } = a!.toJSON();
        const { data: _b, time: streamedTime, ...streamedAttributes } = b!.toJSON();
        assert.equal(rebuiltAttributes, streamedAttributes);
        const lag = (Date.parse(String(streamedTime)) - Date.parse(String(rebuiltTime))) / 1000;
        assert.ok(lag === 0 || lag === 1, `time lag ${lag}`);
      } else {
        assert.ok(isStamped(event), 'only kinds with an instant in their identity can differ');
        assert.is(match!.eventCreatedOn, event.eventCreatedOn + 1);
        skewed.push(`${event.type} ${event.kind === 'comment-added' ? event.comment?.split('\n')[0] : ''}`);
      }
    }
    assert.equal(skewed, SKEWED[capture]);
  });

  test(`${capture}: the forwarded log recognises every rebuilt event the stream had sent, skewed or not`, () => {
    const log = forwarded(capture);
    const { events } = eventsFromChanges(restChanges(capture), 0);
    assert.ok(events.every((e) => log.has(e)));
    // And nothing else: a log of the other capture knows none of them.
    const other = forwarded(CAPTURES.find((c) => c !== capture)!);
    assert.ok(events.every((e) => !other.has(e)));
  });

  test(`${capture}: every streamed event of a recoverable kind is rebuilt, except on the change deleted since`, () => {
    const rebuilt = eventsFromChanges(restChanges(capture), 0).events;
    const known = new Set(rebuilt.map((e) => `${occurrenceKey(e)}@${e.eventCreatedOn}`));
    const existing = new Set((restChanges(capture) as { _number: number }[]).map((c) => c._number));
    const missed = streamed(capture).filter(
      (e) => RECOVERABLE.has(e.type) && !known.has(`${occurrenceKey(e)}@${e.eventCreatedOn}`) && !known.has(`${occurrenceKey(e)}@${e.eventCreatedOn - 1}`),
    );
    assert.equal(missed.map((e) => e.type), ['patchset-created', 'comment-added']);
    assert.ok(missed.every((e) => !existing.has(changeNumber(e)!)));
  });

  test(`${capture}: rebuilt comment-added carry the streamed author, comment and approvals`, () => {
    let compared = 0;
    for (const event of eventsFromChanges(restChanges(capture), 0).events) {
      if (event.kind !== 'comment-added') continue;
      const match = original(capture, event);
      if (match?.kind !== 'comment-added') {
        assert.unreachable('a streamed comment-added');
        continue;
      }
      assert.equal(event.author, match.author);
      assert.is(event.comment, match.comment);
      assert.equal(byType(event.approvals), byType(match.approvals), `approvals of ${match.comment ?? '(push)'}`);
      assert.is(event.patchSet.revision, match.patchSet.revision);
      assert.is(event.change.status, match.change.status);
      compared++;
    }
    assert.is(compared, 12);
  });

  test(`${capture}: rebuilt events carry the streamed change, patch set and actors`, () => {
    for (const event of eventsFromChanges(restChanges(capture), 0, { webUrl: CAPTURE_SOURCE }).events) {
      const match = original(capture, event)!;
      const raw = event.raw as Record<string, JsonObject>;
      const want = match.raw as Record<string, JsonObject>;
      for (const field of ['id', 'number', 'project', 'branch', 'subject', 'owner', 'url', 'status', 'createdOn', 'commitMessage']) {
        assert.equal(raw.change![field], want.change![field], `${event.type} change.${field}`);
      }
      for (const field of ['number', 'revision', 'parents', 'ref', 'uploader', 'createdOn', 'kind']) {
        assert.equal(raw.patchSet![field], want.patchSet![field], `${event.type} patchSet.${field}`);
      }
      for (const field of ['uploader', 'author', 'submitter', 'abandoner', 'restorer', 'reason', 'project', 'refName', 'changeKey']) {
        assert.equal(raw[field], want[field], `${event.type} ${field}`);
      }
    }
  });

  test(`${capture}: Gerrit stamps a comment-added in the second of its change message, or a little later`, () => {
    const messages: { change: number; at: number; author: string }[] = [];
    for (const change of restChanges(capture) as { _number: number; messages: { date: string; author: { username: string } }[] }[]) {
      for (const m of change.messages) messages.push({ change: change._number, at: parseGerritTimestamp(m.date)!, author: m.author.username });
    }
    let exact = 0;
    const comments = streamed(capture).filter((e) => e.kind === 'comment-added');
    for (const e of comments) {
      if (e.kind !== 'comment-added') continue;
      const candidates = messages.filter((m) => m.change === e.change.number && m.author === e.author?.username);
      if (candidates.length === 0) continue; // the deleted change
      const lag = Math.min(...candidates.map((m) => e.eventCreatedOn - m.at).filter((d) => d >= 0));
      assert.ok(lag <= 1, `lag ${lag}`);
      if (lag === 0) exact++;
    }
    assert.is(exact, 12 - SKEWED[capture].length);
  });
}

test('the change status replays through the messages', () => {
  const abandoned = (restChanges() as { _number: number; subject: string }[]).find((c) => c.subject === 'Add b.txt')!._number;
  const events = eventsFromChanges(restChanges(), 0).events.filter((e) => changeNumber(e) === abandoned);
  assert.equal(
    events.map((e) => [e.type, 'change' in e ? e.change?.status : undefined]),
    [
      ['patchset-created', 'NEW'],
      ['change-abandoned', 'ABANDONED'],
      ['change-restored', 'NEW'],
      ['change-abandoned', 'ABANDONED'],
    ],
  );
});

// --- the window ----------------------------------------------------------------------------------------------

test('only events at or after `since` are rebuilt, the boundary second included, in time order', () => {
  const all = eventsFromChanges(restChanges(), 0).events;
  const times = all.map((e) => e.eventCreatedOn);
  assert.equal(times, [...times].sort((a, b) => a - b));
  const since = all[10]!.eventCreatedOn;
  const later = eventsFromChanges(restChanges(), since).events;
  assert.ok(later.length > 0 && later.length < all.length);
  assert.ok(later.every((e) => e.eventCreatedOn >= since));
  assert.equal(later.map(gerritEventId), all.filter((e) => e.eventCreatedOn >= since).map(gerritEventId));
  assert.equal(eventsFromChanges(restChanges(), times.at(-1)! + 1).events, []);
});

test('a change repeated across pages is read once; odd input is skipped with a reason', () => {
  const changes = restChanges();
  const once = eventsFromChanges(changes, 0).events.map(gerritEventId);
  assert.equal(eventsFromChanges([...changes, ...changes], 0).events.map(gerritEventId), once);
  const first = changes[0] as JsonObject;
  const result = eventsFromChanges(
    [
      null,
      'x',
      { project: 'p' },
      { ...first, _number: 999, revisions: { abc: { _number: 'one' } }, messages: [{ date: 'yesterday', message: 'Patch Set 1: Code-Review+2' }, 5] },
      { ...first, _number: 998, revisions: [], messages: {} },
    ],
    0,
  );
  assert.equal(result.events, []);
  assert.equal(result.skipped, [
    'a change that is not an object',
    'a change that is not an object',
    'change "?": no project, branch or _number',
    'change fixtures-56abee/child~999: revision abc has no _number or created',
    'change fixtures-56abee/child~999: message 0 has no message or date',
    'change fixtures-56abee/child~999: message 1 has no message or date',
    'change fixtures-56abee/child~998: revisions is not an object',
    'change fixtures-56abee/child~998: messages is not a list',
  ]);
});

test('property: recovery never throws on arbitrary JSON', () => {
  fc.assert(
    fc.property(fc.array(fc.jsonValue(), { maxLength: 5 }), fc.nat(), (changes, since) => {
      const result = eventsFromChanges(changes, since);
      assert.ok(Array.isArray(result.events) && Array.isArray(result.skipped));
    }),
    { numRuns: 300 },
  );
  const shaped = fc.record({
    project: fc.string(),
    branch: fc.string(),
    _number: fc.oneof(fc.nat(), fc.string()),
    revisions: fc.dictionary(fc.string(), fc.record({ _number: fc.oneof(fc.nat(), fc.string()), created: fc.constantFrom('2024-01-01 00:00:00.000000000', 'x') })),
    messages: fc.array(
      fc.record({
        date: fc.constantFrom('2024-01-01 00:00:01.000000000', '2024-01-01 00:00:00.000000000', ''),
        message: fc.oneof(fc.string(), fc.constantFrom('Patch Set 1: Code-Review+2', 'Uploaded patch set 2: Verified+1.', 'Abandoned')),
        tag: fc.option(fc.constantFrom('autogenerated:gerrit:abandon', 'autogenerated:gerrit:newPatchSet', 'autogenerated:gerrit:merged', 'x')),
        _revision_number: fc.option(fc.oneof(fc.nat(), fc.string())),
        author: fc.option(fc.record({ username: fc.oneof(fc.string(), fc.nat()) })),
      }),
    ),
  });
  fc.assert(
    fc.property(fc.array(shaped, { maxLength: 3 }), (changes) => {
      const result = eventsFromChanges(changes, 0);
      for (const event of result.events) toCloudEvents(event, { source: CAPTURE_SOURCE });
    }),
    { numRuns: 300 },
  );
});

// --- the forwarded log ------------------------------------------------------------------------------------------

const comment = (at: number, text = 'Patch Set 1:\n\nrecheck') => {
  const result = parseGerritEventJson(
    JSON.stringify({
      type: 'comment-added',
      change: { project: 'p', branch: 'master', number: 7 },
      patchSet: { number: 1 },
      author: { username: 'ada' },
      comment: text,
      eventCreatedOn: at,
    }),
  );
  if (!result.ok || result.event.kind === 'dropped-output') throw new Error('fixture');
  return result.event;
};

test('the forwarded log: a rebuilt event is known when streamed in its second or up to the tolerance later', () => {
  const log = new ForwardedLog({ toleranceSeconds: 5 });
  log.note(comment(1000));
  assert.ok(log.has(comment(1000)));
  assert.ok(log.has(comment(999)), 'the message a second before the event');
  assert.ok(log.has(comment(995)));
  assert.not.ok(log.has(comment(994)), 'beyond the tolerance: another recheck');
  assert.not.ok(log.has(comment(1001)), 'a message after the event cannot be its message');
  assert.not.ok(log.has(comment(1000, 'Patch Set 1:\n\nrecheck please')));
});

test('the forwarded log, other way round: a streamed event is known when a rebuilt copy went at or up to the tolerance before it', () => {
  const rebuilt = new ForwardedLog({ toleranceSeconds: 5 });
  rebuilt.note(comment(1000));
  assert.ok(rebuilt.hasRebuiltOf(comment(1000)));
  assert.ok(rebuilt.hasRebuiltOf(comment(1001)), 'Gerrit stamped the event a second after the message');
  assert.ok(rebuilt.hasRebuiltOf(comment(1005)));
  assert.not.ok(rebuilt.hasRebuiltOf(comment(1006)), 'beyond the tolerance: another recheck');
  assert.not.ok(rebuilt.hasRebuiltOf(comment(999)), 'an event cannot be stamped before its message');
  assert.not.ok(rebuilt.hasRebuiltOf(comment(1000, 'Patch Set 1:\n\nrecheck please')));
  const created = (at: number) => {
    const result = parseGerritEvent({
      type: 'patchset-created',
      change: { project: 'p', branch: 'master', number: 7 },
      patchSet: { number: 2 },
      eventCreatedOn: at,
    });
    if (!result.ok || result.event.kind === 'dropped-output') throw new Error('fixture');
    return result.event;
  };
  rebuilt.note(created(2000));
  assert.ok(rebuilt.hasRebuiltOf(created(2100)), 'a patch set is created once, whenever it was stamped');
});

test('the forwarded log forgets what is older than its horizon, and survives a snapshot', () => {
  const log = new ForwardedLog({ toleranceSeconds: 5, horizonSeconds: 100 });
  log.note(comment(1000));
  log.note(comment(1050));
  log.note(comment(1050)); // a redelivery
  assert.is(log.size, 2);
  log.note(comment(1120));
  log.prune();
  assert.is(log.size, 2, 'the entry at 1000 is more than 100 s behind 1120');
  assert.not.ok(log.has(comment(1000)));
  const snapshot = JSON.parse(JSON.stringify(log.snapshot())) as unknown;
  const restored = ForwardedLog.restore(snapshot, { toleranceSeconds: 5, horizonSeconds: 100 });
  assert.is(restored.size, 2);
  assert.ok(restored.has(comment(1049)) && restored.has(comment(1120)));
  assert.ok(JSON.stringify(snapshot).length < 300);
});

test('the forwarded log restores only what is well-formed', () => {
  for (const bad of [undefined, null, 'x', [], { seen: [] }, { seen: null }, { seen: 'x' }]) assert.is(ForwardedLog.restore(bad).size, 0);
  const restored = ForwardedLog.restore(
    JSON.parse(`{"v":1,"seen":{"__proto__":[1],"bogus":[1],"comment-added-${'a'.repeat(40)}":[1,"2",-3,4.5,5],"x-${'b'.repeat(40)}":"7"}}`),
  );
  assert.is(restored.size, 2);
  assert.is(({} as Record<string, unknown>)['1'], undefined);
});

// --- reading messages ----------------------------------------------------------------------------------------

test('which messages are which events', () => {
  const labels = new Set(['Code-Review', 'Verified']);
  const kind = (message: string, tag?: string, revision = 2) => classifyMessage({ message, tag, _revision_number: revision }, labels);
  assert.equal(kind('Patch Set 2: Code-Review+2\n\nLooks good.'), {
    kind: 'comment-added',
    patchSet: 2,
    votes: [{ label: 'Code-Review', value: '2' }],
    comment: 'Patch Set 2: Code-Review+2\n\nLooks good.',
  });
  assert.equal(kind('Patch Set 1:\n\nrecheck', undefined, 1), { kind: 'comment-added', patchSet: 1, votes: [], comment: 'Patch Set 1:\n\nrecheck' });
  assert.equal(kind('Patch Set 2: Verified+1\n\nBuild succeeded.', 'autogenerated:ci-test').kind, 'comment-added');
  assert.equal(kind('Uploaded patch set 1: Verified+1 Code-Review+2.\nPushed with votes', 'autogenerated:gerrit:newPatchSet', 1), {
    kind: 'comment-added',
    patchSet: 1,
    votes: [
      { label: 'Verified', value: '1' },
      { label: 'Code-Review', value: '2' },
    ],
    comment: undefined,
  });
  assert.equal(kind('Uploaded patch set 2.', 'autogenerated:gerrit:newPatchSet'), { kind: 'none' });
  assert.equal(kind('Uploaded patch set 2: Code-Review+1.\n\nOutdated Votes:\n* Verified+1\n', 'autogenerated:gerrit:newWipPatchSet').kind, 'comment-added');
  assert.equal(kind('Patch Set 4: Patch Set 3 was rebased', 'autogenerated:gerrit:newPatchSet'), { kind: 'none' });
  assert.equal(kind('Patch Set 3: Commit message was updated.', 'autogenerated:gerrit:newPatchSet'), { kind: 'none' });
  assert.equal(kind('Abandoned\n\nNot needed', 'autogenerated:gerrit:abandon'), { kind: 'change-abandoned', patchSet: 2, reason: 'Not needed' });
  assert.equal(kind('Abandoned', 'autogenerated:gerrit:abandon'), { kind: 'change-abandoned', patchSet: 2, reason: '' });
  assert.equal(kind('Restored\n\nback', 'autogenerated:gerrit:restore'), { kind: 'change-restored', patchSet: 2, reason: 'back' });
  assert.equal(kind('Change has been successfully merged', 'autogenerated:gerrit:merged'), { kind: 'change-merged', patchSet: 2, reason: '' });
  assert.equal(kind('Removed Code-Review+2 by <GERRIT_ACCOUNT_1000000>\n', 'autogenerated:gerrit:deleteVote'), {
    kind: 'vote-removed',
    patchSet: 2,
    label: 'Code-Review',
    accountId: 1000000,
  });
  assert.equal(kind('Removed reviewer <GERRIT_ACCOUNT_1000001>.', 'autogenerated:gerrit:deleteReviewer'), {
    kind: 'reviewer-removed',
    patchSet: 2,
    accountId: 1000001,
  });
  for (const [text, tag] of [
    ['Topic set to x', 'autogenerated:gerrit:setTopic'],
    ['Set Work In Progress', 'autogenerated:gerrit:setWorkInProgress'],
    ['Hashtags added: a', 'autogenerated:gerrit:setHashtag'],
    ['Just a note from a bot', 'autogenerated:ci-test'],
    ['patch set 2: lowercase is not Gerrit', undefined],
  ] as const) {
    assert.equal(kind(text, tag), { kind: 'none' }, text);
  }
  // Without _revision_number the number in the text serves.
  assert.equal(classifyMessage({ message: 'Patch Set 7: Verified-1' }), {
    kind: 'comment-added',
    patchSet: 7,
    votes: [{ label: 'Verified', value: '-1' }],
    comment: 'Patch Set 7: Verified-1',
  });
});

test('votes as messages write them', () => {
  assert.equal(parseVotes('Code-Review+2 Verified-1 -Code-Review'), [
    { label: 'Code-Review', value: '2' },
    { label: 'Verified', value: '-1' },
    { label: 'Code-Review', value: '0' },
  ]);
  assert.equal(parseVotes('  '), []);
  assert.equal(parseVotes('(1 comment) nonsense +2 Code-Review'), []);
  // Label names ending in digits are read against the change's labels.
  assert.equal(parseVotes('Stage-1+1 -Stage-1 Stage-1-2', new Set(['Stage-1'])), [
    { label: 'Stage-1', value: '1' },
    { label: 'Stage-1', value: '0' },
    { label: 'Stage-1', value: '-2' },
  ]);
});

test('votes removed by others and reviewers removed reset what later events list', () => {
  const change = {
    project: 'p',
    branch: 'master',
    _number: 1,
    labels: { 'Code-Review': {} },
    revisions: { abc: { _number: 1, created: '2024-01-01 00:00:00.000000000' } },
    messages: [
      { date: '2024-01-01 00:00:01.000000000', author: { _account_id: 7, username: 'ada' }, message: 'Patch Set 1: Code-Review+2', _revision_number: 1 },
      {
        date: '2024-01-01 00:00:02.000000000',
        author: { _account_id: 8, username: 'bob' },
        tag: 'autogenerated:gerrit:deleteVote',
        message: 'Removed Code-Review+2 by <GERRIT_ACCOUNT_7>\n',
        accounts_in_message: [{ _account_id: 7, username: 'ada' }],
        _revision_number: 1,
      },
      { date: '2024-01-01 00:00:03.000000000', author: { _account_id: 7, username: 'ada' }, message: 'Patch Set 1: Code-Review+2', _revision_number: 1 },
    ],
  };
  const comments = eventsFromChanges([change], 0).events.filter((e) => e.kind === 'comment-added');
  assert.equal(
    comments.map((e) => e.kind === 'comment-added' && e.approvals),
    [
      [{ type: 'Code-Review', description: 'Code-Review', value: '2', oldValue: '0' }],
      [{ type: 'Code-Review', description: 'Code-Review', value: '2', oldValue: '0' }],
    ],
  );
});

// --- time and the query ----------------------------------------------------------------------------------------

test('Gerrit timestamps: REST reads to whole seconds, the query writes UTC', () => {
  assert.is(parseGerritTimestamp('2026-11-27 18:46:49.000000000'), 1795805209);
  assert.is(parseGerritTimestamp('2026-11-27 18:46:49.999999999'), 1795805209);
  assert.is(parseGerritTimestamp('2026-11-27 18:46:49'), 1795805209);
  assert.is(parseGerritTimestamp('1970-01-01 00:00:00.000000000'), 0);
  for (const bad of ['', '2026-11-27T18:46:49Z', '2026-11-27 18:46', 'yesterday', '2026-11-27 18:46:49.0000000000']) {
    assert.is(parseGerritTimestamp(bad), undefined, bad);
  }
  assert.is(formatGerritTimestamp(1795805209), '2026-11-27 18:46:49');
  assert.is(formatGerritTimestamp(1795805209.9), '2026-11-27 18:46:49');
  assert.is(updatedSinceQuery(1795805209), 'after:"2026-11-27 18:46:49 +0000"');
  fc.assert(fc.property(fc.integer({ min: 0, max: 253_402_300_799 }), (s) => assert.is(parseGerritTimestamp(formatGerritTimestamp(s)), s)));
});

test('the REST options recovery asks for', () => {
  for (const option of ['ALL_REVISIONS', 'MESSAGES', 'DETAILED_ACCOUNTS']) assert.ok(RECOVERY_CHANGE_OPTIONS.includes(option as never));
});

// --- the checkpoint --------------------------------------------------------------------------------------------

test('recovery starts a margin before the checkpoint, the checkpoint second included', () => {
  assert.is(recoverySince(1000, 0), 1000);
  assert.is(recoverySince(1000, 60), 940);
  assert.is(recoverySince(1000), 1000 - DEFAULT_RECOVERY_MARGIN_SECONDS);
  assert.is(recoverySince(10, 60), 0);
  assert.ok(DEFAULT_RECOVERY_MARGIN_SECONDS >= 60);
});

test('the checkpoint is the newest eventCreatedOn forwarded and never moves back', () => {
  let state = checkpointFrom(undefined);
  assert.is(checkpointToPersist(state), undefined);
  state = noteForwarded(state, 100);
  state = noteForwarded(state, 90); // a late event of an older second
  assert.is(checkpointToPersist(state), 100);
  state = noteForwarded(state, 100);
  assert.is(checkpointToPersist(state), 100);
  assert.is(checkpointToPersist(noteForwarded(state, 101)), 101);
});

test('a first start has nothing to recover; a restart recovers from the persisted checkpoint', () => {
  assert.is(beginRecovery(checkpointFrom(undefined)).since, undefined);
  assert.is(beginRecovery(checkpointFrom(5000), 300).since, 4700);
});

test('while a recovery runs, the persisted checkpoint is held where it began', () => {
  let state = checkpointFrom(1000);
  const begun = beginRecovery(state, 60);
  assert.is(begun.since, 940);
  state = begun.state;
  state = noteForwarded(state, 2000); // live events run ahead
  assert.is(checkpointToPersist(state), 1000);
  // A second disconnection meanwhile: its recovery starts from the newest, the hold stays.
  const again = beginRecovery(state, 60);
  assert.is(again.since, 1940);
  state = endRecovery(again.state);
  assert.is(checkpointToPersist(state), 1000, 'one recovery still outstanding');
  state = endRecovery(state);
  assert.is(checkpointToPersist(state), 2000);
  assert.is(state.recoveries, 0);
  assert.is(checkpointToPersist(endRecovery(state)), 2000, 'an extra end is harmless');
});

test('property: the persisted checkpoint never passes an event a pending recovery may still have to send', () => {
  fc.assert(
    fc.property(
      fc.array(fc.oneof(fc.record({ forward: fc.nat(10_000) }), fc.constant('begin' as const), fc.constant('end' as const)), { maxLength: 40 }),
      (steps) => {
        let state = checkpointFrom(0);
        const pending: number[] = [];
        for (const step of steps) {
          if (step === 'begin') {
            const { state: next, since } = beginRecovery(state, 0);
            state = next;
            pending.push(since!);
          } else if (step === 'end') {
            if (pending.length === 0) continue;
            pending.shift();
            state = endRecovery(state);
          } else {
            state = noteForwarded(state, step.forward);
          }
          const persisted = checkpointToPersist(state)!;
          for (const since of pending) assert.ok(persisted <= since, `persisted ${persisted} ≤ pending since ${since}`);
        }
      },
    ),
  );
});

test.run();
