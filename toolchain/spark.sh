#!/usr/bin/env bash
# Spark connector jars that the pyspark wheel lacks (Kafka source/sink, Cassandra connector), resolved by Maven from
# toolchain/spark/pom.xml with strict checksums, into
#   $CACHE/artifacts/spark-connectors-<sparkVersion>-scc<sccVersion>/jars/
# the context of the spark-connectors dist image; the Spark image copies them into pyspark's jars/.
# A resolved jar whose artifact pyspark already bundles is dropped, whatever its version: pyspark's copy wins, as it
# does with --packages (Spark's own jars come first on the classpath); two versions of one artifact in jars/ would
# load in an unspecified order. Every drop is listed in resolution.txt next to jars/.
# Needs the pyspark wheel built by python.sh (to know which jars pyspark bundles). Idempotent (stamp file).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

SPARK=$(project_config sparkVersion)
SCC=$(project_config sparkCassandraConnectorVersion)
SCALA=$(project_config scalaBinaryVersion)
ART="$CACHE/artifacts/spark-connectors-$SPARK-scc$SCC"
POM="$ROOT/toolchain/spark/pom.xml"
M2="$CACHE/m2"

if [ -f "$ART/.stamp" ]; then
  step "spark connectors ready: $ART/jars ($(find "$ART/jars" -name '*.jar' | wc -l) jars)"
  exit 0
fi

locked=$(lock_version pyspark)
[ "$locked" = "$SPARK" ] || die "requirements.lock pins pyspark==$locked but Pulumi.yaml says sparkVersion $SPARK"
wheel=$(find "$CACHE/wheels/built" -maxdepth 1 -name "pyspark-$SPARK-*.whl" 2>/dev/null | head -n1)
[ -n "$wheel" ] || die "no pyspark $SPARK wheel in $CACHE/wheels/built; run toolchain/python.sh first"
command -v mvn >/dev/null || { step "installing maven"; apt_install maven; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Artifact names of the jars pyspark bundles: "scala-library-2.12.18.jar" -> "scala-library 2.12.18".
python3 - "$wheel" >"$tmp/bundled.txt" <<'EOF'
import re, sys, zipfile
for n in zipfile.ZipFile(sys.argv[1]).namelist():
    m = re.fullmatch(r"pyspark/jars/(.+?)-(\d[^/]*)\.jar", n)
    if m:
        print(m.group(1), m.group(2))
EOF
[ -s "$tmp/bundled.txt" ] || die "found no jars in $wheel"

mvn_() {
  # -C: fail on a checksum mismatch (strict policy) instead of warning.
  mvn -B -C -ntp -Dstyle.color=never -f "$POM" -Dmaven.repo.local="$M2" \
    -Dspark.version="$SPARK" -Dscc.version="$SCC" -Dscala.binary.version="$SCALA" "$@"
}
step "resolving spark-sql-kafka-0-10_$SCALA:$SPARK and spark-cassandra-connector_$SCALA:$SCC with Maven (repo $M2)"
mvn_ -q dependency:list -DincludeScope=runtime -DoutputFile="$tmp/list.txt" -DoutputAbsoluteArtifactFilename=true \
  -DexcludeTransitive=false || die "maven could not resolve the connectors (see above)"
# Lines look like "   group:artifact:jar[:classifier]:version:scope:/path/to.jar" (-- module info may follow).
sed -n 's/^ *\([^: ]*\):\([^: ]*\):jar:\(.*\):\(compile\|runtime\):\(\/[^ ]*\.jar\).*/\1 \2 \3 \5/p' "$tmp/list.txt" \
  >"$tmp/resolved.txt"
[ -s "$tmp/resolved.txt" ] || die "maven listed no jars; see $tmp/list.txt"

part="$ART.part"
rm -rf "$part" && mkdir -p "$part/jars"
{
  echo "# spark $SPARK, cassandra connector $SCC, scala $SCALA: what Maven resolved and what was kept"
  while read -r group artifact version path; do
    version=${version##*:}   # a classifier, if any, comes before the version
    bundled=$(awk -v a="$artifact" '$1 == a { print $2 }' "$tmp/bundled.txt")
    if [ -z "$bundled" ]; then
      cp "$path" "$part/jars/"
      echo "kept     $group:$artifact:$version"
    elif [ "$bundled" = "$version" ]; then
      echo "dropped  $group:$artifact:$version (pyspark bundles the same version)"
    else
      echo "dropped  $group:$artifact:$version (pyspark bundles $bundled, which wins)"
    fi
  done <"$tmp/resolved.txt"
} >"$part/resolution.txt"
sed 's/^/  /' "$part/resolution.txt" >&2

for j in "$part"/jars/*.jar; do
  python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).testzip() is None or sys.exit(1)' "$j" \
    || die "corrupt jar: $j"
done
grep -q '^kept .*:kafka-clients:' "$part/resolution.txt" || die "kafka-clients was not kept; check resolution.txt"
(cd "$part/jars" && sha256sum -- *.jar) >"$part/SHA256SUMS"
touch "$part/.stamp"
rm -rf "$ART" && mv "$part" "$ART"
step "spark connectors ready: $ART/jars ($(find "$ART/jars" -name '*.jar' | wc -l) jars, $(du -sh "$ART/jars" | cut -f1))"
