#!/bin/sh
# Fill the config's @NAME@ placeholders from the env, check it, and run nginx in the foreground.
set -eu
conf=/var/lib/front/nginx.conf
sed -e "s|@FRONT_LISTEN_PORT@|${FRONT_LISTEN_PORT:?}|g" \
    -e "s|@FRONT_UPSTREAM@|${FRONT_UPSTREAM:?}|g" \
    -e "s|@FRONT_CACHE_SIZE@|${FRONT_CACHE_SIZE:?}|g" \
    -e "s|@FRONT_CONN_PER_CLIENT@|${FRONT_CONN_PER_CLIENT:?}|g" \
    -e "s|@FRONT_CONN_TOTAL@|${FRONT_CONN_TOTAL:?}|g" \
    -e "s|@FRONT_MAX_BODY@|${FRONT_MAX_BODY:?}|g" \
    /etc/front/nginx.conf.template > "$conf"
# -e stderr: nginx logs there from the start, before it has read the config's error_log.
exec nginx -e stderr -c "$conf" -g "daemon off;"
