#!/usr/bin/env bash
# Makes sure the machine has what the rig and the build need, installing Debian packages for what is missing.
# Go and Node.js are expected from the machine itself (Debian's Go is too old to build Kubernetes); Node 24
# comes from the npm package `node`, so any Node.js/npm that can run `npm ci` will do.
set -euo pipefail

declare -A package_for=(
  [mvn]=maven [javac]=openjdk-17-jdk-headless [java]=openjdk-17-jdk-headless [openssl]=openssl [git]=git
  [ssh]=openssh-client [ssh-keygen]=openssh-client [curl]=curl [setsid]=util-linux [make]=make
  # The status page's browser test renders it headless (test/integration/status.test.ts).
  [chromium]=chromium
)
missing=()
for cmd in "${!package_for[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${package_for[$cmd]}")
done
if (( ${#missing[@]} )); then
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  echo "[prerequisites] installing ${missing[*]}" >&2
  if [[ $(id -u) -eq 0 ]]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
fi
for cmd in go node npm; do
  command -v "$cmd" >/dev/null 2>&1 || { echo "[prerequisites] $cmd is required but not installed" >&2; exit 1; }
done
