#!/bin/bash
# Healthy when nginx itself answers (its own /front-health, not the web UI's). Bash's /dev/tcp: the
# image needs no HTTP client for it.
set -eu
exec 3<>"/dev/tcp/127.0.0.1/${FRONT_LISTEN_PORT:?}"
printf 'GET /front-health HTTP/1.0\r\nHost: localhost\r\n\r\n' >&3
read -r -t 2 status <&3
[[ $status == "HTTP/1.1 200"* ]]
