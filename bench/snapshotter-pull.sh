#!/usr/bin/env bash
# Benchmark (not a test): pull-to-first-output of a Debian image in containerd 1.6 through the
# lazypull snapshotter, compared with containerd's own overlayfs snapshotter in the same run.
#   baseline: ctr images pull --snapshotter overlayfs IMAGE; ctr run ... (downloads every layer)
#   lazypull: lazypull pull IMAGE-SOCI (no layer download); ctr run --snapshotter lazypull ...
# Both cold: fresh containerd content store, fresh snapshotter root and span cache. The registry
# is the real docker-registry on loopback, so network time is nearly nil: on a real network the
# lazy side gains more. lazypull's figure includes its JVM start for `lazypull pull`.
# Usage: bench/snapshotter-pull.sh [minbase|python] [work-dir]   (root)
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
recipe=${1:-minbase}
work=${2:-$(mktemp -d /var/tmp/snapshotter-bench.XXXXXX)}
lazypull=$root/bin/lazypull
registry_pid= containerd_pid= snapshotter_pid=

case $recipe in
  minbase) command=(cat /etc/debian_version) ;;
  python) command=(python3 -c 'print("first output")') ;;
  *) echo "unknown recipe $recipe (minbase or python)" >&2; exit 2 ;;
esac

cleanup() {
  for pid in $containerd_pid $snapshotter_pid $registry_pid; do
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  done
  # The snapshotter's fd holder outlives it by design (for the next daemon): end it too.
  if [ -f "$work/lazypull/fd-holder.pid" ]; then kill "$(cat "$work/lazypull/fd-holder.pid")" 2>/dev/null || true; fi
  # Deepest first: whatever containerd or the snapshotter left mounted under the work dir.
  awk -v w="$work" '$5 == w || index($5, w "/") == 1 { print $5 }' /proc/self/mountinfo |
    sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
wait_for() { for _ in $(seq 1 600); do [ -e "$1" ] && return 0; sleep 0.1; done; return 1; }

echo "building the Debian '$recipe' image (cached after the first run)..." >&2
layout=$(cd "$root" && scripts/build-image.sh "$recipe" | tail -1)

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$work/registry"
cat > "$work/registry.yml" <<YML
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $work/registry
http:
  addr: 127.0.0.1:$port
YML
docker-registry serve "$work/registry.yml" > "$work/registry.log" 2>&1 &
registry_pid=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/v2/" >/dev/null && break; sleep 0.1; done

plain=127.0.0.1:$port/bench/$recipe:plain
soci=127.0.0.1:$port/bench/$recipe:soci
echo "pushing and indexing..." >&2
(cd "$root" && scripts/push-image.sh "$layout" latest "$plain" >/dev/null)
"$lazypull" convert --min-layer-size 1000000 "$plain" "$soci" >/dev/null

LAZYPULL_LOG_LEVEL=${LAZYPULL_LOG_LEVEL:-warn} "$lazypull" snapshotter --root "$work/lazypull" --address "$work/lazypull.sock" \
  > "$work/snapshotter.log" 2>&1 &
snapshotter_pid=$!
wait_for "$work/lazypull.sock" || { echo "snapshotter did not start" >&2; exit 1; }

cat > "$work/containerd.toml" <<TOML
version = 2
root = "$work/containerd/root"
state = "$work/containerd/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$work/containerd.sock"
[ttrpc]
  address = "$work/containerd.sock.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "$work/containerd/opt"
[proxy_plugins.lazypull]
  type = "snapshot"
  address = "$work/lazypull.sock"
TOML
containerd --config "$work/containerd.toml" > "$work/containerd.log" 2>&1 &
containerd_pid=$!
wait_for "$work/containerd.sock" || { echo "containerd did not start" >&2; exit 1; }
ctr=(ctr --address "$work/containerd.sock" -n bench)
for _ in $(seq 1 100); do "${ctr[@]}" version >/dev/null 2>&1 && break; sleep 0.1; done

echo "baseline: ctr pull + run with the overlayfs snapshotter..." >&2
start=$(now)
"${ctr[@]}" images pull --plain-http --snapshotter overlayfs "$plain" >/dev/null
base_pull=$(elapsed "$start" "$(now)")
first=$("${ctr[@]}" run --rm --snapshotter overlayfs "$plain" bench-base "${command[@]}" | head -1)
baseline=$(elapsed "$start" "$(now)")
echo "  first output: $first" >&2

echo "lazypull: lazypull pull + ctr run with the lazypull snapshotter..." >&2
start=$(now)
"$lazypull" pull --address "$work/containerd.sock" -n bench "$soci" >/dev/null
pulled=$(now)
first=$("${ctr[@]}" run --rm --snapshotter lazypull "$soci" bench-lazy "${command[@]}" | head -1)
lazy=$(elapsed "$start" "$(now)")
lazy_pull=$(elapsed "$start" "$pulled")
echo "  first output: $first" >&2
layers=$("${ctr[@]}" content ls -q | grep -c . || true)

image_bytes=$(curl -sf -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
  "http://127.0.0.1:$port/v2/bench/$recipe/manifests/plain" | jq '[.layers[].size] | add')
echo "image $recipe: $image_bytes compressed layer bytes"
echo "pull-to-first-output overlayfs (baseline): ${baseline} s (pull ${base_pull} s)"
echo "pull-to-first-output lazypull:             ${lazy} s (lazypull pull ${lazy_pull} s, JVM start included)"
awk -v b="$baseline" -v l="$lazy" 'BEGIN { printf "ratio lazypull/baseline: %.2f\n", l / b }'
echo "content blobs in containerd after both pulls: $layers (the baseline's layers, config and manifest; lazypull adds its manifest, shares the config, no layers)"
