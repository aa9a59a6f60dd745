#!/usr/bin/env bash
# The test rig: a real etcd + kube-apiserver + kube-controller-manager + kube-scheduler, KWOK's fake nodes,
# Argo's own workflow-controller (workloads.sh) and a real Gerrit, on loopback ports, with state in a temporary
# directory. `rig.sh up` starts it (or reuses a healthy one), `rig.sh down`
# stops exactly the processes it started, `rig.sh status` says whether it is up.
#
# .rig/ in the repository (gitignored) holds what other tools read: `env` (sourceable), `pids`, `state`.
set -Eeuo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
RIG=${SEAKEEPER_RIG_DIR:-$ROOT/.rig}
KUBE_VERSION=${KUBE_VERSION:-v1.35.4}
ETCD_VERSION=${ETCD_VERSION:-v3.6.16}
GERRIT_VERSION=${GERRIT_VERSION:-3.10.2}
CACHE=${SEAKEEPER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/seakeeper}
KUBE_BIN=$CACHE/kube/$KUBE_VERSION/bin
ETCD_BIN=$CACHE/etcd/$ETCD_VERSION/bin
GERRIT_HOME=$CACHE/gerrit/$GERRIT_VERSION
READY_TIMEOUT=${RIG_READY_TIMEOUT:-180}
BOT_USER=seakeeper-bot
BOT_GROUP="Seakeeper CI"
# Every process `up` starts, by the name it is recorded under in .rig/pids.
RIG_PROCESSES=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok workflow-controller gerrit)
# shellcheck source=test/rig/workloads.sh
. "$HERE/workloads.sh"

