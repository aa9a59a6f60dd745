// gerrit-stream's configuration, from the environment (a Knative ContainerSource injects K_SINK), checked at
// start-up with every problem named at once.
import ssh2 from 'ssh2';
import { ConfigError, fileContent, httpUrl, integer, loadEnv, optional, text, withDefault, type Env } from '../env.js';
import { gerritEnv } from '../gerrit/env.js';
import { DEFAULT_CHECKPOINT_NAME } from './checkpoint-store.js';
import { DEFAULT_SINK_TIMEOUT_MS } from './sink.js';

/** Gerrit's default SSH port. */
export const DEFAULT_GERRIT_SSH_PORT = 29418;
const DNS_LABEL = { pattern: /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, description: 'a DNS-1123 label' };
const DNS_SUBDOMAIN = { pattern: /^[a-z0-9]([-.a-z0-9]{0,251}[a-z0-9])?$/, description: 'a DNS-1123 subdomain' };
const FINGERPRINT = { pattern: /^SHA256:[A-Za-z0-9+/]{43}$/, description: 'a SHA256 fingerprint as ssh-keygen -lf prints it (SHA256:…)' };

export const streamEnv = {
  ...gerritEnv,
  GERRIT_SSH_HOST: text(),
  GERRIT_SSH_PORT: withDefault(integer({ min: 1, max: 65_535 }), DEFAULT_GERRIT_SSH_PORT),
  /** A path: the private key, mounted from a Secret. */
  GERRIT_SSH_KEY: fileContent(),
  GERRIT_SSH_HOST_KEY: optional(text(FINGERPRINT)),
  K_SINK: httpUrl(),
  SINK_TIMEOUT_MS: withDefault(integer({ min: 100, max: 60_000 }), DEFAULT_SINK_TIMEOUT_MS),
  /** Where the checkpoint ConfigMap lives: the adapter's own namespace. */
  SEAKEEPER_NAMESPACE: text(DNS_LABEL),
  GERRIT_STREAM_CHECKPOINT: withDefault(text(DNS_SUBDOMAIN), DEFAULT_CHECKPOINT_NAME),
};

export type StreamConfig = ReturnType<typeof loadEnv<typeof streamEnv>>;

/** Throws a ConfigError naming every bad variable, KUBECONFIG included when there is no cluster to talk to. */
export function loadStreamConfig(env: Env = process.env): StreamConfig {
  const problems: string[] = [];
  let config: StreamConfig | undefined;
  try {
    config = loadEnv(streamEnv, env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems.push(...err.problems);
  }
  // ssh2 would only find out at the first connection, and throw there.
  const key = config === undefined ? undefined : ssh2.utils.parseKey(config.GERRIT_SSH_KEY);
  if (key instanceof Error) problems.push(`GERRIT_SSH_KEY is not an unencrypted private key (${key.message})`);
  if (!env.KUBECONFIG && !env.KUBERNETES_SERVICE_HOST) problems.push('KUBECONFIG is required outside a cluster (KUBERNETES_SERVICE_HOST is not set)');
  if (problems.length > 0 || !config) throw new ConfigError(problems);
  return config;
}
