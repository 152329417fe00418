#!/usr/bin/env bash
# Provide the Pulumi engine, its Python language host and the docker resource provider, cached by version.
#
# Everything lands in one directory, printed on stdout as the last line:
#   $CACHE/pulumi/bin-v<cli>-docker<provider>/
#     pulumi  pulumi-language-python  pulumi-language-python-exec  pulumi-resource-pulumi-python
#     pulumi-resource-docker
# so a caller only prepends it to PATH (PATH="$(toolchain/pulumi.sh):$PATH").
#
# Engine + language host, first that works:
#   1. a `pulumi` on PATH at exactly $PULUMI_VERSION with pulumi-language-python beside it;
#   2. the official release tarball (10 s connect timeout: not reachable on machines limited to package registries);
#   3. a build from the Go module proxy: toolchain/pulumi/engine (pkg/v3 wrapper module + our own small Python
#      language host, as the upstream one's module is not served), plus the two scripts from the sdk/v3 module zip.
# Docker provider, first that works:
#   1. the official plugin tarball at the pulumi-docker SDK version;
#   2. a build from the Go module proxy: toolchain/pulumi/docker (pulumi-terraform-bridge over
#      kreuzwerker/terraform-provider-docker + a native Image resource), stamped with the SDK version.
# A second run only checks stamps. Build logs: $CACHE/pulumi/logs/.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

# The engine (Pulumi.yaml clickstream:pulumiVersion); its pkg/v3 + sdk/v3 are what pulumi/engine/go.mod requires.
PULUMI_VERSION=$(project_config pulumiVersion)
# pulumi-resource-docker must report the same version as the pulumi-docker Python SDK.
if [ -f "$ROOT/requirements.lock" ]; then
  DOCKER_VERSION=$(lock_version pulumi-docker)
else
  DOCKER_VERSION=$(sed -n 's/^pulumi-docker==\([^ ;]*\).*/\1/p' "$ROOT/requirements.in" | head -n1)
  DOCKER_VERSION=${DOCKER_VERSION:-5.1.0}
fi
# The Terraform provider that the rebuilt docker provider bridges (the newest the proxy serves; v4.6.0 and later).
KREUZWERKER=github.com/kreuzwerker/terraform-provider-docker@v0.0.0-20260916201441-96d331c98ff4

SRC="$ROOT/toolchain/pulumi"
BASE="$CACHE/pulumi"
BIN="$BASE/bin-v$PULUMI_VERSION-docker$DOCKER_VERSION"
ENGINE="$BASE/engine-v$PULUMI_VERSION"
DOCKER="$BASE/docker-v$DOCKER_VERSION"
LOGS="$BASE/logs"
ENGINE_FILES="pulumi pulumi-language-python pulumi-language-python-exec pulumi-resource-pulumi-python"

case "$(uname -m)" in
  x86_64 | amd64) ARCH_CLI=x64 ARCH_PLUGIN=amd64 ;;
  aarch64 | arm64) ARCH_CLI=arm64 ARCH_PLUGIN=arm64 ;;
  *) die "unsupported machine $(uname -m)" ;;
esac

# A hash of the wrapper sources: a build made from other sources is rebuilt.
src_hash() { (cd "$SRC/$1" && find . -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16); }

# stamp_ok DIR KEY: DIR holds a finished install made for KEY.
stamp_ok() { [ -f "$1/.stamp" ] && [ "$(cat "$1/.stamp")" = "$2" ]; }

engine_key() { echo "pulumi v$PULUMI_VERSION $1"; }
docker_key() { echo "docker v$DOCKER_VERSION $1"; }

bin_ready() {
  [ -f "$BIN/.stamp" ] || return 1
  local f
  for f in $ENGINE_FILES pulumi-resource-docker; do [ -x "$BIN/$f" ] || return 1; done
  [ "$(cat "$BIN/.stamp")" = "$(cat "$ENGINE/.stamp" 2>/dev/null) | $(cat "$DOCKER/.stamp" 2>/dev/null)" ]
}

# Fast path: nothing to do.
if bin_ready && { grep -qs ' official$\| path$' "$ENGINE/.stamp" || stamp_ok "$ENGINE" "$(engine_key "src:$(src_hash engine)")"; } &&
  { grep -qs ' official$' "$DOCKER/.stamp" || stamp_ok "$DOCKER" "$(docker_key "src:$(src_hash docker)")"; }; then
  step "pulumi v$PULUMI_VERSION + docker provider v$DOCKER_VERSION: cached"
  echo "$BIN"
  exit 0
