// ClusterClient: RestCluster (rest.ts) whose requests go through @kubernetes/client-node — its kubeconfig loading
// and authentication (exec and auth-provider plugins, OIDC, proxies, a rotated token file) and its fetch. For what
// provisions namespaces (project-config-changed, reconcile, `npm run reconcile` with an operator's kubeconfig)
// and tools; the pipeline functions use HttpCluster, which does not load client-node (bench/README.md, "The two
// cluster clients").
//
// Only the transport is client-node's: its typed models drop or rename fields (a NetworkPolicy rule's `from`, a
// LimitRange's `default`), so objects go and come as the API server's JSON, through RestCluster like HttpCluster's.
import {
  createConfiguration,
  KubeConfig,
  ServerConfiguration,
  type Configuration,
  type HttpMethod,
  type RequestContext,
  type SecurityAuthentication,
} from '@kubernetes/client-node';
import { ConfigError, type Env } from '../env.js';
import type { ClusterClientOptions, TokenConnection } from './api.js';
import { clusterFromEnvWith } from './env.js';
import { kubeconfigOrInCluster, RestCluster, type Transport, type TransportAnswer, type TransportRequest } from './rest.js';

export * from './api.js';

/** A body that is not there (client-node gives none for an answer without one). */
const EMPTY: AsyncIterable<Uint8Array> = { async *[Symbol.asyncIterator]() {} };

/**
 * The kubeconfig's authentication, with one connection pool for every request. client-node builds a new undici
 * Agent for each request when the cluster has a CA (always, here), so no connection is ever reused: each
 * request pays a TLS handshake on both ends and leaves an idle agent behind. The kubeconfig still sets each
 * request's credentials (a projected token is re-read, an exec plugin asked); only the pool is kept.
 */
class ClientNodeTransport implements Transport {
  readonly #kc: KubeConfig;
  readonly #configuration: Configuration;
  #pool: ReturnType<RequestContext['getDispatcher']>;

  constructor(kc: KubeConfig) {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new ConfigError(['the kubeconfig has no current cluster']);
    this.#kc = kc;
    this.#configuration = createConfiguration({ baseServer: new ServerConfiguration(cluster.server, {}), authMethods: { default: this.#authentication() } });
  }

  async send({ method, path, body, signal }: TransportRequest): Promise<TransportAnswer> {
    const context = this.#configuration.baseServer.makeRequestContext(path, method as HttpMethod);
    context.setHeaderParam('Accept', 'application/json');
    if (body) {
      context.setHeaderParam('Content-Type', body.contentType);
      context.setBody(body.text);
    }
    context.setSignal(signal);
    await this.#configuration.authMethods.default?.applySecurityAuthentication(context);
    const response = await this.#configuration.httpApi.send(context).toPromise();
    return { status: response.httpStatusCode, body: response.body.stream() ?? EMPTY };
  }

  close(): void {
    void this.#pool?.destroy();
  }

  #authentication(): SecurityAuthentication {
    return {
      getName: () => 'kubeconfig authentication, one connection pool',
      applySecurityAuthentication: async (context) => {
        await this.#kc.applySecurityAuthentication(context);
        this.#pool ??= context.getDispatcher();
        if (this.#pool) context.setDispatcher(this.#pool);
      },
    };
  }
}

export class ClusterClient extends RestCluster {
  private constructor(kc: KubeConfig, options?: ClusterClientOptions) {
    super(new ClientNodeTransport(kc), options);
  }

  static fromKubeconfigFile(path: string, options?: ClusterClientOptions): ClusterClient {
    const kc = new KubeConfig();
    kc.loadFromFile(path);
    return new ClusterClient(kc, options);
  }

  /** The pod's ServiceAccount, as Knative runs us. */
  static inCluster(options?: ClusterClientOptions): ClusterClient {
    const kc = new KubeConfig();
    kc.loadFromCluster();
    return new ClusterClient(kc, options);
  }

  /** Acts as whoever the bearer token belongs to, e.g. a ServiceAccount's token from the TokenRequest API. */
  static fromToken(connection: TokenConnection, options?: ClusterClientOptions): ClusterClient {
    const kc = new KubeConfig();
    kc.loadFromClusterAndUser(
      { name: 'cluster', server: connection.server, caData: connection.caData, caFile: connection.caFile, skipTLSVerify: false },
      { name: 'token', token: connection.token },
    );
    return new ClusterClient(kc, options);
  }

  /** KUBECONFIG when set, else the in-cluster ServiceAccount. */
  static fromEnv(env: Env = process.env, options?: ClusterClientOptions): ClusterClient {
    return kubeconfigOrInCluster(env, { kubeconfig: (file) => ClusterClient.fromKubeconfigFile(file, options), inCluster: () => ClusterClient.inCluster(options) });
  }
}

/** ClusterClient.fromEnv with KUBERNETES_TIMEOUT_MS, an unreadable KUBECONFIG reported as the variable's problem. */
export function clusterClientFromEnv(env: Env = process.env): ClusterClient {
  return clusterFromEnvWith((options) => ClusterClient.fromEnv(env, options), env);
}
