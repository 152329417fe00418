#!/usr/bin/env bash
# One idempotent setup step for `make up` and `make test`: each part caches what it builds under
# ~/.cache/clickstream (keyed by version), so a second run only checks stamps.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/lib.sh" # CACHE
parts=(docker base_image python checkout_venv pulumi kafka cassandra bulkload spark browser)
i=0
for part in "${parts[@]}"; do
  i=$((i + 1))
  printf '\033[1m[%d/%d] %s\033[0m\n' "$i" "${#parts[@]}" "$part" >&2
  start=$(date +%s)
  if [ "$part" = pulumi ]; then
    # pulumi.sh prints the bin dir to use; toolchain/env.sh puts it on PATH.
    bin=$(bash "$here/pulumi.sh" | tail -n1)
    echo "$bin" >"$CACHE/pulumi/current-bin"
  else
    bash "$here/$part.sh"
  fi
  printf '      %s ready in %ss\n' "$part" "$(( $(date +%s) - start ))" >&2
done
