import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  AlreadyExistsError,
  AuthError,
  ConflictError,
  errorForStatus,
  ForbiddenError,
  networkError,
  NotFoundError,
  NotImplementedError,
  PermanentError,
  shouldRetry,
  TransientError,
} from '../../shared/errors.js';

test('401 is an AuthError, 403 a ForbiddenError that is also an AuthError', () => {
  assert.instance(errorForStatus(401, 'x'), AuthError);
  assert.not.instance(errorForStatus(401, 'x'), ForbiddenError);
  assert.instance(errorForStatus(403, 'x'), ForbiddenError);
  assert.instance(errorForStatus(403, 'x'), AuthError);
});

test('404 is NotFound and permanent', () => {
  const err = errorForStatus(404, 'gone');
  assert.instance(err, NotFoundError);
  assert.instance(err, PermanentError);
});

test('409 is a transient ConflictError; with reason AlreadyExists it is an AlreadyExistsError', () => {
  const conflict = errorForStatus(409, 'stale', 'Conflict');
  assert.instance(conflict, ConflictError);
  assert.instance(conflict, TransientError);
  assert.not.instance(conflict, AlreadyExistsError);
  assert.instance(errorForStatus(409, 'there', 'AlreadyExists'), AlreadyExistsError);
  assert.instance(errorForStatus(409, 'no reason'), ConflictError);
  assert.not.instance(errorForStatus(409, 'no reason'), AlreadyExistsError);
});

test('429, 408 and every 5xx are transient', () => {
  for (const status of [408, 429, 500, 502, 503, 504, 599]) {
    const err = errorForStatus(status, 'x');
    assert.instance(err, TransientError, String(status));
    assert.not.instance(err, ConflictError, String(status));
  }
});

test('every other 4xx is permanent and not one of the special kinds', () => {
  const special = new Set([401, 403, 404, 408, 409, 429]);
  fc.assert(
    fc.property(
      fc.integer({ min: 400, max: 499 }).filter((s) => !special.has(s)),
      (status) => {
        const err = errorForStatus(status, 'x');
        return err.constructor === PermanentError && !shouldRetry(err);
      },
    ),
  );
});

test('the error keeps status, reason, message and a name that says its class', () => {
  const err = errorForStatus(409, 'create ConfigMap ns/a: exists', 'AlreadyExists');
  assert.is(err.status, 409);
  assert.is(err.reason, 'AlreadyExists');
  assert.is(err.message, 'create ConfigMap ns/a: exists');
  assert.is(err.name, 'AlreadyExistsError');
});

test('a network failure is transient and keeps its cause', () => {
  const cause = new Error('ECONNREFUSED');
  const err = networkError('Gerrit GET /a/x: refused', cause);
  assert.instance(err, TransientError);
  assert.is(err.cause, cause);
});

test('not implemented says so, with 501, and is permanent', () => {
  const err = new NotImplementedError('reconcile');
  assert.is(err.message, 'reconcile is not implemented yet');
  assert.is(err.status, 501);
  assert.instance(err, PermanentError);
});

test('shouldRetry: transient and unknown errors retry, the event\'s permanent faults are acked', () => {
  assert.ok(shouldRetry(new TransientError('x')));
  assert.ok(shouldRetry(new ConflictError('x')));
  assert.ok(shouldRetry(new Error('a bug')));
  assert.ok(shouldRetry('a thrown string'));
  assert.not.ok(shouldRetry(new PermanentError('bad event')));
  assert.not.ok(shouldRetry(new NotFoundError('change deleted')));
});

test('shouldRetry: our own deployment faults (credentials, missing feature) are not acked', () => {
  assert.ok(shouldRetry(new AuthError('bad password')));
  assert.ok(shouldRetry(new ForbiddenError('no RBAC')));
  assert.ok(shouldRetry(new NotImplementedError('x')));
});

test.run();
