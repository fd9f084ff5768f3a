#!/bin/bash
# Stand-ins for the three official images deploy/container/compose.yaml names (postgres, redis,
# nginx), built from Debian's packages with mmdebstrap and buildah, because no image registry is
# reachable from the machines that test it. Each keeps the part of its official image's
# interface the compose file uses:
#   postgres  POSTGRES_USER / POSTGRES_PASSWORD / POSTGRES_DB on first start, data in
#             /var/lib/postgresql/data, password sign-in from the network, pg_isready
#   redis     redis-server on port 6379 of every address, redis-cli
#   nginx     nginx in the foreground reading /etc/nginx/conf.d/*.conf, no other site
#
#   stand-ins.sh PREFIX    # makes PREFIX-postgres:15, PREFIX-redis:7, PREFIX-nginx:1.22
#
# The Debian root file system is made once and cached (PARLEY_CONTAINER_CACHE, default
# ~/.cache/parley-container), like deploy/container/build.sh's base.
set -euo pipefail

PREFIX=${1:?usage: stand-ins.sh PREFIX (e.g. localhost/parley-test)}
CACHE=${PARLEY_CONTAINER_CACHE:-$HOME/.cache/parley-container}
TARBALL="$CACHE/debian-bookworm-services.tar"
say() { printf '%s stand-ins.sh: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

# Made again only when this script changes: each image is labelled with the script's hash.
HASH=$(sha256sum "$0" | cut -c1-16)
current() {
  [ "$(buildah inspect --type image --format '{{index .ImageAnnotations "org.parley.stand-ins"}}{{index .Docker.Config.Labels "org.parley.stand-ins"}}' "$1" 2>/dev/null)" = "$HASH" ]
}
if current "$PREFIX-postgres:15" && current "$PREFIX-redis:7" && current "$PREFIX-nginx:1.22"; then
  say "the stand-ins are up to date"
  exit 0
fi

if [ ! -s "$TARBALL" ]; then
  mkdir -p "$CACHE"
  say "making the Debian 12 root with postgresql, redis and nginx (a minute or two)"
  mmdebstrap --variant=minbase --format=tar \
    --include=ca-certificates,postgresql-15,redis-server,redis-tools,nginx-light \
    bookworm "$TARBALL.part"
  mv "$TARBALL.part" "$TARBALL"
fi

# The root file system as one image the three are made from: they share its layer (500 MB),
# added and committed once instead of once each.
BASE_IMAGE="$PREFIX-services:base"
c=$(buildah from scratch)
buildah add "$c" "$TARBALL" / >/dev/null
buildah commit --rm --format docker "$c" "$BASE_IMAGE" >/dev/null

# name, then buildah config arguments. The function's stdin, a shell script, sets the image up
# from this machine in its mounted root file system, $ROOTFS (nothing runs inside it).
image() {
  local name=$1 c
  shift
  c=$(buildah from "$BASE_IMAGE")
  ROOTFS=$(buildah mount "$c") bash -s
  buildah umount "$c" >/dev/null
  buildah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --label "org.parley.stand-ins=$HASH" "$@" "$c"
  buildah commit --rm --format docker "$c" "$name" >/dev/null
  # The one it replaces, now untagged.
  podman image prune --force >/dev/null 2>&1 || true
  say "made $name"
}

image "$PREFIX-postgres:15" --entrypoint '["/usr/local/bin/postgres-entrypoint"]' --cmd '' \
  --port 5432 --env PGDATA=/var/lib/postgresql/data <<'EOF'
set -e
cat > "$ROOTFS/usr/local/bin/postgres-entrypoint" <<'SH'
#!/bin/bash
# As the official image does on its first start: a cluster owned by POSTGRES_USER, with its
# password, POSTGRES_DB made, and password sign-in from any address.
set -euo pipefail
BIN=/usr/lib/postgresql/15/bin
as_pg() { setpriv --reuid postgres --regid postgres --init-groups "$@"; }
mkdir -p "$PGDATA" /run/postgresql
chown postgres:postgres "$PGDATA" /run/postgresql
chmod 700 "$PGDATA"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  : "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD is not set}"
  user=${POSTGRES_USER:-postgres}
  pw=$(mktemp)
  printf '%s\n' "$POSTGRES_PASSWORD" > "$pw"
  chown postgres "$pw"
  as_pg "$BIN/initdb" -D "$PGDATA" -U "$user" --pwfile="$pw" --auth-local=trust --auth-host=scram-sha-256 >/dev/null
  rm -f "$pw"
  echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
  db=${POSTGRES_DB:-$user}
  if [ "$db" != postgres ]; then
    as_pg "$BIN/postgres" --single -D "$PGDATA" postgres <<< "CREATE DATABASE \"$db\" OWNER \"$user\";" >/dev/null
  fi
fi
exec setpriv --reuid postgres --regid postgres --init-groups "$BIN/postgres" -D "$PGDATA" -c listen_addresses='*'
SH
chmod 755 "$ROOTFS/usr/local/bin/postgres-entrypoint"
# Debian's pg_isready is a wrapper that wants a cluster in /etc/postgresql: call the binary.
ln -sf /usr/lib/postgresql/15/bin/pg_isready "$ROOTFS/usr/local/bin/pg_isready"
EOF

image "$PREFIX-redis:7" --user redis --port 6379 \
  --cmd '["redis-server", "--bind", "0.0.0.0", "--protected-mode", "no", "--save", "", "--appendonly", "no"]' <<'EOF'
true
EOF

image "$PREFIX-nginx:1.22" --port 80 --cmd '["nginx", "-g", "daemon off;"]' <<'EOF'
set -e
rm -f "$ROOTFS/etc/nginx/sites-enabled/default"
ln -sf /dev/stdout "$ROOTFS/var/log/nginx/access.log"
ln -sf /dev/stderr "$ROOTFS/var/log/nginx/error.log"
EOF

# The three hold its layer; its own name is not needed.
buildah rmi "$BASE_IMAGE" >/dev/null 2>&1 || true
