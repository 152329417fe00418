# Shared helpers for the setup scripts: progress lines, caching paths, config lookups.
CACHE="${CLICKSTREAM_CACHE:-$HOME/.cache/clickstream}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
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
