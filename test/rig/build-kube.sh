#!/usr/bin/env bash
# Builds kube-apiserver, kube-controller-manager, kube-scheduler and kubectl of one Kubernetes release from the
# Go module proxy, and etcd from its own module, into a per-version cache. A second run with the binaries
# present builds nothing; a cache that lacks some of them (an older rig's) gets just those.
#
# k8s.io/kubernetes replaces its staging modules with ./staging/..., which `go install pkg@version` refuses,
# so a throwaway wrapper module requires it and points each staging module at its published v0.Y.Z instead.
set -euo pipefail

KUBE_VERSION=${KUBE_VERSION:-v1.35.4}
ETCD_VERSION=${ETCD_VERSION:-v3.6.16}
CACHE=${SEAKEEPER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/seakeeper}
KUBE_BIN=$CACHE/kube/$KUBE_VERSION/bin
ETCD_BIN=$CACHE/etcd/$ETCD_VERSION/bin
export CGO_ENABLED=0 GOFLAGS=-mod=mod

log() { printf '[build-kube] %s\n' "$*" >&2; }

KUBE_COMMANDS=(kube-apiserver kube-controller-manager kube-scheduler kubectl)

build_kube() {
  local cmd missing=()
  for cmd in "${KUBE_COMMANDS[@]}"; do [[ -x $KUBE_BIN/$cmd ]] || missing+=("$cmd"); done
  if (( ${#missing[@]} == 0 )); then
    log "kubernetes $KUBE_VERSION cached in $KUBE_BIN"
    return
  fi
  local work=$CACHE/build/kube-$KUBE_VERSION
  rm -rf "$work" "$KUBE_BIN.tmp" && mkdir -p "$work" "$KUBE_BIN.tmp"
  local upstream_mod
  upstream_mod=$(go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" | sed -n 's/^\s*"GoMod": "\(.*\)",$/\1/p')
  local go_line minor staging_version
  go_line=$(sed -n 's/^go \([0-9.]*\)$/\1/p' "$upstream_mod")
  minor=${KUBE_VERSION#v1.}; minor=${minor%%.*}
  staging_version=v0.${KUBE_VERSION#v1.}
  {
    echo "module seakeeper.local/kube-build"
    echo
    echo "go $go_line"
    echo
    echo "require k8s.io/kubernetes $KUBE_VERSION"
    echo
    # Every module the upstream go.mod points at ./staging/... is published as k8s.io/<name> v0.Y.Z.
    sed -n 's#^\s*\(k8s.io/[a-z0-9-]*\) => ./staging/.*#replace \1 => \1 '"$staging_version"'#p' "$upstream_mod"
  } > "$work/go.mod"
  cat > "$work/tools.go" <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
GO
  log "resolving modules for kubernetes $KUBE_VERSION (go $go_line)"
  (cd "$work" && go mod tidy -e >/dev/null 2>&1 || true)
  (cd "$work" && go get "k8s.io/kubernetes@$KUBE_VERSION")
  local pkg=k8s.io/component-base/version
  local ldflags="-s -w -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  ldflags="$ldflags -X k8s.io/client-go/pkg/version.gitVersion=$KUBE_VERSION -X k8s.io/client-go/pkg/version.gitMajor=1 -X k8s.io/client-go/pkg/version.gitMinor=$minor"
  for cmd in "${missing[@]}"; do
    log "building $cmd $KUBE_VERSION"
    (cd "$work" && go build -trimpath -ldflags "$ldflags" -o "$KUBE_BIN.tmp/$cmd" "k8s.io/kubernetes/cmd/$cmd")
  done
  mkdir -p "$KUBE_BIN" && mv "$KUBE_BIN.tmp"/* "$KUBE_BIN/" && rmdir "$KUBE_BIN.tmp"
  rm -rf "$work"
}

build_etcd() {
  if [[ -x $ETCD_BIN/etcd ]]; then
    log "etcd $ETCD_VERSION cached in $ETCD_BIN"
    return
  fi
  # Kept apart from the Kubernetes wrapper so that the two never bump each other's shared dependencies.
  local work=$CACHE/build/etcd-$ETCD_VERSION
  rm -rf "$work" && mkdir -p "$work" "$ETCD_BIN.tmp"
  (cd "$work" && go mod init seakeeper.local/etcd-build >/dev/null 2>&1 && go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION")
  log "building etcd $ETCD_VERSION"
  (cd "$work" && go build -trimpath -ldflags "-s -w" -o "$ETCD_BIN.tmp/etcd" go.etcd.io/etcd/server/v3)
  rm -rf "$ETCD_BIN" && mv "$ETCD_BIN.tmp" "$ETCD_BIN"
  rm -rf "$work"
}

build_etcd
build_kube
