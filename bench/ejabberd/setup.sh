#!/bin/sh
# ejabberd for the Parley bench: install, database, and a manual start/stop.
#
#   bench/ejabberd/setup.sh            install if missing (apt), (re)create the template database
#   bench/ejabberd/setup.sh start      also start one ejabberd in the foreground (Ctrl-C stops it)
#   bench/ejabberd/setup.sh check      is everything the bench needs here? (exit 0 / 1)
#
# The bench itself starts and kills its own ejabberd per run (bench/servers/ejabberd.ts), on a
# free 127.0.0.1 port, with bench/ejabberd/ejabberd.yml.in written out to a temporary folder
# (spool, log, config), on a copy of the template database. Never the packaged
# /etc/ejabberd/ejabberd.yml (its MQTT listener wants port 1883, held by Mosquitto here) and
# never the packaged service (`invoke-rc.d` does not start it in these containers anyway).
#
# Environment: BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432/test) is the server
# the template `ejabberd_bench` (BENCH_EJABBERD_DB) is created on, from the packaged pg.sql.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
PG_URL=${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/test}
DB=${BENCH_EJABBERD_DB:-ejabberd_bench}
LIBS=/usr/lib/x86_64-linux-gnu
SCHEMA=/usr/share/ejabberd/sql/pg.sql

installed() {
  [ -d "$LIBS/ejabberd-23.01-1" ] && [ -x /usr/bin/erl ] && [ -f "$SCHEMA" ] &&
    ls -d /usr/lib/erlang/lib/p1_pgsql-* >/dev/null 2>&1
}

if [ "${1:-}" = check ]; then
  installed && psql "$PG_URL" -Atc "select 1 from pg_database where datname = '$DB'" | grep -q 1
  exit $?
fi

if ! installed; then
  # erlang-p1-pgsql is only "suggested" by the package: without it SQL storage cannot start.
  echo "installing ejabberd and its PostgreSQL driver (apt-get)" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y ejabberd erlang-p1-pgsql >&2
fi

# The template database: dropped and loaded fresh from the packaged schema (old, single-host
# schema, matching `new_sql_schema: false` in ejabberd.yml.in). Each run copies it.
psql "$PG_URL" -qc "drop database if exists $DB with (force)" >/dev/null
psql "$PG_URL" -qc "create database $DB" >/dev/null
DB_URL=$(printf '%s' "$PG_URL" | sed "s#/[^/]*\$#/$DB#")
psql "$DB_URL" -q -v ON_ERROR_STOP=1 -f "$SCHEMA" >/dev/null
echo "ejabberd ready for the bench: template database $DB loaded from $SCHEMA" >&2

if [ "${1:-}" = start ]; then
  PORT=${EJABBERD_PORT:-5290}
  DIR=$(mktemp -d /tmp/parley-bench-ejabberd-XXXXXX)
  RUN_DB=${DB}_manual
  psql "$PG_URL" -qc "drop database if exists $RUN_DB with (force)" -c "create database $RUN_DB template $DB" >/dev/null
  sed -e "s#@PORT@#$PORT#g; s#@DB@#$RUN_DB#g; s#@SPOOL@#$DIR#g" "$HERE/ejabberd.yml.in" >"$DIR/ejabberd.yml"
  echo "ejabberd on http://127.0.0.1:$PORT (/ws: XMPP over WebSocket, /api), spool and log in $DIR" >&2
  cd "$DIR"
  EJABBERD_CONFIG_PATH="$DIR/ejabberd.yml" EJABBERD_LOG_PATH="$DIR/ejabberd.log" ERL_LIBS=$LIBS \
    exec /usr/bin/erl -noinput -noshell +K true +P 1000000 -mnesia dir "\"$DIR\"" -s ejabberd
fi
