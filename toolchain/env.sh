# Environment for every make target: the cached toolchain on PATH, Pulumi offline, local state.
# Source it: `. toolchain/env.sh`. Override CLICKSTREAM_CACHE to keep caches elsewhere.
export CLICKSTREAM_CACHE="${CLICKSTREAM_CACHE:-$HOME/.cache/clickstream}"
# This checkout's venv first (toolchain/checkout_venv.sh): the shared venv's packages plus this checkout installed
# editable, so `python` imports this checkout's code whatever the working directory. The shared venv's bin follows,
# for its tools (ruff); Python entry points are run as `python -m`.
_root="$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")/.." && pwd)"
_pulumi_bin=$(cat "$CLICKSTREAM_CACHE/pulumi/current-bin" 2>/dev/null || true)
export PATH="$_root/.venv/bin:$CLICKSTREAM_CACHE/venv/bin${_pulumi_bin:+:$_pulumi_bin}:$PATH"
export PULUMI_HOME="$CLICKSTREAM_CACHE/pulumi-home"
export PULUMI_BACKEND_URL="file://$CLICKSTREAM_CACHE/pulumi-state"
# Dev-stack secrets passphrase: a documented default (README, "Secrets"); set your own for anything shared.
export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE:-clickstream-dev}"
export PULUMI_SKIP_UPDATE_CHECK=true PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
export PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK=true PULUMI_DISABLE_REGISTRY_RESOLVE=true
export PULUMI_DIY_BACKEND_NO_LEGACY_WARNING=true
# The legacy builder: Debian's Docker 20.10 has no buildx.
export DOCKER_BUILDKIT=0
mkdir -p "$CLICKSTREAM_CACHE/pulumi-state" "$PULUMI_HOME"
unset _pulumi_bin _root
