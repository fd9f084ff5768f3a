#!/bin/sh
# nginx's command in compose.yaml. nginx looks up parley-1 and parley-2 once, when it starts, but
# a node's container gets a new address each time it starts again (a restart, an upgrade), so
# nginx would keep sending its share to the old one. This watches the two names and reloads
# nginx when their addresses change. A reload while a node is out (its name not found) is
# refused and nginx keeps its configuration; the one after it comes back takes.
set -u
nodes=${PARLEY_NODES:-parley-1 parley-2}
(
  last=$(getent hosts $nodes | sort)
  while sleep 2; do
    now=$(getent hosts $nodes | sort)
    if [ "$now" != "$last" ]; then
      nginx -s reload 2>/dev/null && echo "nginx-watch: node addresses changed; nginx reloaded" >&2
      last=$now
    fi
  done
) &
exec nginx -g 'daemon off;'
