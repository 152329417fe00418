#!/usr/bin/env bash
# Collect Cassandra's server classpath and a cqlsh into $CACHE/artifacts/cassandra-<ver>/:
#   lib/     cassandra-all-<ver>.jar and its runtime dependencies, from Maven Central (Maven checks
#            each jar against the repository's .sha1, strict policy -C: a mismatch fails the run)
#   wheels/  cqlsh and its dependencies for CPython 3.11 (bookworm), from PyPI, checked with --require-hashes,
#            plus requirements.txt (the pinned, hashed list) for the image's offline install
# Apache's apache-cassandra-<v>-bin.tar.gz is not on Maven Central for any 4.0+ release, so the tree is
# assembled; the launcher, cassandra.yaml and logging config are in infra/images/cassandra/.
# Idempotent: a finished tree carries a stamp naming the version and the inputs' hashes.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

VERSION=$(project_config cassandraVersion)
HERE="$ROOT/toolchain/cassandra"
POM="$HERE/pom.xml"
REQS="$HERE/cqlsh-requirements.txt"
DEST="$CACHE/artifacts/cassandra-$VERSION"
STAMP="$DEST/.complete"
want="cassandra=$VERSION inputs=$(cat "$POM" "$REQS" "${BASH_SOURCE[0]}" | sha256sum | cut -c1-16)"

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ]; then
  step "cassandra $VERSION cached ($(ls "$DEST/lib" | wc -l) jars, $(ls "$DEST"/wheels/*.whl | wc -l) wheels in $DEST)"
  exit 0
fi
command -v mvn >/dev/null || { step "installing maven"; apt_install maven; }

stage="$DEST.part"
rm -rf "$stage"
mkdir -p "$stage/lib" "$stage/wheels"
trap 'rm -rf "$stage"' EXIT

step "resolving cassandra-all $VERSION and its runtime classpath from Maven Central (checksums enforced)"
maven_copy "$POM" "$stage/lib" -Dcassandra.version="$VERSION"
[ -f "$stage/lib/cassandra-all-$VERSION.jar" ] || die "cassandra-all-$VERSION.jar missing from the resolved classpath"
ls "$stage"/lib/jamm-*.jar >/dev/null 2>&1 || die "jamm (the -javaagent Cassandra needs) missing from the classpath"

step "downloading cqlsh wheels for CPython 3.11 (hash-checked)"
python3 -m pip download --disable-pip-version-check --no-deps --require-hashes -r "$REQS" \
  --only-binary=:all: --implementation cp --python-version 3.11 --abi cp311 \
  --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 --platform manylinux_2_28_x86_64 \
  --platform manylinux_2_5_x86_64 --platform manylinux1_x86_64 \
  -d "$stage/wheels" 2>&1 | grep --line-buffered -E '^(Saved|Successfully|ERROR)' || true
[ "$(ls "$stage"/wheels/*.whl | wc -l)" -eq "$(grep -c '^[a-z].*==' "$REQS")" ] \
  || die "pip did not download every wheel listed in $REQS"
# The image installs them offline with --require-hashes against this same list.
cp "$REQS" "$stage/wheels/requirements.txt"

rm -rf "$DEST"
mv "$stage" "$DEST"
trap - EXIT
echo "$want" >"$STAMP"
step "cassandra $VERSION: $(ls "$DEST/lib" | wc -l) jars ($(du -sh "$DEST/lib" | cut -f1)), $(ls "$DEST"/wheels/*.whl | wc -l) wheels in $DEST"
