import type { CloudEvent, Request, Response } from '@google-cloud/functions-framework';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AuthError, NotFoundError, NotImplementedError, PermanentError, TransientError } from '../../shared/errors.js';
import {
  cloudEventFunction,
  httpFunction,
  RequestRejectedError,
  statusForError,
  validateCloudEvent,
  type InboundEvent,
} from '../../shared/events/handler.js';
import { captureLog } from './support/capture.js';

const event = (overrides: Record<string, unknown> = {}) =>
  ({
    id: 'e1',
    source: 'https://gerrit.example.org/',
    type: 'gerrit.patchset-created',
    specversion: '1.0',
    gerritproject: 'mediawiki/core',
    gerritchange: '123',
    data: { change: { number: 123 } },
    ...overrides,
  }) as unknown as CloudEvent<unknown>;

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  assert.unreachable('expected a rejection');
  throw new Error('unreachable');
}

test('validate: a complete event comes back with its extensions and data', () => {
  const checked = validateCloudEvent(event());
  assert.is(checked.id, 'e1');
  assert.is(checked.gerritproject, 'mediawiki/core');
  assert.equal(checked.data, { change: { number: 123 } });
});

test('validate: names every missing or empty required attribute', () => {
  assert.throws(() => validateCloudEvent(event({ id: undefined, type: '' })), /malformed CloudEvent: missing id, type/);
  assert.throws(() => validateCloudEvent({}), /missing id, source, type, specversion/);
});

test('validate: attributes that are not strings count as missing', () => {
  assert.throws(() => validateCloudEvent(event({ id: 42 })), /missing id/);
});

test('validate: only specversion 1.0 is accepted', () => {
  assert.throws(() => validateCloudEvent(event({ specversion: '0.3' })), /specversion "0.3" is not 1.0/);
});

test('validate: something that is not an object is refused as a PermanentError', () => {
  for (const raw of [null, undefined, 'text', 42, [event()]]) {
    assert.throws(() => validateCloudEvent(raw), (err: unknown) => err instanceof PermanentError && /not an object/.test((err as Error).message));
  }
});

test('a handled event: the handler sees the validated event, one log line says ok with type, id, project, change, ms', async () => {
  const { logger, lines } = captureLog();
  let seen: InboundEvent | undefined;
  const fn = cloudEventFunction('patchset-created', async (e) => { seen = e; }, logger);
  assert.is(fn.length, 1, 'a second parameter would make functions-framework wait for a callback');
  await fn(event());
  assert.is(seen?.id, 'e1');
  assert.is(lines().length, 1);
  const line = lines()[0]!;
  assert.equal(
    { fn: line.fn, type: line.type, id: line.id, project: line.project, change: line.change, outcome: line.outcome, level: line.level },
    { fn: 'patchset-created', type: 'gerrit.patchset-created', id: 'e1', project: 'mediawiki/core', change: '123', outcome: 'ok', level: 'info' },
  );
  assert.type(line.ms, 'number');
});

test('project and change are left out of the line when the event has none', async () => {
  const { logger, lines } = captureLog();
  await cloudEventFunction('reconcile', async () => {}, logger)(event({ gerritproject: undefined, gerritchange: undefined }));
  assert.not.ok('project' in lines()[0]! || 'change' in lines()[0]!);
});

test('fields the handler returns join the one log line; they cannot overwrite its outcome', async () => {
  const { logger, lines } = captureLog();
  await cloudEventFunction('project-config-changed', async () => ({ result: 'created', writes: 9, outcome: 'mine' }), logger)(event());
  assert.is(lines().length, 1);
  assert.equal({ result: lines()[0]!.result, writes: lines()[0]!.writes, outcome: lines()[0]!.outcome }, { result: 'created', writes: 9, outcome: 'ok' });
});

