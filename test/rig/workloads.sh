# shellcheck shell=bash
# The rig's workload half, sourced by rig.sh: the real kube-scheduler, KWOK playing the kubelets of a few fake
# nodes (test/rig/kwok/stages.yaml says how their pods run), and Argo's own workflow-controller, out of cluster,
# acting as its own ServiceAccount with the RBAC Argo ships. Together they make every Workflow really run:
# Argo creates the pods, the scheduler binds them, KWOK moves them through their phases, Argo writes the status.

ARGO_VERSION=${ARGO_VERSION:-v3.7.18}
KWOK_VERSION=${KWOK_VERSION:-v0.7.0}
ARGO_HOME=$CACHE/argo/$ARGO_VERSION
KWOK_BIN=$CACHE/kwok/$KWOK_VERSION/bin
ARGO_NAMESPACE=argo
# A small CI node pool: RIG_NODES nodes of RIG_NODE_CPU cores and RIG_NODE_MEMORY each.
RIG_NODES=${RIG_NODES:-4}
RIG_NODE_CPU=${RIG_NODE_CPU:-8}
RIG_NODE_MEMORY=${RIG_NODE_MEMORY:-32Gi}
RIG_NODE_PODS=${RIG_NODE_PODS:-110}

rig_kubectl() { "$KUBE_BIN/kubectl" --kubeconfig="$STATE/admin.kubeconfig" "$@"; }

start_scheduler() {
  kubeconfig "$STATE/scheduler.kubeconfig" scheduler
  start kube-scheduler "$KUBE_BIN/kube-scheduler" \
    --kubeconfig="$STATE/scheduler.kubeconfig" \
    --authentication-kubeconfig="$STATE/scheduler.kubeconfig" \
    --authorization-kubeconfig="$STATE/scheduler.kubeconfig" \
    --leader-elect=false --bind-address=127.0.0.1 --secure-port="$(free_port)"
}

fake_nodes() {
  local i
  for ((i = 0; i < RIG_NODES; i++)); do
    cat <<YAML
apiVersion: v1
kind: Node
metadata:
  name: rig-node-$i
  annotations: { kwok.x-k8s.io/node: fake }
  labels: { type: kwok, kubernetes.io/hostname: rig-node-$i, kubernetes.io/os: linux, kubernetes.io/arch: amd64 }
status:
  allocatable: { cpu: "$RIG_NODE_CPU", memory: $RIG_NODE_MEMORY, pods: "$RIG_NODE_PODS" }
  capacity: { cpu: "$RIG_NODE_CPU", memory: $RIG_NODE_MEMORY, pods: "$RIG_NODE_PODS" }
---
YAML
  done
}

nodes_ready() {
  local ready
  ready=$(rig_kubectl get nodes -l type=kwok -o \
    jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' | grep -c '^True$')
  (( ready == RIG_NODES ))
}

start_kwok() {
  # KWOK_WORKDIR keeps it from reading a ~/.kwok/kwok.yaml of the machine's.
  mkdir -p "$STATE/kwok"
  # Node Leases every 40 s, as kubelets keep them (without, KWOK's heartbeat falls to once in ten minutes).
  start kwok env KWOK_WORKDIR="$STATE/kwok" "$KWOK_BIN/kwok" \
    --kubeconfig="$STATE/admin.kubeconfig" --config="$HERE/kwok/stages.yaml" \
    --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
    --node-ip=10.1.0.1 --cidr=10.244.0.0/16 --node-lease-duration-seconds=40
  fake_nodes | rig_kubectl create -f - >/dev/null
  local started_at=$SECONDS
  wait_for "$RIG_NODES fake nodes (kwok)" "$STATE/logs/kwok.log" nodes_ready
  # The API server taints a new node not-ready; kube-controller-manager's node lifecycle controller, which would
  # lift it, is off in the rig (its evictions are for real kubelets that stop answering), so the rig lifts it.
  rig_kubectl taint nodes -l type=kwok node.kubernetes.io/not-ready:NoSchedule- >/dev/null
}

# A one-step Workflow through the whole chain — Argo creates the pod, the scheduler binds it, KWOK runs it,
# Argo marks the run Succeeded — so that rig-up returns only once runs really run.
smoke_run_succeeded() {
  [[ $(rig_kubectl get workflow rig-smoke -n "$ARGO_NAMESPACE" -o jsonpath='{.status.phase}') == Succeeded ]]
}

start_argo() {
  rig_kubectl create namespace "$ARGO_NAMESPACE" >/dev/null
  rig_kubectl apply -k "$ARGO_HOME/manifests" >/dev/null
  rig_kubectl apply -f "$HERE/argo/workflow-controller-configmap.yaml" >/dev/null
  local token
  token=$(rig_kubectl create token argo -n "$ARGO_NAMESPACE" --duration=48h)
  kubeconfig "$STATE/argo.kubeconfig" argo --token="$token"
  # One replica: no leader election. Argo's pods name the executor image only as a string nobody pulls.
  # DEFAULT_REQUEUE_TIME: Argo looks at a running Workflow again after 2 s instead of 10 (its docs: "as low as 2s"
  # for many short steps), so the rig's one-second pods do not keep a test waiting.
  start workflow-controller env LEADER_ELECTION_DISABLE=true DEFAULT_REQUEUE_TIME=2s "$ARGO_HOME/bin/workflow-controller" \
    --kubeconfig="$STATE/argo.kubeconfig" --namespace="$ARGO_NAMESPACE" --loglevel=info
  rig_kubectl create -n "$ARGO_NAMESPACE" -f - >/dev/null <<'YAML'
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: { name: rig-smoke }
spec:
  entrypoint: main
  podGC: { strategy: OnWorkflowCompletion }
  templates:
    - name: main
      container: { image: rig.invalid/smoke, command: ["true"] }
YAML
  local started_at=$SECONDS
  wait_for "argo workflow-controller $ARGO_VERSION (a smoke run Succeeded)" "$STATE/logs/workflow-controller.log" smoke_run_succeeded
  rig_kubectl delete workflow rig-smoke -n "$ARGO_NAMESPACE" --wait=false >/dev/null
}

start_workloads() {
  start_scheduler
  start_kwok
  start_argo
}
