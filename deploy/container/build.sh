#!/bin/bash
# Build Parley's image (deploy/container/Containerfile) with buildah, from nothing but Debian's
# packages and this checkout: no image registry is needed.
#
#   sudo apt-get install buildah mmdebstrap runc     # once (podman too, to run the image)
#   npm ci                                           # builds dist/ and the web app
#   sudo deploy/container/build.sh [TAG]             # default TAG: localhost/parley:latest
#
# 1. The base: a Debian 12 (bookworm) minbase root file system made by mmdebstrap, imported as
#    localhost/parley-base:bookworm. Made once and cached (PARLEY_CONTAINER_CACHE, default
#    ~/.cache/parley-container); delete the cache or the base image to make it anew.
# 2. The context: this machine's Node (it must be Node 20+ built for Debian 12, as the image's
#    libc is), the built packages the server runs, the web app's build, and node_modules without
#    development packages (a copy of this checkout's, pruned: nothing is downloaded).
# 3. `buildah build --format docker` (the OCI format has no HEALTHCHECK) with runc.
#
# Environment: PARLEY_CONTAINER_RUNTIME (default runc), PARLEY_CONTAINER_CACHE.
set -euo pipefail

TAG=${1:-localhost/parley:latest}
BASE=localhost/parley-base:bookworm
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=${PARLEY_CONTAINER_CACHE:-$HOME/.cache/parley-container}
RUNTIME=${PARLEY_CONTAINER_RUNTIME:-runc}
# Explicit limits for the build's one RUN: buildah's defaults (this shell's, or higher) are
# refused by some sandboxes without CAP_SYS_RESOURCE.
ULIMITS="--ulimit nofile=1024:1024 --ulimit nproc=1024:1024"

say() { printf '%s build.sh: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
need() { command -v "$1" >/dev/null || { say "$1 is missing: apt-get install $2"; exit 1; }; }
need buildah buildah
need node "Node 20 or newer"

for f in packages/cli/dist/main.js packages/server/dist/index.js packages/protocol/dist/index.js \
  packages/conformance/dist/index.js packages/node/dist/index.js apps/web/dist/index.html; do
  [ -e "$ROOT/$f" ] || { say "$f is missing: run npm ci (or npm run build) first"; exit 1; }
done
NODE_MAJOR=$(node -p 'process.versions.node.split(".")[0]')
[ "$NODE_MAJOR" -ge 20 ] || { say "node is $(node -v); the image needs Node 20 or newer"; exit 1; }

# 1. The base image.
if ! buildah inspect --type image "$BASE" >/dev/null 2>&1; then
  mkdir -p "$CACHE"
  TARBALL="$CACHE/debian-bookworm-minbase.tar"
  if [ ! -s "$TARBALL" ]; then
    need mmdebstrap mmdebstrap
    say "making the Debian 12 base with mmdebstrap (a few minutes)"
    t0=$(date +%s)
    mmdebstrap --variant=minbase --format=tar --include=ca-certificates bookworm "$TARBALL.part"
    mv "$TARBALL.part" "$TARBALL"
    say "base made in $(($(date +%s) - t0)) s"
  fi
  c=$(buildah from scratch)
  buildah add "$c" "$TARBALL" / >/dev/null
  buildah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --cmd /bin/bash "$c"
  buildah commit --rm "$c" "$BASE" >/dev/null
  say "imported $BASE"
fi

# 2. The context.
CTX=$(mktemp -d "${TMPDIR:-/tmp}/parley-image.XXXXXX")
trap 'rm -rf "$CTX"' EXIT
APP="$CTX/app"
mkdir -p "$APP/deploy/container" "$APP/apps/web"
cp "$(command -v node)" "$CTX/node"
cp "$ROOT/package.json" "$ROOT/package-lock.json" "$APP/"
# Every workspace's package.json (the lockfile names them all), and the code of those that run.
node -e 'for (const w of require(process.argv[1]).workspaces) console.log(w)' "$ROOT/package.json" | while read -r ws; do
  mkdir -p "$APP/$ws"
  cp "$ROOT/$ws/package.json" "$APP/$ws/"
done
# The packages the parley command runs: the CLI, the server, the protocol, and the conformance
# kit (`parley conformance`) with @parley/node, which it signs its tokens with.
for pkg in protocol server cli conformance node; do
  cp -a "$ROOT/packages/$pkg/dist" "$APP/packages/$pkg/"
done
cp -a "$ROOT/packages/cli/bin" "$APP/packages/cli/"
cp -a "$ROOT/packages/conformance/bin" "$ROOT/packages/conformance/scenarios" "$APP/packages/conformance/"
# The migrated database template, when npm ci made one: a first embedded start copies it.
[ -d "$ROOT/packages/server/.template" ] && cp -a "$ROOT/packages/server/.template" "$APP/packages/server/"
cp -a "$ROOT/apps/web/dist" "$APP/apps/web/"
cp "$ROOT/deploy/container/healthcheck.mjs" "$APP/deploy/container/"
say "copying node_modules and pruning development packages"
cp -a "$ROOT/node_modules" "$APP/"
for ws in packages/server packages/cli packages/protocol packages/conformance packages/node; do
  [ -d "$ROOT/$ws/node_modules" ] && cp -a "$ROOT/$ws/node_modules" "$APP/$ws/"
done
(cd "$APP" && npm prune --omit=dev --ignore-scripts --no-audit --no-fund --offline >/dev/null)
# Workspaces that do not run in the image: only their package.json stays, and npm's links to them go.
for link in "$APP"/node_modules/@parley/*; do
  case "$(basename "$link")" in protocol | server | cli | conformance | node) ;; *) rm -f "$link" ;; esac
done
say "context: $(du -sh "$CTX" | cut -f1)"

# 3. The image.
t0=$(date +%s)
# shellcheck disable=SC2086
buildah build --runtime "$RUNTIME" $ULIMITS --format docker --layers=false \
  --build-arg "BASE=$BASE" -f "$ROOT/deploy/container/Containerfile" -t "$TAG" "$CTX" >&2
say "built $TAG in $(($(date +%s) - t0)) s"
echo "$TAG"
