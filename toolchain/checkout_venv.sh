#!/usr/bin/env bash
# This checkout's own venv, <checkout>/.venv: the shared venv's packages (python.sh) seen through a .pth file, and
# this checkout installed editable, so `python` imports this checkout's code from any directory and never another
# checkout's (the shared venv is used by every checkout on the machine and gets no install of its own).
# Offline and quick: no index, no dependencies, no build isolation (setuptools comes from the shared venv).
# Idempotent: a second run only compares a stamp, keyed by the shared venv, this checkout's path and pyproject.toml.
set -euo pipefail
source "$(dirname "$0")/lib.sh" # CACHE ROOT

SHARED="$CACHE/venv"
VENV="$ROOT/.venv"
[ -x "$SHARED/bin/python" ] || die "$SHARED is missing: run toolchain/python.sh (make setup) first"
key="$(readlink -f "$SHARED") $ROOT $(sha256sum "$ROOT/pyproject.toml" | cut -c1-12)"
[ "$(cat "$VENV/.stamp" 2>/dev/null)" = "$key" ] && exit 0

exec 9>"$VENV.lock"
flock 9
[ "$(cat "$VENV/.stamp" 2>/dev/null)" = "$key" ] && exit 0
step "creating $VENV: the shared venv's packages plus this checkout, editable"
rm -rf "$VENV"
"$SHARED/bin/python" -m venv --without-pip "$VENV"
site=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
shared_site=$("$SHARED/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
# addsitedir, not a bare path line: the shared site-packages' own .pth files must be read too.
echo "import site; site.addsitedir('$shared_site')" >"$site/_clickstream_shared.pth"
(cd "$ROOT" && PIP_DISABLE_PIP_VERSION_CHECK=1 "$VENV/bin/python" -m pip install -q --no-index --no-deps \
  --no-build-isolation -e .)
rm -rf "$ROOT"/*.egg-info
"$VENV/bin/python" -c 'import contract, webui, infra, devstack' || die "$VENV cannot import this checkout"
echo "$key" >"$VENV/.stamp"