fi

mkdir -p "$BASE" "$LOGS"
exec 9>"$BASE/.lock"
flock 9 # one installer at a time (parallel make, CI and a developer's shell share the cache)

# try_official URL DEST: download and unpack a release tarball into DEST, failing fast if the host is unreachable.
try_official() {
  local url=$1 dest=$2 tmp
  tmp=$(mktemp -d "$BASE/.dl.XXXXXX")
  if curl -fsSL --connect-timeout 10 --max-time 600 -o "$tmp/t.tgz" "$url" 2>"$tmp/err" &&
    tar -xzf "$tmp/t.tgz" -C "$tmp"; then
    rm -rf "$dest" && mkdir -p "$dest" && find "$tmp" -type f -perm -u+x -exec cp {} "$dest/" \;
    rm -rf "$tmp"
    return 0
  fi
  step "  not reachable ($(tr '\n' ' ' <"$tmp/err" | cut -c1-100))"
  rm -rf "$tmp"
  return 1
}

need_go() {
  command -v go >/dev/null 2>&1 || die "building Pulumi needs Go >= 1.26 on PATH (none found)"
}

# build_progress LOG: "N modules fetched, M packages compiled" from a `go build -v` log.
build_progress() {
  local fetched lines
  fetched=$(grep -c '^go: downloading' "$1" || true)
  lines=$(grep -c '^[a-z]' "$1" || true)
  echo "$fetched modules fetched, $((lines - fetched)) packages compiled"
}

# go_build LOG DIR OUT PKG LDFLAGS: build PKG in DIR into OUT (release flags), fetching modules from the proxy as
# needed; prints a progress line (modules fetched, packages compiled) every 30 s and a summary.
go_build() {
  local log=$1 dir=$2 out=$3 pkg=$4 ldflags=$5 t0=$SECONDS
  step "  go build $pkg (log: $log)"
  (cd "$dir" && CGO_ENABLED=0 GOFLAGS="-mod=readonly -buildvcs=false" exec go build -v -trimpath \
    -tags osusergo,grpcnotrace -ldflags "-s -w $ldflags" -o "$out" "$pkg") >"$log" 2>&1 </dev/null &
  local pid=$! tick=0 rc=0
  while kill -0 "$pid" 2>/dev/null; do
    sleep 2
    tick=$((tick + 2))
    [ $((tick % 30)) -eq 0 ] && step "  ... $(build_progress "$log") ($((SECONDS - t0)) s)"
  done
  wait "$pid" || rc=$?
  if [ "$rc" -ne 0 ]; then
    tail -n 30 "$log" >&2
    die "go build $pkg failed; full log: $log"
  fi
  step "  built $(basename "$out"): $(build_progress "$log"), $((SECONDS - t0)) s"
}

install_engine() {
  local key
  key=$(engine_key "src:$(src_hash engine)")
  if grep -q ' official$\| path$' "$ENGINE/.stamp" 2>/dev/null || stamp_ok "$ENGINE" "$key"; then
    return 0
  fi
  rm -f "$ENGINE/.stamp"

  # 1. a matching pulumi already on PATH (and not our own bin dir)
  local onpath dir
  if onpath=$(command -v pulumi 2>/dev/null) && [ "$(pulumi version 2>/dev/null)" = "v$PULUMI_VERSION" ]; then
    dir=$(dirname "$(readlink -f "$onpath")")
    if [ "$dir" != "$(readlink -f "$BIN" 2>/dev/null)" ] && [ -x "$dir/pulumi-language-python" ] &&
      [ -f "$dir/pulumi-language-python-exec" ]; then
      step "using pulumi v$PULUMI_VERSION from $dir"
      rm -rf "$ENGINE" && mkdir -p "$ENGINE"
      for f in $ENGINE_FILES; do [ -e "$dir/$f" ] && ln -sf "$dir/$f" "$ENGINE/$f"; done
      engine_key path >"$ENGINE/.stamp"
      return 0
    fi
  fi

  # 2. the official release
  step "trying the official pulumi v$PULUMI_VERSION release"
  if try_official "https://get.pulumi.com/releases/sdk/pulumi-v$PULUMI_VERSION-linux-$ARCH_CLI.tar.gz" "$ENGINE"; then
    engine_key official >"$ENGINE/.stamp"
    return 0
  fi

  # 3. build from the Go module proxy
  need_go
  step "building pulumi v$PULUMI_VERSION from the Go module proxy (cold: ~12 min on 2 cores)"
  local build="$BASE/build/engine-v$PULUMI_VERSION" t0=$SECONDS
  rm -rf "$build" && mkdir -p "$build" && cp -r "$SRC/engine/." "$build/"
  mkdir -p "$ENGINE"
  local ld="-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_VERSION"
  go_build "$LOGS/engine-cli.log" "$build" "$ENGINE/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi "$ld"
  go_build "$LOGS/engine-langhost.log" "$build" "$ENGINE/pulumi-language-python" ./cmd/pulumi-language-python "$ld"
  # The exec script and the dynamic-provider launcher ship inside the sdk/v3 module zip.
  local sdk
  sdk=$(cd "$build" && go list -m -f '{{.Dir}}' github.com/pulumi/pulumi/sdk/v3)
  install -m 755 "$sdk/python/cmd/pulumi-language-python-exec" "$sdk/python/dist/pulumi-resource-pulumi-python" "$ENGINE/"
  "$ENGINE/pulumi" version >/dev/null || die "the built pulumi does not run"
  echo "$key" >"$ENGINE/.stamp"
  rm -rf "$build"
  step "pulumi v$PULUMI_VERSION built in $((SECONDS - t0)) s"
}

