import { createServer, type AddressInfo } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigError } from '../../shared/env.js';
import {
  AlreadyExistsError,
  ConflictError,
  ForbiddenError,
  NotFoundError,
  PermanentError,
  TransientError,
} from '../../shared/errors.js';
import { ClusterClient } from '../../shared/k8s/cluster.js';
import { malformedLine, noAnswer, parseStatus, statusError } from '../../shared/k8s/errors.js';
import { HttpCluster } from '../../shared/k8s/http-cluster.js';

// What the API server answers: a Status body as text.
const answer = (code: number, reason: string, message: string) =>
  statusError(code, parseStatus(JSON.stringify({ kind: 'Status', code, reason, message })), 'create ConfigMap ns/a');

test('409 AlreadyExists and 409 Conflict are told apart by the Status reason', () => {
  const exists = answer(409, 'AlreadyExists', 'configmaps "a" already exists');
  const stale = answer(409, 'Conflict', 'the object has been modified');
  assert.instance(exists, AlreadyExistsError);
  assert.instance(stale, ConflictError);
  assert.not.instance(stale, AlreadyExistsError);
});

test('the message names the call and carries the server\'s explanation', () => {
  const err = statusError(403, parseStatus(JSON.stringify({ reason: 'Forbidden', message: 'configmaps is forbidden: User "x" cannot list' })), 'list ConfigMap ns');
  assert.instance(err, ForbiddenError);
  assert.is(err.message, 'list ConfigMap ns: configmaps is forbidden: User "x" cannot list');
  assert.is(err.status, 403);
  assert.is(err.reason, 'Forbidden');
});

test('404 is NotFound; 422 Invalid and 400 BadRequest (strict field validation) are permanent', () => {
  assert.instance(answer(404, 'NotFound', 'configmaps "a" not found'), NotFoundError);
  assert.is(answer(422, 'Invalid', 'x').constructor, PermanentError);
  assert.is(answer(400, 'BadRequest', 'strict decoding error: unknown field').constructor, PermanentError);
});

test('server-side apply\'s 500 for an object that does not fit the schema is permanent; other 500s are transient', () => {
  const misfit = answer(500, '', 'failed to create typed patch object (ns/x; argoproj.io/v1alpha1, Kind=Workflow): .spec.x: field not declared in schema');
  assert.is(misfit.constructor, PermanentError);
  assert.instance(answer(500, 'InternalError', 'etcdserver: request timed out'), TransientError);
});

test('a body that is not a Status still yields a classified error, with the start of the body', () => {
  const err = statusError(502, parseStatus('<html>bad gateway</html>'), 'get');
  assert.instance(err, TransientError);
  assert.match(err.message, 'bad gateway');
  assert.is(statusError(503, parseStatus(''), 'get').message, 'get: 503');
});

test('no answer is transient, with the socket\'s error that undici keeps as the cause, or the deadline', () => {
  const refused = new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }) });
  const err = noAnswer(refused, 'get ConfigMap ns/a');
  assert.instance(err, TransientError);
  assert.is(err.message, 'get ConfigMap ns/a: fetch failed: connect ECONNREFUSED 127.0.0.1:1');
  assert.is(err.cause, refused);
  assert.is(noAnswer(new Error('This operation was aborted'), 'get', 'no answer within 500 ms').message, 'get: no answer within 500 ms');
});

test('a watch line that is not JSON is transient and quoted', () => {
  const err = malformedLine('{"type":"ADDED","obj', 'watch /api/v1/configmaps', new SyntaxError('x'));
  assert.instance(err, TransientError);
  assert.match(err.message, 'watch /api/v1/configmaps: the API server sent a watch line that is not JSON: {"type":"ADDED","obj');
});

for (const Client of [ClusterClient, HttpCluster]) {
  test(`${Client.name}: fromEnv without KUBECONFIG outside a cluster names KUBECONFIG`, () => {
    assert.throws(() => Client.fromEnv({}), (err: unknown) => err instanceof ConfigError && /KUBECONFIG/.test((err as Error).message));
  });

  test(`${Client.name}: a kubeconfig file that does not exist is an error at construction`, () => {
    assert.throws(() => Client.fromKubeconfigFile('/nonexistent/kubeconfig'), /ENOENT/);
  });

  test(`${Client.name}: a server that refuses connections gives a TransientError that says so`, async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const client = Client.fromToken({ server: `https://127.0.0.1:${port}`, token: 't' });
    try {
      await client.get('v1', 'ConfigMap', 'default', 'a');
      assert.unreachable();
    } catch (err) {
      assert.instance(err, TransientError);
      assert.match((err as Error).message, 'ECONNREFUSED');
    } finally {
      client.close();
    }
  });
}

test.run();
