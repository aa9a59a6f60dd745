#!/usr/bin/env bash
# `npm ci`, once per lockfile: the installed tree is kept outside the clone ($SEAKEEPER_CACHE, by default ~/.cache/seakeeper, by a hash of
# package.json and package-lock.json) and copied into a fresh clone, since unpacking Node 24 and the rest takes
# about 25 s and a copy about 2 s. A changed lockfile installs anew.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
key=$(cat package.json package-lock.json | sha256sum | cut -c1-16)
cache="${SEAKEEPER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/seakeeper}/node_modules-$key"
if [[ -d "$cache/node_modules" ]]; then
  rm -rf node_modules
  cp -a "$cache/node_modules" node_modules
  echo "node_modules copied from $cache"
else
  npm ci --no-audit --no-fund --loglevel=error
  mkdir -p "$(dirname "$cache")"
  staging=$(mktemp -d "$cache.XXXXXX")
  cp -a node_modules "$staging/"
  mv -T "$staging" "$cache" 2>/dev/null || rm -rf "$staging"
fi
