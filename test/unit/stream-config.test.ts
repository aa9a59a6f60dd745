import ssh2 from 'ssh2';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadStreamConfig } from '../../shared/events/stream-config.js';
import { problems } from './support/config-errors.js';
import { withTempFile } from './support/temp-file.js';

const FINGERPRINT = `SHA256:${'A'.repeat(43)}`;
const PRIVATE_KEY = ssh2.utils.generateKeyPairSync('ed25519').private;

const complete = (key: string) => ({
  GERRIT_URL: 'https://gerrit.example.org/r/',
  GERRIT_USER: 'seakeeper-bot',
  GERRIT_PASSWORD: 'hunter2',
  GERRIT_SSH_HOST: 'gerrit-ssh.example.org',
  GERRIT_SSH_KEY: key,
  K_SINK: 'http://broker-ingress.knative-eventing.svc.cluster.local/seakeeper-system/ci',
  SEAKEEPER_NAMESPACE: 'seakeeper-system',
  KUBERNETES_SERVICE_HOST: '10.0.0.1',
});

test('a complete configuration, with its defaults', async () => {
  await withTempFile(PRIVATE_KEY, (key) => {
    const config = loadStreamConfig(complete(key));
    assert.is(config.GERRIT_SSH_PORT, 29418);
    assert.is(config.GERRIT_STREAM_CHECKPOINT, 'gerrit-stream-checkpoint');
    assert.is(config.SINK_TIMEOUT_MS, 4_000);
    assert.is(config.GERRIT_SSH_HOST_KEY, undefined);
    assert.match(config.GERRIT_SSH_KEY.toString('utf8'), 'OPENSSH PRIVATE KEY');
    assert.is(loadStreamConfig({ ...complete(key), GERRIT_SSH_HOST_KEY: FINGERPRINT }).GERRIT_SSH_HOST_KEY, FINGERPRINT);
  });
});

test('every missing variable is named at once, the cluster access too', () => {
  assert.equal(problems(() => loadStreamConfig({})), [
    'GERRIT_URL is required',
    'GERRIT_USER is required',
    'GERRIT_PASSWORD (or GERRIT_PASSWORD_FILE) is required',
    'GERRIT_SSH_HOST is required',
    'GERRIT_SSH_KEY is required',
    'K_SINK is required',
    'SEAKEEPER_NAMESPACE is required',
    'KUBECONFIG is required outside a cluster (KUBERNETES_SERVICE_HOST is not set)',
  ]);
});

test('malformed values are named with what they must be', async () => {
  await withTempFile(PRIVATE_KEY, (key) => {
    assert.equal(
      problems(() =>
        loadStreamConfig({ ...complete(key), GERRIT_SSH_PORT: '70000', GERRIT_SSH_HOST_KEY: 'MD5:aa:bb', SEAKEEPER_NAMESPACE: 'Not_A_Namespace', K_SINK: 'ftp://x/' }),
      ),
      [
        'GERRIT_SSH_PORT must be an integer from 1 to 65535',
        'GERRIT_SSH_HOST_KEY must be a SHA256 fingerprint as ssh-keygen -lf prints it (SHA256:…)',
        'K_SINK must be an absolute http(s) URL',
        'SEAKEEPER_NAMESPACE must be a DNS-1123 label',
      ],
    );
  });
});

test('a key ssh2 cannot use (not a key, or encrypted) is refused at start-up', async () => {
  await withTempFile('not a key', (key) => {
    assert.equal(problems(() => loadStreamConfig(complete(key))), ['GERRIT_SSH_KEY is not an unencrypted private key (Unsupported key format)']);
  });
  const encrypted = ssh2.utils.generateKeyPairSync('ed25519', { passphrase: 'secret', cipher: 'aes256-ctr', rounds: 16 }).private;
  await withTempFile(encrypted, (key) => {
    assert.match(problems(() => loadStreamConfig(complete(key)))[0]!, /^GERRIT_SSH_KEY is not an unencrypted private key \(Encrypted/);
  });
});

test.run();