install_docker() {
  local key
  key=$(docker_key "src:$(src_hash docker)")
  if grep -q ' official$' "$DOCKER/.stamp" 2>/dev/null || stamp_ok "$DOCKER" "$key"; then
    return 0
  fi
  rm -f "$DOCKER/.stamp"

  step "trying the official pulumi-resource-docker v$DOCKER_VERSION release"
  if try_official "https://get.pulumi.com/releases/plugins/pulumi-resource-docker-v$DOCKER_VERSION-linux-$ARCH_PLUGIN.tar.gz" \
    "$DOCKER" && [ -x "$DOCKER/pulumi-resource-docker" ]; then
    docker_key official >"$DOCKER/.stamp"
    return 0
  fi

  need_go
  step "building pulumi-resource-docker v$DOCKER_VERSION from the Go module proxy (cold: ~5 min on 2 cores)"
  local build="$BASE/build/docker-v$DOCKER_VERSION" t0=$SECONDS upstream
  rm -rf "$build" && mkdir -p "$build"
  cp "$SRC/docker/go.mod" "$SRC/docker/go.sum" "$SRC/docker/"*.go "$build/"
  step "  fetching ${KREUZWERKER%@*} ${KREUZWERKER#*@}"
  upstream=$(cd "$BASE" && GOFLAGS='' go mod download -json "$KREUZWERKER" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
  [ -d "$upstream" ] || die "could not download $KREUZWERKER"
  cp -r "$upstream" "$build/upstream" && chmod -R u+w "$build/upstream"
  mkdir -p "$build/upstream/shim" && cp "$SRC/docker/_upstream-shim/shim.go" "$build/upstream/shim/"
  mkdir -p "$DOCKER"
  go_build "$LOGS/docker-provider.log" "$build" "$DOCKER/pulumi-resource-docker" . "-X main.version=$DOCKER_VERSION"
  echo "$key" >"$DOCKER/.stamp"
  rm -rf "$build"
  step "pulumi-resource-docker v$DOCKER_VERSION built in $((SECONDS - t0)) s"
}

install_engine
install_docker

step "assembling $BIN"
rm -rf "$BIN.tmp" && mkdir -p "$BIN.tmp"
# hard links where possible: the engine is 120 MB
for f in $ENGINE_FILES; do
  if [ -e "$ENGINE/$f" ]; then cp -lP "$ENGINE/$f" "$BIN.tmp/$f" 2>/dev/null || cp -P "$ENGINE/$f" "$BIN.tmp/$f"; fi
done
cp -l "$DOCKER/pulumi-resource-docker" "$BIN.tmp/" 2>/dev/null || cp "$DOCKER/pulumi-resource-docker" "$BIN.tmp/"
echo "$(cat "$ENGINE/.stamp") | $(cat "$DOCKER/.stamp")" >"$BIN.tmp/.stamp"
rm -rf "$BIN" && mv "$BIN.tmp" "$BIN"
bin_ready || die "incomplete install in $BIN"
step "pulumi $("$BIN/pulumi" version) + pulumi-resource-docker v$DOCKER_VERSION ready; put on PATH: $BIN"
echo "$BIN"
