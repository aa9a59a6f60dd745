// gerrit-stream's cluster client comes from the same configuration path as every function's: KUBECONFIG
// problems are ConfigErrors that name the variable, and KUBERNETES_TIMEOUT_MS bounds each request.
import ssh2 from 'ssh2';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigError } from '../../shared/env.js';
import { TransientError } from '../../shared/errors.js';
import { gerritStreamFromEnv } from '../../sources/gerrit-stream/configure.js';
import { deadServer } from '../integration/support/dead-server.js';
import { rejectionOf } from '../integration/support/wait.js';
import { withTempFile } from './support/temp-file.js';

const PRIVATE_KEY = ssh2.utils.generateKeyPairSync('ed25519').private;

const streamEnv = (key: string) => ({
  GERRIT_URL: 'http://127.0.0.1:9/',
  GERRIT_USER: 'seakeeper-bot',
  GERRIT_PASSWORD: 'hunter2',
  GERRIT_SSH_HOST: '127.0.0.1',
  GERRIT_SSH_KEY: key,
  K_SINK: 'http://127.0.0.1:9/',
  SEAKEEPER_NAMESPACE: 'seakeeper-system',
});

const kubeconfig = (server: string) =>
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    'current-context': 'c',
    contexts: [{ name: 'c', context: { cluster: 'k', user: 'u' } }],
    clusters: [{ name: 'k', cluster: { server } }],
    users: [{ name: 'u', user: { token: 't' } }],
  });

test('gerrit-stream: a KUBECONFIG that cannot be loaded is a ConfigError naming KUBECONFIG', async () => {
  await withTempFile(PRIVATE_KEY, (key) => {
    assert.throws(
      () => gerritStreamFromEnv({ ...streamEnv(key), KUBECONFIG: '/nonexistent/kubeconfig' }),
      (err: unknown) => err instanceof ConfigError && /KUBECONFIG/.test(err.message),
    );
  });
});

test('gerrit-stream: a malformed KUBERNETES_TIMEOUT_MS is a ConfigError naming it', async () => {
  await withTempFile(PRIVATE_KEY, (key) =>
    withTempFile(kubeconfig('https://127.0.0.1:9'), (config) => {
      assert.throws(
        () => gerritStreamFromEnv({ ...streamEnv(key), KUBECONFIG: config, KUBERNETES_TIMEOUT_MS: 'soon' }),
        (err: unknown) => err instanceof ConfigError && /KUBERNETES_TIMEOUT_MS/.test(err.message),
      );
    }),
  );
});

test('gerrit-stream: reading the checkpoint from an API server that never answers fails within KUBERNETES_TIMEOUT_MS', async () => {
  const dead = await deadServer();
  try {
    await withTempFile(PRIVATE_KEY, (key) =>
      withTempFile(kubeconfig(`https://127.0.0.1:${dead.port}`), async (config) => {
        const { adapter, sink } = gerritStreamFromEnv({ ...streamEnv(key), KUBECONFIG: config, KUBERNETES_TIMEOUT_MS: '300' });
        const { err, ms } = await rejectionOf(adapter.start());
        sink.close();
        assert.instance(err, TransientError);
        // The default deadline is 30 s; well under it means the variable was used.
        assert.ok(ms < 5_000, `took ${ms} ms`);
      }),
    );
  } finally {
    await dead.close();
  }
});

test.run();
