#!/usr/bin/env bash
# Fetches Gerrit's server jars from Maven Central with mvn into a per-version cache and compiles the small
# launcher that runs them. A second run with everything present does nothing.
set -euo pipefail

GERRIT_VERSION=${GERRIT_VERSION:-3.10.2}
BOUNCYCASTLE_VERSION=${BOUNCYCASTLE_VERSION:-1.72}
CACHE=${SEAKEEPER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/seakeeper}
DEST=$CACHE/gerrit/$GERRIT_VERSION
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

log() { printf '[fetch-gerrit] %s\n' "$*" >&2; }

if [[ -f $DEST/.complete ]]; then
  log "gerrit $GERRIT_VERSION cached in $DEST"
  exit 0
fi
command -v mvn >/dev/null || { log "mvn is required (apt-get install maven)"; exit 1; }
command -v javac >/dev/null || { log "javac (Java 17) is required"; exit 1; }

rm -rf "$DEST" && mkdir -p "$DEST/lib" "$DEST/launcher/com/google/gerrit/common"
# The plugin API jar bundles the server and its third-party libraries; the acceptance framework adds the
# pgm programs (init, daemon) and Jetty; Bouncy Castle is the one runtime library both leave out.
artifacts=(
  "com.google.gerrit:gerrit-plugin-api:$GERRIT_VERSION"
  "com.google.gerrit:gerrit-acceptance-framework:$GERRIT_VERSION"
  "org.bouncycastle:bcprov-jdk18on:$BOUNCYCASTLE_VERSION"
  "org.bouncycastle:bcpkix-jdk18on:$BOUNCYCASTLE_VERSION"
  "org.bouncycastle:bcutil-jdk18on:$BOUNCYCASTLE_VERSION"
  "org.bouncycastle:bcpg-jdk18on:$BOUNCYCASTLE_VERSION"
)
for artifact in "${artifacts[@]}"; do
  log "fetching $artifact"
  mvn -B -q -Dstyle.color=never dependency:copy -Dartifact="$artifact" -DoutputDirectory="$DEST/lib" -Dmdep.stripVersion=false
done
javac -nowarn -cp "$DEST/lib/*" -d "$DEST/launcher" "$HERE/gerrit/GerritMain.java"
# Gerrit reads its version from this resource; the war's build writes it, so the launcher must too.
printf '%s\n' "$GERRIT_VERSION" > "$DEST/launcher/com/google/gerrit/common/Version"
touch "$DEST/.complete"
log "gerrit $GERRIT_VERSION ready in $DEST"
