#!/usr/bin/env bash
# Time to a working control plane on a first start: `wharf up` on a fresh data
# directory (so every built-in plugin is compiled, none comes from the cache) until
# every Plugin `wharf plugin list` shows is Loaded; prints the seconds and how many
# components were compiled.
#
#     bench/scripts/first_start.sh [WHARF_BINARY] [PORT]
set -euo pipefail
wharf=${1:-target/release/wharf}
port=${2:-7555}
dir=$(mktemp -d "${TMPDIR:-/var/tmp}/wharf-first-start.XXXXXX")
started=$(date +%s.%N)
"$wharf" up --data-dir "$dir" --listen "127.0.0.1:$port" >"$dir/log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$dir"' EXIT

# Done when two polls in a row list the same plugins, all Loaded.
previous=""
for _ in $(seq 1 1200); do
  sleep 0.1
  list=$("$wharf" plugin list --kubeconfig "$dir/admin.kubeconfig" 2>/dev/null | tail -n +2 || true)
  [ -n "$list" ] || continue
  if awk '$3 != "Loaded" {bad=1} END {exit bad}' <<<"$list" && [ "$list" = "$previous" ]; then
    ended=$(date +%s.%N)
    echo "$(wc -l <<<"$list") plugins loaded after $(awk -v a="$started" -v b="$ended" 'BEGIN {printf "%.1f", b - a}') s; components compiled: $(grep -c 'compiled plugin' "$dir/log")"
    exit 0
  fi
  previous=$list
done
echo "plugins not all loaded after 120 s; the server's log:" >&2
tail -20 "$dir/log" >&2
exit 1
