// HttpCluster: RestCluster (rest.ts) over node:http(s), for the processes that must start fast and stay small:
// every function's but provisioning's, gerrit-stream, make dev. Loading @kubernetes/client-node, which
// ClusterClient's transport uses, costs a fresh process about 1 s and 50 MiB (bench/README.md, "The two cluster
// clients"), against targets of 500 ms and 100 MB for a whole function process. This module imports nothing of
// client-node.
//
// Credentials: a kubeconfig's client certificate or bearer token (a `tokenFile` re-read, like the in-cluster
// ServiceAccount token, which the kubelet rotates); exec and auth-provider plugins are not supported (ClusterClient
// supports them). One pool of kept-alive connections per client.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ConfigError, type Env } from '../env.js';
import type { ClusterClientOptions, TokenConnection } from './api.js';
import { clusterFromEnvWith } from './env.js';
import { kubeconfigOrInCluster, RestCluster, type Transport, type TransportAnswer, type TransportRequest } from './rest.js';

/** HttpCluster.fromEnv with KUBERNETES_TIMEOUT_MS: KUBECONFIG, else the pod's ServiceAccount. */
export const httpClusterFromEnv = (env: Env = process.env): HttpCluster => clusterFromEnvWith((options) => HttpCluster.fromEnv(env, options), env);

const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
/** A token file is read again after this long (the kubelet rotates projected tokens well before they expire). */
const TOKEN_REREAD_MS = 60_000;

/** Where the API server is and how to prove who we are. */
export interface ClusterCredentials {
  readonly server: string;
  readonly ca?: Buffer | undefined;
  readonly cert?: Buffer | undefined;
  readonly key?: Buffer | undefined;
  /** The bearer token, read when needed. */
  readonly token?: (() => string) | undefined;
  readonly insecureSkipTlsVerify?: boolean | undefined;
  readonly tlsServerName?: string | undefined;
}

/** A file's content, or undefined; a path relative to the kubeconfig is read beside it. */
function fileOrData(base: string, file: unknown, data: unknown): Buffer | undefined {
  if (typeof data === 'string' && data !== '') return Buffer.from(data, 'base64');
  if (typeof file === 'string' && file !== '') return readFileSync(path.resolve(base, file));
  return undefined;
}

/** A token read from a file, kept for TOKEN_REREAD_MS. */
function tokenFromFile(file: string): () => string {
  let token = '';
  let readAt = -Infinity;
  return () => {
    const now = Date.now();
    if (now - readAt > TOKEN_REREAD_MS) {
      token = readFileSync(file, 'utf8').trim();
      readAt = now;
    }
    return token;
  };
}

const named = (list: unknown, name: unknown): Record<string, unknown> | undefined =>
  (Array.isArray(list) ? list : []).find((entry) => (entry as { name?: unknown })?.name === name) as Record<string, unknown> | undefined;

/** The current context's cluster and user of a kubeconfig's text; `file` locates relative paths. */
export function credentialsFromKubeconfig(text: string, file: string): ClusterCredentials {
  const config = (parseYaml(text) ?? {}) as Record<string, unknown>;
  const base = path.dirname(file);
  const context = named(config.contexts, config['current-context'])?.context as Record<string, unknown> | undefined;
  if (!context) throw new ConfigError([`KUBECONFIG ${file} has no current context`]);
  const cluster = named(config.clusters, context.cluster)?.cluster as Record<string, unknown> | undefined;
  if (!cluster || typeof cluster.server !== 'string') throw new ConfigError([`KUBECONFIG ${file}: the current context's cluster has no server`]);
  const user = (named(config.users, context.user)?.user ?? {}) as Record<string, unknown>;
  if (user.exec !== undefined || user['auth-provider'] !== undefined) {
    throw new ConfigError([`KUBECONFIG ${file}: exec and auth-provider credentials are not supported; use a client certificate or a token`]);
  }
  const token = typeof user.token === 'string' ? user.token : undefined;
  const tokenFile = typeof user.tokenFile === 'string' ? path.resolve(base, user.tokenFile) : undefined;
  return {
    server: cluster.server,
    ca: fileOrData(base, cluster['certificate-authority'], cluster['certificate-authority-data']),
    cert: fileOrData(base, user['client-certificate'], user['client-certificate-data']),
    key: fileOrData(base, user['client-key'], user['client-key-data']),
    token: token !== undefined ? () => token : tokenFile !== undefined ? tokenFromFile(tokenFile) : undefined,
    insecureSkipTlsVerify: cluster['insecure-skip-tls-verify'] === true,
    tlsServerName: typeof cluster['tls-server-name'] === 'string' ? cluster['tls-server-name'] : undefined,
  };
}