// What a routine outcome looks like from each function: workflow-watch on a Workflow still running or already
// emitted (the ApiServerSource's resync), workflow-completed on a report already posted, an event no pipeline takes.
const ROUTINE = ['not-completed', 'already-emitted', 'in-progress', 'already-reported', 'already-started', 'no-pipeline', 'unconfigured', 'superseded'];
// And what a person acts on or looks for: a completion emitted, a report or vote posted, a run started, a
// definition rejected, runs stopped; a line without a result.
const ACTING = ['emitted', 'reported', 'voted', 'started', 'rejected', 'stopped', 'invalid', undefined];

test('a routine outcome is logged at debug, one a person acts on at info', async () => {
  const { logger, lines } = captureLog();
  for (const result of [...ROUTINE, ...ACTING]) {
    await cloudEventFunction('workflow-watch', async () => (result === undefined ? undefined : { result }), logger)(event());
  }
  const levels = lines().map((line) => [line.result, line.level]);
  assert.equal(levels, [...ROUTINE.map((r) => [r, 'debug']), ...ACTING.map((r) => [r, 'info'])]);
  assert.ok(lines().every((line) => line.outcome === 'ok'));
});

test('at LOG_LEVEL info a resync of finished Workflows prints nothing; the emission and the report still print', async () => {
  const { logger, lines } = captureLog();
  logger.level = 'info';
  const watch = (result: string) => cloudEventFunction('workflow-watch', async () => ({ result, workflow: 'sk-x/check-1' }), logger)(event());
  for (let resync = 0; resync < 3; resync++) await watch('already-emitted');
  await watch('emitted');
  await cloudEventFunction('workflow-completed', async () => ({ result: 'reported' }), logger)(event());
  assert.equal(lines().map((line) => line.result), ['emitted', 'reported']);
});

test('a malformed event is acked (resolves) without calling the handler, and logged as rejected', async () => {
  const { logger, lines } = captureLog();
  let called = false;
  await cloudEventFunction('patchset-created', async () => { called = true; }, logger)(event({ source: undefined }));
  assert.not.ok(called);
  assert.is(lines().length, 1);
  assert.is(lines()[0]!.outcome, 'rejected');
  assert.is(lines()[0]!.id, 'e1');
  assert.match(JSON.stringify(lines()[0]!.err), 'missing source');
});

test('a permanent failure of the event is acked and logged as rejected', async () => {
  const { logger, lines } = captureLog();
  await cloudEventFunction('x', async () => { throw new NotFoundError('change 123 was deleted'); }, logger)(event());
  assert.is(lines()[0]!.outcome, 'rejected');
  assert.is(lines()[0]!.level, 'warn');
});

for (const [label, failure] of [
  ['a transient failure', new TransientError('Gerrit 503')],
  ['bad credentials', new AuthError('Gerrit 401')],
  ['not implemented', new NotImplementedError('x')],
  ['a bug', new TypeError('undefined is not a function')],
] as const) {
  test(`${label} is thrown for redelivery, logged once as retry with the error`, async () => {
    const { logger, lines } = captureLog();
    const err = await rejection(cloudEventFunction('x', async () => { throw failure; }, logger)(event()));
    assert.is(err.message, failure.message);
    assert.not.match(err.stack ?? '', '\n', 'the framework prints the stack: keep it to one line');
    assert.is(lines().length, 1);
    assert.is(lines()[0]!.outcome, 'retry');
    assert.is(lines()[0]!.level, 'error');
    assert.match(JSON.stringify(lines()[0]!.err), failure.message);
  });
}

test('statusForError: 501 for not implemented, 500 for what should be retried, 400 for a bad request', () => {
  assert.is(statusForError(new NotImplementedError('x')), 501);
  assert.is(statusForError(new TransientError('x')), 500);
  assert.is(statusForError(new AuthError('x')), 500);
  assert.is(statusForError(new Error('bug')), 500);
  assert.is(statusForError(new PermanentError('bad payload')), 400);
  assert.is(statusForError(new RequestRejectedError(413, 'too large')), 413);
});

