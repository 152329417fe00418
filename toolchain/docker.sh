#!/usr/bin/env bash
# Make sure a Docker engine answers; install Debian's docker.io and start dockerd if not.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

if docker info >/dev/null 2>&1; then
  step "docker engine already running"
  exit 0
fi
if ! command -v dockerd >/dev/null 2>&1; then
  step "installing docker.io from Debian"
  apt_install docker.io
fi
step "starting dockerd (log: $CACHE/dockerd.log)"
# setsid: dockerd must outlive the make/CI shell that started it.
setsid nohup dockerd >"$CACHE/dockerd.log" 2>&1 </dev/null &
for _ in $(seq 1 60); do
  docker info >/dev/null 2>&1 && { step "docker engine is up"; exit 0; }
  sleep 1
done
die "dockerd did not answer within 60 s; see $CACHE/dockerd.log"
