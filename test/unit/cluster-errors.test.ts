import { createServer, type AddressInfo } from 'node:net';
import { ApiException } from '@kubernetes/client-node';
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
import { clusterError, watchError } from '../../shared/k8s/errors.js';

// What the API server answers, as client-node hands it over: the Status body as text.
const apiException = (code: number, reason: string, message: string) =>
  new ApiException(code, 'Unsuccessful HTTP Request', JSON.stringify({ kind: 'Status', code, reason, message }), {});

test('409 AlreadyExists and 409 Conflict are told apart by the Status reason', () => {
  const exists = clusterError(apiException(409, 'AlreadyExists', 'configmaps "a" already exists'), 'create ConfigMap ns/a');
  const stale = clusterError(apiException(409, 'Conflict', 'the object has been modified'), 'patch ConfigMap ns/a');
  assert.instance(exists, AlreadyExistsError);
  assert.instance(stale, ConflictError);
  assert.not.instance(stale, AlreadyExistsError);
});

test('the message names the call and carries the server\'s explanation, not the raw exception dump', () => {
  const err = clusterError(apiException(403, 'Forbidden', 'configmaps is forbidden: User "x" cannot list'), 'list ConfigMap ns') as Error;
  assert.instance(err, ForbiddenError);
  assert.is(err.message, 'list ConfigMap ns: configmaps is forbidden: User "x" cannot list');
});

test('404 on an object is NotFound; 404 while discovering the apiVersion is a permanent "not served"', () => {
  assert.instance(clusterError(apiException(404, 'NotFound', 'configmaps "a" not found'), 'get'), NotFoundError);
  const discovery = apiException(404, 'NotFound', 'the server could not find the requested resource');
  discovery.message = `Failed to fetch resource metadata for example.org/v1/Thing: ${discovery.message}`;
  const err = clusterError(discovery, 'get Thing ns/a');
  assert.instance(err, PermanentError);
  assert.not.instance(err, NotFoundError);
  assert.match((err as Error).message, 'does not serve this apiVersion');
});

test('422 Invalid and 400 BadRequest (strict field validation) are permanent', () => {
  assert.is((clusterError(apiException(422, 'Invalid', 'x'), 'w') as Error).constructor, PermanentError);
  assert.is((clusterError(apiException(400, 'BadRequest', 'strict decoding error: unknown field'), 'w') as Error).constructor, PermanentError);
});

test('server-side apply\'s 500 for an object that does not fit the schema is permanent; other 500s are transient', () => {
  const misfit = apiException(500, '', 'failed to create typed patch object (ns/x; argoproj.io/v1alpha1, Kind=Workflow): .spec.x: field not declared in schema');
  assert.is((clusterError(misfit, 'apply') as Error).constructor, PermanentError);
  assert.instance(clusterError(apiException(500, 'InternalError', 'etcdserver: request timed out'), 'apply'), TransientError);
});

test('a body that is not a Status still yields a classified error', () => {
  const err = clusterError(new ApiException(502, 'x', '<html>bad gateway</html>', {}), 'get') as Error;
  assert.instance(err, TransientError);
  assert.match(err.message, 'bad gateway');
});

test('an unknown kind is permanent', () => {
  assert.instance(clusterError(new Error('Unrecognized API version and kind: v1 Nonsense'), 'create'), PermanentError);
});

test('network failures and timeouts are transient, also when they hit the discovery step', () => {
  const viaDiscovery = new TypeError('Failed to fetch resource metadata for v1/ConfigMap: fetch failed');
  assert.instance(clusterError(viaDiscovery, 'get'), TransientError);
  const refused = new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }) });
  const err = clusterError(refused, 'get') as Error;
  assert.instance(err, TransientError);
  assert.match(err.message, 'ECONNREFUSED');
  assert.instance(clusterError(new DOMException('The operation was aborted due to timeout', 'TimeoutError'), 'get'), TransientError);
  assert.instance(clusterError(Object.assign(new Error('reset'), { code: 'ECONNRESET' }), 'get'), TransientError);
});

test('anything else passes through untouched (a bug stays a bug)', () => {
  const bug = new TypeError('cannot read properties of undefined');
  assert.is(clusterError(bug, 'get'), bug);
});

test('a refused watch carries its HTTP status', () => {
  assert.instance(watchError(Object.assign(new Error('Forbidden'), { statusCode: 403 }), 'watch /api/v1/configmaps'), ForbiddenError);
  assert.instance(watchError(Object.assign(new Error('Gone'), { statusCode: 410 }), 'watch'), PermanentError);
});

test('fromEnv without KUBECONFIG outside a cluster names KUBECONFIG', () => {
  assert.throws(() => ClusterClient.fromEnv({}), (err: unknown) => err instanceof ConfigError && /KUBECONFIG/.test((err as Error).message));
});

test('a kubeconfig file that does not exist is an error at construction', () => {
  assert.throws(() => ClusterClient.fromKubeconfigFile('/nonexistent/kubeconfig'), /ENOENT/);
});

test('a server that refuses connections gives a TransientError', async () => {
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const { port } = closed.address() as AddressInfo;
  await new Promise((resolve) => closed.close(resolve));
  const client = ClusterClient.fromToken({ server: `https://127.0.0.1:${port}`, token: 't' });
  try {
    await client.get('v1', 'ConfigMap', 'default', 'a');
    assert.unreachable();
  } catch (err) {
    assert.instance(err, TransientError);
  }
});

test.run();
