#!/usr/bin/env bash
# Builds Argo Workflows' workflow-controller and KWOK's kwok of pinned versions from the Go module proxy into
# a per-version cache, and copies the controller's ServiceAccount and RBAC from Argo's install manifests beside
# it (the rig's own ConfigMap is test/rig/argo/). A second run with everything present builds nothing.
#
# Argo's go.mod carries `replace` directives that `go install pkg@version` refuses, so a throwaway wrapper
# module requires it and repeats them (the same approach as build-kube.sh). KWOK's go.mod has none.
set -euo pipefail

ARGO_VERSION=${ARGO_VERSION:-v3.7.18}
KWOK_VERSION=${KWOK_VERSION:-v0.7.0}
CACHE=${SEAKEEPER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/seakeeper}
ARGO_HOME=$CACHE/argo/$ARGO_VERSION
KWOK_BIN=$CACHE/kwok/$KWOK_VERSION/bin
export CGO_ENABLED=0 GOFLAGS=-mod=mod

log() { printf '[build-argo] %s\n' "$*" >&2; }

module_json() { go mod download -json "$1"; }
json_field() { sed -n 's/^\s*"'"$1"'": "\(.*\)",\{0,1\}$/\1/p'; }

build_argo() {
  if [[ -x $ARGO_HOME/bin/workflow-controller && -f $ARGO_HOME/manifests/.complete ]]; then
    log "argo workflow-controller $ARGO_VERSION cached in $ARGO_HOME"
    return
  fi
  local json upstream_dir upstream_mod go_line work=$CACHE/build/argo-$ARGO_VERSION
  json=$(module_json "github.com/argoproj/argo-workflows/v3@$ARGO_VERSION")
  upstream_dir=$(json_field Dir <<<"$json")
  upstream_mod=$(json_field GoMod <<<"$json")
  go_line=$(sed -n 's/^go \([0-9.]*\)$/\1/p' "$upstream_mod")
  rm -rf "$work" "$ARGO_HOME.tmp" && mkdir -p "$work" "$ARGO_HOME.tmp/bin" "$ARGO_HOME.tmp/manifests"
  {
    echo "module seakeeper.local/argo-build"
    echo
    echo "go $go_line"
    echo
    echo "require github.com/argoproj/argo-workflows/v3 $ARGO_VERSION"
    echo
    grep -E '^replace [^ ]+ => [^ .][^ ]* v' "$upstream_mod" || true
  } > "$work/go.mod"
  cat > "$work/tools.go" <<'GO'
//go:build tools

package tools

import _ "github.com/argoproj/argo-workflows/v3/cmd/workflow-controller"
GO
  log "resolving modules for argo-workflows $ARGO_VERSION (go $go_line)"
  (cd "$work" && go mod tidy >/dev/null)
  log "building workflow-controller $ARGO_VERSION"
  (cd "$work" && go build -trimpath \
    -ldflags "-s -w -X github.com/argoproj/argo-workflows/v3.version=$ARGO_VERSION -X github.com/argoproj/argo-workflows/v3.gitTreeState=clean" \
    -o "$ARGO_HOME.tmp/bin/workflow-controller" github.com/argoproj/argo-workflows/v3/cmd/workflow-controller)
  # The cluster-wide install's ServiceAccount and RBAC for the controller, as Argo ships them, in namespace argo
  # (the module's cluster-install-no-crds kustomization, without the argo-server and the Deployment).
  local rbac=$upstream_dir/manifests/cluster-install-no-crds/workflow-controller-rbac
  cp "$rbac"/workflow-*.yaml "$upstream_dir/manifests/base/workflow-controller/workflow-controller-sa.yaml" "$ARGO_HOME.tmp/manifests/"
  {
    echo "apiVersion: kustomize.config.k8s.io/v1beta1"
    echo "kind: Kustomization"
    echo "namespace: argo"
    echo "resources:"
    (cd "$ARGO_HOME.tmp/manifests" && ls workflow-*.yaml | sed 's/^/- /')
  } > "$ARGO_HOME.tmp/manifests/kustomization.yaml"
  chmod -R u+w "$ARGO_HOME.tmp"
  touch "$ARGO_HOME.tmp/manifests/.complete"
  rm -rf "$ARGO_HOME" && mv "$ARGO_HOME.tmp" "$ARGO_HOME"
  rm -rf "$work"
}

build_kwok() {
  if [[ -x $KWOK_BIN/kwok ]]; then
    log "kwok $KWOK_VERSION cached in $KWOK_BIN"
    return
  fi
  log "building kwok $KWOK_VERSION"
  rm -rf "$KWOK_BIN.tmp" && mkdir -p "$KWOK_BIN.tmp"
  GOBIN=$KWOK_BIN.tmp go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
  rm -rf "$KWOK_BIN" && mv "$KWOK_BIN.tmp" "$KWOK_BIN"
}

build_kwok
build_argo
