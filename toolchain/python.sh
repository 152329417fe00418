#!/usr/bin/env bash
# Python side of the build, keyed by the content of requirements.lock (KEY = first 12 hex of its sha256):
#   $CACHE/wheels/KEY/   one linux x86_64 cp311 wheel per locked package (hash-checked downloads; packages that
#                        PyPI ships only as an sdist, i.e. pyspark, are built once with `pip wheel --no-deps` and
#                        kept in $CACHE/wheels/built/), plus constraints.txt (name==version) and a copy of the lock.
#                        This folder is the context of the wheels dist image (infra/images/dist.Dockerfile).
#   $CACHE/venv-KEY/     the dev venv, installed from that wheelhouse only (--no-index).
#   $CACHE/venv          stable symlink to the current venv-KEY.
# Idempotent: a second run with the same lock only checks two stamp files.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

LOCK="$ROOT/requirements.lock"
[ -s "$LOCK" ] || die "requirements.lock is missing; run: make lock"
KEY=$(sha256sum "$LOCK" | cut -c1-12)
WHEELS="$CACHE/wheels/$KEY"
BUILT="$CACHE/wheels/built"
VENV="$CACHE/venv-$KEY"
LINK="$CACHE/venv"
PYTHON="${PYTHON:-python3}"
# Locked packages that PyPI has no wheel for: fetched as a hash-checked sdist and built into a wheel here.
BUILD_FROM_SDIST="pyspark"
# The wheels must fit the images: Debian bookworm (glibc 2.36), CPython 3.11, x86_64.
# pip 23 does not widen --platform to older glibc tags by itself, so every manylinux tag up to 2.36 is listed.
PLATFORM_ARGS=(--only-binary=:all: --python-version 3.11 --implementation cp --abi cp311)
for minor in $(seq 36 -1 5); do PLATFORM_ARGS+=(--platform "manylinux_2_${minor}_x86_64"); done
PLATFORM_ARGS+=(--platform manylinux2014_x86_64 --platform manylinux2010_x86_64 --platform manylinux1_x86_64)

report() {
  step "python ready (lock key $KEY)"
  printf '  wheelhouse  %s (%s wheels)\n  venv        %s\n  symlink     %s -> %s\n' \
    "$WHEELS" "$(find "$WHEELS" -maxdepth 1 -name '*.whl' | wc -l)" "$VENV" "$LINK" "$(readlink "$LINK")" >&2
  printf '  activate    . %s/bin/activate\n' "$LINK" >&2
}

if [ -f "$WHEELS/.stamp" ] && [ -f "$VENV/.stamp" ] && [ "$(readlink "$LINK" 2>/dev/null)" = "venv-$KEY" ] \
   && [ "$(readlink "$CACHE/wheels/current" 2>/dev/null)" = "$KEY" ]; then
  report
  exit 0
fi

# One run at a time: a second caller waits, then takes the fast path above on its next call.
exec 9>"$CACHE/.python.sh.lock"
flock 9

"$PYTHON" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' \
  || die "$PYTHON is not CPython 3.11; the wheelhouse targets cp311 (set PYTHON=/path/to/python3.11)"
# The machine's PIP_FIND_LINKS would add a folder outside the lock's control to every pip call here.
unset PIP_FIND_LINKS PIP_NO_INDEX
export PIP_DISABLE_PIP_VERSION_CHECK=1

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Split the lock into the wheel-only part and one requirement file (with its hashes) per sdist-built package.
awk -v sdist="$BUILD_FROM_SDIST" -v dir="$tmp" '
  BEGIN { n = split(sdist, a, " "); for (i = 1; i <= n; i++) s[a[i]] = 1 }
  /^[A-Za-z0-9]/ { split($1, p, "=="); name = tolower(p[1]); out = (name in s) ? dir "/sdist-" name ".txt" : dir "/binary.txt" }
  /^[A-Za-z0-9]/ || /^[ \t]+--hash=/ { if (out) print > out }
