#!/usr/bin/env bash
# Provide debian:bookworm-slim: pull it where a registry answers, else debootstrap it and import it under that tag.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
TAG=debian:bookworm-slim

if docker image inspect "$TAG" >/dev/null 2>&1; then
  step "base image $TAG present"
  exit 0
fi
if timeout 30 docker pull "$TAG" >/dev/null 2>&1; then
  step "pulled $TAG"
  exit 0
fi
command -v debootstrap >/dev/null || { step "installing debootstrap"; apt_install debootstrap; }
tarball="$CACHE/base/bookworm-minbase.tar"
if [ ! -s "$tarball" ]; then
  step "no registry: debootstrapping bookworm (about 30 s)"
  rootfs=$(mktemp -d)
  trap 'rm -rf "$rootfs"' EXIT
  debootstrap --variant=minbase bookworm "$rootfs" >"$CACHE/debootstrap.log" 2>&1 \
    || die "debootstrap failed; see $CACHE/debootstrap.log"
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  mkdir -p "$(dirname "$tarball")"
  tar -C "$rootfs" -cf "$tarball.part" . && mv "$tarball.part" "$tarball"
fi
step "importing $TAG from $tarball"
docker import "$tarball" "$TAG" >/dev/null
