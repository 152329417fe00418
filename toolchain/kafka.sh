#!/usr/bin/env bash
# Collect the Kafka broker's classpath (broker, storage tool, CLI tools, log4j2 backend) from Maven Central
# into $CACHE/artifacts/kafka-<ver>/libs/. Maven checks every jar against the repository's checksums (-C).
# Idempotent: a finished tree carries a stamp naming the version and the hash of the pom and this script;
# a second run is instant.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

VERSION=$(project_config kafkaVersion)
POM="$ROOT/toolchain/kafka/pom.xml"
DEST="$CACHE/artifacts/kafka-$VERSION"
STAMP="$DEST/.complete"
want="kafka=$VERSION inputs=$(cat "$POM" "${BASH_SOURCE[0]}" | sha256sum | cut -c1-16)"

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ]; then
  step "kafka $VERSION classpath cached ($(ls "$DEST/libs" | wc -l) jars in $DEST/libs)"
  exit 0
fi
command -v mvn >/dev/null || { step "installing maven"; apt_install maven; }

step "resolving the kafka $VERSION broker classpath from Maven Central (checksums enforced)"
stage="$DEST.part"
rm -rf "$stage"
mkdir -p "$stage/libs"
trap 'rm -rf "$stage"' EXIT
maven_copy "$POM" "$stage/libs" -Dkafka.version="$VERSION"
[ -f "$stage/libs/kafka_2.13-$VERSION.jar" ] || die "kafka_2.13-$VERSION.jar missing from the resolved classpath"

rm -rf "$DEST"
mv "$stage" "$DEST"
trap - EXIT
echo "$want" >"$STAMP"
step "kafka $VERSION: $(ls "$DEST/libs" | wc -l) jars, $(du -sh "$DEST/libs" | cut -f1) in $DEST/libs"