' "$LOCK"
# name==version (plus any marker), no hashes: the pins that images and the venv install with.
sed -n 's/^\([A-Za-z0-9][^ \\]*\)\( *;[^\\]*\)\{0,1\}.*$/\1\2/p' "$LOCK" | sed 's/ *$//' >"$tmp/constraints.txt"
npkg=$(wc -l <"$tmp/constraints.txt")

if [ ! -f "$WHEELS/.stamp" ]; then
  part="$WHEELS.part"
  mkdir -p "$part" "$BUILT"
  step "downloading $((npkg - $(wc -w <<<"$BUILD_FROM_SDIST"))) hash-checked wheels (cp311, manylinux_2_36 x86_64) into $part"
  pip download --no-deps --require-hashes "${PLATFORM_ARGS[@]}" -r "$tmp/binary.txt" -d "$part" \
    | sed -n 's/^Collecting \(.*\)/  \1/p'

  for name in $BUILD_FROM_SDIST; do
    ver=$(lock_version "$name")
    whl=$(find "$BUILT" -maxdepth 1 -name "${name//-/_}-${ver}-*.whl" | head -n1)
    if [ -z "$whl" ]; then
      step "building $name $ver from its sdist (hash-checked download; ~320 MB for pyspark, once)"
      rm -rf "$BUILT/tmp-$name"
      # Never PYSPARK_HADOOP_VERSION: it makes pyspark's setup.py download Spark from Apache's mirrors.
      env -u PYSPARK_HADOOP_VERSION pip wheel --no-deps --require-hashes --no-cache-dir --progress-bar on \
        -r "$tmp/sdist-$name.txt" -w "$BUILT/tmp-$name"
      mv "$BUILT/tmp-$name"/*.whl "$BUILT/" && rmdir "$BUILT/tmp-$name"
      whl=$(find "$BUILT" -maxdepth 1 -name "${name//-/_}-${ver}-*.whl" | head -n1)
      [ -n "$whl" ] || die "no wheel for $name $ver after the build"
    else
      step "$name $ver: built wheel cached at $whl"
    fi
    ln -f "$whl" "$part/" 2>/dev/null || cp "$whl" "$part/"
  done

  cp "$tmp/constraints.txt" "$part/constraints.txt"
  cp "$LOCK" "$part/requirements.lock"
  nwhl=$(find "$part" -maxdepth 1 -name '*.whl' | wc -l)
  [ "$nwhl" -eq "$npkg" ] || die "wheelhouse has $nwhl wheels for $npkg locked packages ($part)"
  touch "$part/.stamp"
  rm -rf "$WHEELS" && mv "$part" "$WHEELS"
  step "wheelhouse complete: $WHEELS ($nwhl wheels, $(du -sh "$WHEELS" | cut -f1))"
fi

if [ ! -f "$VENV/.stamp" ]; then
  step "creating the dev venv $VENV from the wheelhouse only (offline)"
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV"
  # --no-deps with the complete pin list installs exactly the lock; pip check proves the set is consistent.
  "$VENV/bin/pip" install -q --no-index --find-links "$WHEELS" --no-deps -r "$WHEELS/constraints.txt"
  "$VENV/bin/pip" check >/dev/null || { "$VENV/bin/pip" check; die "the locked set is inconsistent"; }
  touch "$VENV/.stamp"
fi

ln -sfn "venv-$KEY" "$LINK"
ln -sfn "$KEY" "$CACHE/wheels/current"
others=()
for d in "$CACHE"/venv-* "$CACHE"/wheels/[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]*; do
  [ -d "$d" ] && [ "$d" != "$VENV" ] && [ "$d" != "$WHEELS" ] && [[ "$d" != *.part ]] && others+=("$d")
done
[ ${#others[@]} -eq 0 ] || { step "other lock keys still cached (rm -rf them once no image needs them):"; printf '  %s\n' "${others[@]}" >&2; }
report