/** Just enough of a response to see what the wrapper answered: Express's status/json and Node's writeHead/end. */
function response() {
  const sent: { status?: number; body?: unknown; headers?: Record<string, string> } = {};
  const res = {
    statusCode: 200,
    headersSent: false,
    status(code: number) { sent.status = code; this.statusCode = code; return this; },
    json(body: unknown) { sent.body = body; this.headersSent = true; return this; },
    writeHead(code: number, headers: Record<string, string>) { sent.status = code; sent.headers = headers; this.statusCode = code; this.headersSent = true; return this; },
    end(body: string) { sent.body = JSON.parse(body); return this; },
  };
  return { res: res as unknown as Response, sent };
}

test('http: a failure becomes a status and a one-line JSON reason, logged once', async () => {
  const { logger, lines } = captureLog();
  const { res, sent } = response();
  await httpFunction('gerrit-webhook', async () => { throw new PermanentError('payload is not a Gerrit event'); }, logger)(
    { method: 'POST' } as Request,
    res,
  );
  assert.is(sent.status, 400);
  assert.equal(sent.body, { error: 'payload is not a Gerrit event' });
  assert.equal({ outcome: lines()[0]!.outcome, status: lines()[0]!.status, method: lines()[0]!.method }, { outcome: 'rejected', status: 400, method: 'POST' });
});

test('http: a 500 does not show internal messages to the caller', async () => {
  const { logger } = captureLog();
  const { res, sent } = response();
  await httpFunction('gerrit-webhook', async () => { throw new TransientError('connect ECONNREFUSED 10.0.0.7:8080'); }, logger)({ method: 'POST' } as Request, res);
  assert.is(sent.status, 500);
  assert.equal(sent.body, { error: 'internal error, retry later' });
});

test('http: success is logged with the status the handler set', async () => {
  const { logger, lines } = captureLog();
  const { res } = response();
  await httpFunction('gerrit-webhook', async (_req, r) => { r.status(202).json({}); }, logger)({ method: 'POST' } as Request, res);
  assert.equal({ outcome: lines()[0]!.outcome, status: lines()[0]!.status }, { outcome: 'ok', status: 202 });
});

test('http: a rejected request is answered with its status, headers and reason, logged as rejected without a stack', async () => {
  const { logger, lines } = captureLog();
  const { res, sent } = response();
  await httpFunction('gerrit-webhook', async () => { throw new RequestRejectedError(405, 'only POST is accepted', { allow: 'POST' }); }, logger)(
    { method: 'GET' } as Request,
    res,
  );
  assert.is(sent.status, 405);
  assert.is(sent.headers?.allow, 'POST');
  assert.equal(sent.body, { error: 'only POST is accepted' });
  const line = lines()[0]!;
  assert.equal({ outcome: line.outcome, level: line.level, status: line.status, reason: line.reason }, { outcome: 'rejected', level: 'warn', status: 405, reason: 'only POST is accepted' });
  assert.not.ok('err' in line);
});

test('http: fields the handler returns join the success line', async () => {
  const { logger, lines } = captureLog();
  const { res } = response();
  await httpFunction('gerrit-webhook', async (_req, r) => { r.status(202).json({}); return { type: 'gerrit.patchset-created', id: 'x' }; }, logger)({ method: 'POST' } as Request, res);
  assert.equal({ type: lines()[0]!.type, id: lines()[0]!.id, outcome: lines()[0]!.outcome }, { type: 'gerrit.patchset-created', id: 'x', outcome: 'ok' });
});

test('http: the level follows the result as for events; a forwarded event (no result) stays at info', async () => {
  const { logger, lines } = captureLog();
  for (const fields of [{ result: 'in-progress' }, { type: 'gerrit.patchset-created', id: 'x' }]) {
    await httpFunction('gerrit-webhook', async (_req, r) => { r.status(202).json({}); return fields; }, logger)({ method: 'POST' } as Request, response().res);
  }
  assert.equal(lines().map((line) => line.level), ['debug', 'info']);
});

test.run();