log() { printf '[rig] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# Starts a command detached from this shell, logging to STATE/logs/NAME.log, and records its pid.
start() {
  local name=$1; shift
  setsid "$@" >"$STATE/logs/$name.log" 2>&1 < /dev/null &
  echo "$! $name" >> "$RIG/pids"
}

wait_for() {
  local what=$1 log_file=$2; shift 2
  local deadline=$((SECONDS + READY_TIMEOUT))
  until "$@" >/dev/null 2>&1; do
    if (( SECONDS > deadline )); then
      log "$what not ready after ${READY_TIMEOUT}s; last lines of $log_file:"
      tail -n 30 "$log_file" >&2 || true
      return 1
    fi
    sleep 1
  done
  log "$what ready after $((SECONDS - started_at))s"
}

# --- certificates -------------------------------------------------------------------------------------------
make_certs() {
  local d=$STATE/pki
  mkdir -p "$d"
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=seakeeper-rig-ca" \
    -keyout "$d/ca.key" -out "$d/ca.crt" 2>/dev/null
  sign() { # name subject [san]
    local name=$1 subject=$2 san=${3:-}
    openssl req -newkey rsa:2048 -nodes -subj "$subject" -keyout "$d/$name.key" -out "$d/$name.csr" 2>/dev/null
    if [[ -n $san ]]; then
      printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth,clientAuth\n' "$san" > "$d/$name.ext"
    else
      printf 'extendedKeyUsage=clientAuth\n' > "$d/$name.ext"
    fi
    openssl x509 -req -in "$d/$name.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial -days 2 \
      -extfile "$d/$name.ext" -out "$d/$name.crt" 2>/dev/null
  }
  sign apiserver "/CN=kube-apiserver" \
    "IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc"
  sign admin "/O=system:masters/CN=seakeeper-rig-admin"
  sign controller-manager "/CN=system:kube-controller-manager"
  sign scheduler "/CN=system:kube-scheduler"
  openssl genrsa -out "$d/sa.key" 2048 2>/dev/null
  openssl rsa -in "$d/sa.key" -pubout -out "$d/sa.pub" 2>/dev/null
}

kubeconfig() { # file user [credential flags; default: the user's certificate from make_certs]
  local file=$1 user=$2 kubectl=$KUBE_BIN/kubectl
  shift 2
  (( $# > 0 )) || set -- --client-certificate="$STATE/pki/$user.crt" --client-key="$STATE/pki/$user.key" --embed-certs
  "$kubectl" config --kubeconfig="$file" set-cluster rig --server="https://127.0.0.1:$API_PORT" \
    --certificate-authority="$STATE/pki/ca.crt" --embed-certs >/dev/null
  "$kubectl" config --kubeconfig="$file" set-credentials "$user" "$@" >/dev/null
  "$kubectl" config --kubeconfig="$file" set-context rig --cluster=rig --user="$user" >/dev/null
  "$kubectl" config --kubeconfig="$file" use-context rig >/dev/null
}

# --- kubernetes ---------------------------------------------------------------------------------------------
start_kube() {
  ETCD_PORT=$(free_port); ETCD_PEER_PORT=$(free_port); API_PORT=$(free_port)
  make_certs
  start etcd "$ETCD_BIN/etcd" --name rig --data-dir "$STATE/etcd" \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "rig=http://127.0.0.1:$ETCD_PEER_PORT" \
    --unsafe-no-fsync --quota-backend-bytes=4294967296 --log-level=warn
  local pki=$STATE/pki
  # --allow-privileged as kubeadm sets it: privileged pods are then judged by the namespace's Pod Security level,
  # as on the clusters Seakeeper runs on, instead of refused by the API server outright.
  start kube-apiserver "$KUBE_BIN/kube-apiserver" \
    --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
    --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$API_PORT" \
    --cert-dir="$STATE/apiserver" --tls-cert-file="$pki/apiserver.crt" --tls-private-key-file="$pki/apiserver.key" \
    --client-ca-file="$pki/ca.crt" \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$pki/sa.pub" --service-account-signing-key-file="$pki/sa.key" \
    --service-cluster-ip-range=10.0.0.0/24 \
    --authorization-mode=RBAC \
    --allow-privileged=true \
    --enable-priority-and-fairness=false \
    --storage-media-type=application/vnd.kubernetes.protobuf \
    --profiling=false
  kubeconfig "$STATE/admin.kubeconfig" admin
  kubeconfig "$STATE/controller-manager.kubeconfig" controller-manager
  local started_at=$SECONDS
  wait_for kube-apiserver "$STATE/logs/kube-apiserver.log" \
    "$KUBE_BIN/kubectl" --kubeconfig="$STATE/admin.kubeconfig" get --raw /readyz
  start kube-controller-manager "$KUBE_BIN/kube-controller-manager" \
    --kubeconfig="$STATE/controller-manager.kubeconfig" \
    --authentication-kubeconfig="$STATE/controller-manager.kubeconfig" \
    --authorization-kubeconfig="$STATE/controller-manager.kubeconfig" \
    --leader-elect=false --bind-address=127.0.0.1 --secure-port="$(free_port)" \
    --root-ca-file="$pki/ca.crt" --service-account-private-key-file="$pki/sa.key" \
    --cluster-signing-cert-file="$pki/ca.crt" --cluster-signing-key-file="$pki/ca.key" \
    --use-service-account-credentials=true \
    --controllers='*,-nodeipam,-nodelifecycle,-cloud-node-lifecycle,-service-lb-controller,-node-route-controller,-persistentvolume-binder,-attachdetach,-persistentvolume-expander,-ephemeral-volume,-pv-protection,-pvc-protection'
  started_at=$SECONDS
  wait_for "default ServiceAccount (kube-controller-manager)" "$STATE/logs/kube-controller-manager.log" \
    "$KUBE_BIN/kubectl" --kubeconfig="$STATE/admin.kubeconfig" get serviceaccount default -n default
}

# `kubectl wait` errors out on a CRD that has no conditions yet, so count the established ones instead.
crds_established() {
  local pending
  pending=$("$KUBE_BIN/kubectl" --kubeconfig="$STATE/admin.kubeconfig" get crd -o \
    jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Established")].status}{"\n"}{end}' | grep -vc '^True$')
  (( pending == 0 ))
}

install_crds() {
  local crds kubectl=("$KUBE_BIN/kubectl" --kubeconfig="$STATE/admin.kubeconfig")
  crds=$(bash "$HERE/fetch-crds.sh")
  # Server-side: the Workflow CRD is larger than the last-applied annotation allows.
  "${kubectl[@]}" apply --server-side --field-manager=seakeeper-rig -f "$crds/argo" -f "$crds/knative-serving" \
    -f "$crds/knative-eventing" >/dev/null
  # config/crds is a kustomization (knative/ includes it): apply what it lists, not the Kustomization itself.
  if [[ -f $ROOT/config/crds/kustomization.yaml ]]; then
    "${kubectl[@]}" apply --server-side --field-manager=seakeeper-rig -k "$ROOT/config/crds" >/dev/null
  fi
  local started_at=$SECONDS
  wait_for "CRDs established" "$STATE/logs/kube-apiserver.log" crds_established
  # Established is not served: until the API server's watch cache for Workflows has started, a list from the
  # cache (resourceVersion=0, as the pipeline functions list) answers "storage is (re)initializing".
  wait_for "Workflow watch cache" "$STATE/logs/kube-apiserver.log" \
    "${kubectl[@]}" get --raw '/apis/argoproj.io/v1alpha1/workflows?resourceVersion=0&limit=1'
  log "CRDs installed: $("${kubectl[@]}" get crd -o name | wc -l)"
}

# --- gerrit -------------------------------------------------------------------------------------------------
gerrit_classpath() {
  local lib=$GERRIT_HOME/lib v=$GERRIT_VERSION
  # Order matters: the plugin API's libraries must win over the copies inside the acceptance framework.
  printf '%s' "$GERRIT_HOME/launcher:$lib/gerrit-plugin-api-$v.jar:$lib/gerrit-acceptance-framework-$v.jar"
  for jar in "$lib"/bc*.jar; do printf ':%s' "$jar"; done
}

gerrit_api() { # method path [json-body]
  local method=$1 path=$2 body=${3:-}
  local args=(-sS --fail-with-body -u "admin:secret" -X "$method" "$GERRIT_URL/a$path")
  [[ -n $body ]] && args+=(-H 'Content-Type: application/json' --data "$body")
  curl "${args[@]}" | sed 1d
}

# Built on every rig-up (a few seconds) so that it always matches its source.
build_webhooks_plugin() { # destination-jar
  local src=$HERE/gerrit/webhooks classes=$STATE/webhooks-classes
  mkdir -p "$classes" "$(dirname "$1")"
  javac -nowarn -cp "$GERRIT_HOME/lib/gerrit-plugin-api-$GERRIT_VERSION.jar" -d "$classes" \
    $(find "$src/src" -name '*.java')
  jar cfm "$1" "$src/MANIFEST.MF" -C "$classes" .
}

start_gerrit() {
  GERRIT_HTTP_PORT=$(free_port); GERRIT_SSH_PORT=$(free_port)
  GERRIT_URL=http://127.0.0.1:$GERRIT_HTTP_PORT
  local site=$STATE/gerrit cp java_opts=(-Xmx1g -XX:+UseSerialGC -Dflogger.backend_factory=com.google.common.flogger.backend.log4j.Log4jBackendFactory#getInstance)
  cp=$(gerrit_classpath)
  java "${java_opts[@]}" -cp "$cp" GerritMain init --batch --dev --no-auto-start --skip-all-downloads \
    -d "$site" >"$STATE/logs/gerrit-init.log" 2>&1 || { tail -n 30 "$STATE/logs/gerrit-init.log" >&2; die "gerrit init failed"; }
  build_webhooks_plugin "$site/plugins/webhooks.jar"
  local cfg=(git config -f "$site/etc/gerrit.config")
  "${cfg[@]}" gerrit.canonicalWebUrl "$GERRIT_URL/"
  "${cfg[@]}" httpd.listenUrl "http://127.0.0.1:$GERRIT_HTTP_PORT/"
  "${cfg[@]}" sshd.listenAddress "127.0.0.1:$GERRIT_SSH_PORT"
  "${cfg[@]}" sendemail.enable false
  "${cfg[@]}" index.batchThreads 1
  "${cfg[@]}" receive.timeout 60s
  # Tests push many changes fast; the default per-user rate limits would turn them into 429s.
  "${cfg[@]}" sshd.threads 8
  start gerrit java "${java_opts[@]}" -cp "$cp" GerritMain daemon -d "$site" --console-log --headless
  local started_at=$SECONDS
  wait_for gerrit "$STATE/logs/gerrit.log" curl -sf "$GERRIT_URL/config/server/version"
}

configure_gerrit() {
  local group_uuid
  group_uuid=$(gerrit_api PUT "/groups/$(printf %s "$BOT_GROUP" | sed 's/ /%20/g')" \
    '{"description":"Accounts Seakeeper votes and streams events as"}' | node -pe 'JSON.parse(require("fs").readFileSync(0)).id')
  ssh-keygen -q -t ed25519 -N '' -C "$BOT_USER@rig" -f "$STATE/bot_ed25519"
  BOT_PASSWORD=$(openssl rand -hex 16)
  local account
  account=$(node -e '
    const [user, password, key, group] = process.argv.slice(1);
    console.log(JSON.stringify({ name: "Seakeeper", display_name: "Seakeeper", email: user + "@example.com",
      http_password: password, ssh_key: key, groups: [group] }));' \
    "$BOT_USER" "$BOT_PASSWORD" "$(cat "$STATE/bot_ed25519.pub")" "$BOT_GROUP")
  gerrit_api PUT "/accounts/$BOT_USER" "$account" >/dev/null
  # Service Users are kept out of attention sets and reviewer suggestions, as a CI bot should be.
  gerrit_api PUT "/groups/Service%20Users/members/$BOT_USER" >/dev/null 2>&1 || true
  gerrit_api PUT /projects/All-Projects/labels/Verified '{
    "commit_message": "Add the Verified label that Seakeeper votes on",
    "function": "NoBlock",
    "values": {"-1": "Fails", " 0": "No score", "+1": "Verified", "+2": "Verified, gate passed"},
    "default_value": 0
  }' >/dev/null
  local access
  access=$(node -e '
    const rule = { [process.argv[1]]: { action: "ALLOW" } };
    const vote = { [process.argv[1]]: { action: "ALLOW", min: -1, max: 2 } };
    console.log(JSON.stringify({
      message: "Let Seakeeper CI vote, submit, read CI configuration and stream events",
      add: {
        "refs/heads/*": { permissions: {
          "label-Verified": { label: "Verified", rules: vote },
          submit: { rules: rule } } },
        "refs/meta/config": { permissions: { read: { rules: rule } } },
        GLOBAL_CAPABILITIES: { permissions: { streamEvents: { rules: rule } } },
      },
    }));' "$group_uuid")
  gerrit_api POST /projects/All-Projects/access "$access" >/dev/null
  local started_at=$SECONDS
  wait_for "gerrit ssh" "$STATE/logs/gerrit.log" ssh -i "$STATE/bot_ed25519" -p "$GERRIT_SSH_PORT" \
    -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR \
    "$BOT_USER@127.0.0.1" gerrit version
}

# --- lifecycle ----------------------------------------------------------------------------------------------
write_env() {
  cat > "$RIG/env.tmp" <<ENV
# Written by test/rig/rig.sh up; source it: . .rig/env
export RIG_STATE='$STATE'
export RIG_KUBE_BIN='$KUBE_BIN'
export KUBECONFIG='$STATE/admin.kubeconfig'
export KUBE_VERSION='$KUBE_VERSION'
export GERRIT_URL='$GERRIT_URL'
export GERRIT_USER='$BOT_USER'
export GERRIT_PASSWORD='$BOT_PASSWORD'
export GERRIT_ADMIN_USER='admin'
export GERRIT_ADMIN_PASSWORD='secret'
export GERRIT_SSH_HOST='127.0.0.1'
export GERRIT_SSH_PORT='$GERRIT_SSH_PORT'
export GERRIT_SSH_KEY='$STATE/bot_ed25519'
export GERRIT_VERSION='$GERRIT_VERSION'
export ARGO_VERSION='$ARGO_VERSION'
export KWOK_VERSION='$KWOK_VERSION'
export PATH="$KUBE_BIN:\$PATH"
ENV
  mv "$RIG/env.tmp" "$RIG/env"
}

# A pid is ours only while its command line still names our state directory: pids get reused.
ours() { # pid
  local state
  state=$(cat "$RIG/state" 2>/dev/null) || return 1
  [[ -n $state && -r /proc/$1/cmdline ]] && tr '\0' ' ' < "/proc/$1/cmdline" | grep -qF -- "$state"
}

healthy() {
  [[ -f $RIG/env && -f $RIG/pids ]] || return 1
  local pid name process
  while read -r pid name; do ours "$pid" || return 1; done < "$RIG/pids"
  # A rig an older rig.sh started lacks processes this one starts: it is not reused.
  for process in "${RIG_PROCESSES[@]}"; do grep -q " $process\$" "$RIG/pids" || return 1; done
  (
    # shellcheck disable=SC1091
    . "$RIG/env"
    kubectl get --raw /readyz >/dev/null 2>&1 && curl -sf "$GERRIT_URL/config/server/version" >/dev/null
  )
}

down() {
  if [[ -f $RIG/pids ]]; then
    local pid name pids=()
    while read -r pid name; do
      if ours "$pid"; then
        kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
        pids+=("$pid")
        log "stopping $name ($pid)"
      fi
    done < "$RIG/pids"
    local deadline=$((SECONDS + 20)) alive
    while :; do
      alive=()
      for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive+=("$pid"); done
      (( ${#alive[@]} == 0 )) && break
      if (( SECONDS > deadline )); then
        for pid in "${alive[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true; done
        break
      fi
      sleep 0.5
    done
  fi
  local state
  state=$(cat "$RIG/state" 2>/dev/null || true)
  [[ -n $state && -d $state && $state == */seakeeper-rig.* ]] && rm -rf "$state"
  rm -f "$RIG/pids" "$RIG/env" "$RIG/state"
}

up() {
  mkdir -p "$RIG"
  if healthy; then
    log "rig already up: . $RIG/env"
    return 0
  fi
  down
  bash "$HERE/build-kube.sh"
  bash "$HERE/build-argo.sh"
  bash "$HERE/fetch-gerrit.sh"
  STATE=$(mktemp -d "${TMPDIR:-/tmp}/seakeeper-rig.XXXXXX")
  mkdir -p "$STATE/logs"
  echo "$STATE" > "$RIG/state"
  : > "$RIG/pids"
  trap 'log "rig-up failed; logs were in $STATE/logs"; tail -n 20 "$STATE"/logs/*.log >&2 || true; down' ERR
  # Gerrit starts in parallel with Kubernetes: both are slow and they share nothing.
  start_gerrit_bg() { start_gerrit; configure_gerrit; declare -p GERRIT_URL GERRIT_SSH_PORT BOT_PASSWORD > "$STATE/gerrit.vars"; }
  start_gerrit_bg > "$STATE/logs/gerrit-setup.log" 2>&1 &
  local gerrit_setup=$!
  start_kube
  install_crds
  start_workloads
  if ! wait "$gerrit_setup"; then
    cat "$STATE/logs/gerrit-setup.log" >&2
    false
  fi
  cat "$STATE/logs/gerrit-setup.log" >&2
  # shellcheck disable=SC1091
  . "$STATE/gerrit.vars"
  write_env
  trap - ERR
  log "rig up: kube-apiserver $KUBE_VERSION at https://127.0.0.1:$API_PORT with $RIG_NODES fake nodes and argo $ARGO_VERSION, gerrit $GERRIT_VERSION at $GERRIT_URL"
  log "use it with: . $RIG/env"
}

case ${1:-} in
  up) up ;;
  down) down; log "rig down" ;;
  status) if healthy; then log "up"; else log "down"; exit 1; fi ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
