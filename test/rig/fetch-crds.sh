#!/usr/bin/env bash
# Copies the CustomResourceDefinitions of Argo Workflows and Knative Serving/Eventing out of their Go modules
# (served by the Go module proxy) into a per-version cache. Prints the cache directory.
set -euo pipefail

ARGO_VERSION=${ARGO_VERSION:-v3.7.18}
KNATIVE_SERVING_VERSION=${KNATIVE_SERVING_VERSION:-v0.50.0}   # Knative 1.23
KNATIVE_EVENTING_VERSION=${KNATIVE_EVENTING_VERSION:-v0.50.0} # Knative 1.23
CACHE=${SEAKEEPER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/seakeeper}
DEST=$CACHE/crds/argo-$ARGO_VERSION+serving-$KNATIVE_SERVING_VERSION+eventing-$KNATIVE_EVENTING_VERSION

log() { printf '[fetch-crds] %s\n' "$*" >&2; }

module_dir() {
  go mod download -json "$1" | sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p'
}

if [[ ! -f $DEST/.complete ]]; then
  rm -rf "$DEST" && mkdir -p "$DEST/argo" "$DEST/knative-serving" "$DEST/knative-eventing"
  log "argo-workflows $ARGO_VERSION"
  cp "$(module_dir "github.com/argoproj/argo-workflows/v3@$ARGO_VERSION")"/manifests/base/crds/full/argoproj.io_*.yaml "$DEST/argo/"
  log "knative serving $KNATIVE_SERVING_VERSION"
  cp "$(module_dir "knative.dev/serving@$KNATIVE_SERVING_VERSION")"/config/core/300-resources/*.yaml "$DEST/knative-serving/"
  log "knative eventing $KNATIVE_EVENTING_VERSION"
  cp "$(module_dir "knative.dev/eventing@$KNATIVE_EVENTING_VERSION")"/config/core/resources/*.yaml "$DEST/knative-eventing/"
  chmod -R u+w "$DEST"
  touch "$DEST/.complete"
fi
echo "$DEST"
