// HttpCluster (shared/k8s/http-cluster.ts, the client that does not load @kubernetes/client-node) against the
// rig's real kube-apiserver: kube.test.ts's whole contract, run over it.
process.env.SEAKEEPER_KUBE_CLIENT = 'http';
await import('./kube.test.js');