/** Requests over node:http(s) with one kept-alive pool, as the credentials say. */
class NodeHttpTransport implements Transport {
  readonly #server: string;
  readonly #module: typeof https | typeof http;
  readonly #token: (() => string) | undefined;
  readonly #agent: http.Agent;

  constructor(credentials: ClusterCredentials) {
    const server = new URL(credentials.server);
    // A path of the server's (a proxy's prefix) stays in front of every request's.
    this.#server = server.href.replace(/\/$/, '');
    this.#token = credentials.token;
    this.#module = server.protocol === 'https:' ? https : http;
    this.#agent =
      server.protocol === 'https:'
        ? new https.Agent({
            keepAlive: true,
            ...(credentials.ca ? { ca: credentials.ca } : {}),
            ...(credentials.cert ? { cert: credentials.cert } : {}),
            ...(credentials.key ? { key: credentials.key } : {}),
            ...(credentials.tlsServerName ? { servername: credentials.tlsServerName } : {}),
            rejectUnauthorized: credentials.insecureSkipTlsVerify !== true,
          })
        : new http.Agent({ keepAlive: true });
  }

  async send({ method, path: at, body, signal }: TransportRequest): Promise<TransportAnswer> {
    const token = this.#token?.();
    const headers = {
      accept: 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body ? { 'content-type': body.contentType, 'content-length': String(Buffer.byteLength(body.text)) } : {}),
    };
    return new Promise((resolve, reject) => {
      const req = this.#module.request(`${this.#server}${at}`, { method, agent: this.#agent, headers, signal }, (res) =>
        resolve({ status: res.statusCode ?? 0, body: res }),
      );
      req.on('error', reject);
      req.end(body?.text);
    });
  }

  close(): void {
    this.#agent.destroy();
  }
}

export class HttpCluster extends RestCluster {
  constructor(credentials: ClusterCredentials, options?: ClusterClientOptions) {
    super(new NodeHttpTransport(credentials), options);
  }

  static fromKubeconfigFile(file: string, options?: ClusterClientOptions): HttpCluster {
    return new HttpCluster(credentialsFromKubeconfig(readFileSync(file, 'utf8'), file), options);
  }

  /** The pod's ServiceAccount, as Knative runs us. */
  static inCluster(env: Env = process.env, options?: ClusterClientOptions): HttpCluster {
    const host = env.KUBERNETES_SERVICE_HOST;
    const port = env.KUBERNETES_SERVICE_PORT ?? '443';
    if (!host) throw new ConfigError(['KUBERNETES_SERVICE_HOST is not set: not in a cluster']);
    const server = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
    return new HttpCluster({ server, ca: readFileSync(path.join(SERVICE_ACCOUNT_DIR, 'ca.crt')), token: tokenFromFile(path.join(SERVICE_ACCOUNT_DIR, 'token')) }, options);
  }

  /** Acts as whoever the bearer token belongs to, e.g. a ServiceAccount's token from the TokenRequest API. */
  static fromToken(connection: TokenConnection, options?: ClusterClientOptions): HttpCluster {
    const ca = connection.caData ? Buffer.from(connection.caData, 'base64') : connection.caFile ? readFileSync(connection.caFile) : undefined;
    return new HttpCluster({ server: connection.server, ca, token: () => connection.token }, options);
  }

  /** KUBECONFIG when set, else the in-cluster ServiceAccount. */
  static fromEnv(env: Env = process.env, options?: ClusterClientOptions): HttpCluster {
    return kubeconfigOrInCluster(env, { kubeconfig: (file) => HttpCluster.fromKubeconfigFile(file, options), inCluster: () => HttpCluster.inCluster(env, options) });
  }
}
