#!/usr/bin/env bash
# Build the bulk loader the Spark image carries (jobs/bulkload/: BulkLoad.java, its launcher and logging
# config) against Cassandra's own classes, into $CACHE/artifacts/bulkload-<cassandra>-<source hash>/:
#   lib/   Cassandra's classpath (from the cassandra step) plus clickstream-bulkload.jar
#   bin/   bulkload, the launcher;  conf/  logback.xml
# $CACHE/artifacts/bulkload/current points at it; the Pulumi program packs it into the Spark image.
# Idempotent: the folder's name carries the hash of its inputs, and a finished one has a stamp.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

VERSION=$(project_config cassandraVersion)
SRC="$ROOT/jobs/bulkload"
LIB="$CACHE/artifacts/cassandra-$VERSION/lib"
[ -d "$LIB" ] || die "$LIB is missing: the cassandra step runs first"
hash=$(cat "$SRC"/* "${BASH_SOURCE[0]}" | sha256sum | cut -c1-12)
DEST="$CACHE/artifacts/bulkload-$VERSION-$hash"
CURRENT="$CACHE/artifacts/bulkload/current"

if [ ! -f "$DEST/.complete" ]; then
  command -v javac >/dev/null || { step "installing a JDK for javac"; apt_install openjdk-17-jdk-headless; }
  step "compiling the bulk loader against cassandra-all $VERSION"
  stage="$DEST.part"
  rm -rf "$stage"
  trap 'rm -rf "$stage"' EXIT
  mkdir -p "$stage/lib" "$stage/bin" "$stage/conf" "$stage/classes"
  javac --release 17 -nowarn -d "$stage/classes" -cp "$LIB/*" "$SRC/BulkLoad.java"
  jar cf "$stage/lib/clickstream-bulkload.jar" -C "$stage/classes" .
  rm -rf "$stage/classes"
  cp "$LIB"/*.jar "$stage/lib/"
  install -m 0755 "$SRC/bulkload" "$stage/bin/bulkload"
  cp "$SRC/logback.xml" "$stage/conf/"
  rm -rf "$DEST"
  mv "$stage" "$DEST"
  trap - EXIT
  touch "$DEST/.complete"
fi
mkdir -p "$(dirname "$CURRENT")"
ln -sfn "$DEST" "$CURRENT"
step "bulk loader ready in $DEST"
