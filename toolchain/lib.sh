# Shared helpers for the setup scripts: progress lines, caching paths, config lookups.
CACHE="${CLICKSTREAM_CACHE:-$HOME/.cache/clickstream}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mkdir -p "$CACHE"

step() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }

# project_config KEY -> the value of clickstream:KEY in Pulumi.yaml, the one place versions live.
project_config() {
  local v
  v=$(sed -n "s/^ *clickstream:$1: *\"\{0,1\}\([^\"]*\)\"\{0,1\} *$/\1/p" "$ROOT/Pulumi.yaml" | head -n1)
  [ -n "$v" ] || die "clickstream:$1 is not set in Pulumi.yaml"
  printf '%s' "$v"
}

# lock_version PKG -> the pinned version of a Python package in requirements.lock.
lock_version() {
  local v
  v=$(sed -n "s/^$1==\([^ ;]*\).*/\1/p" "$ROOT/requirements.lock" | head -n1)
  [ -n "$v" ] || die "$1 is not pinned in requirements.lock"
  printf '%s' "$v"
}

apt_updated=""
apt_install() {
  if [ -z "$apt_updated" ]; then apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# fetch URL DEST: download once into the cache, atomically.
fetch() {
  [ -s "$2" ] && return 0
  mkdir -p "$(dirname "$2")"
  curl -fSL --retry 3 --progress-bar -o "$2.part" "$1" && mv "$2.part" "$2"
}

# maven_copy POM OUTDIR [-Dname=value ...]: copy POM's dependency tree into OUTDIR. -C is the strict
# checksum policy (a jar whose .sha1 does not match fails); one progress line per download, and the
# full log is kept next to OUTDIR only when it fails.
maven_copy() {
  local pom=$1 out=$2 log="$2.mvn.log" rc
  shift 2
  set +e
  mvn -B -C -Dstyle.color=never -f "$pom" "$@" dependency:copy-dependencies -DoutputDirectory="$out" 2>&1 \
    | tee "$log" | grep --line-buffered -E '^\[INFO\] Downloaded from|BUILD|ERROR'
  rc=${PIPESTATUS[0]}
  set -e
  [ "$rc" -eq 0 ] || die "maven could not resolve $pom (log: $log)"
  rm -f "$log"
}
