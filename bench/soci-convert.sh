#!/usr/bin/env bash
# Times `lazypull convert` of the real Debian python image (2 layers, ~250 MB gzip) with one and
# two layers at a time, against a baseline measured in the same run: downloading every layer
# from the same registry and decompressing it (curl | gzip -dc), one after the other.
#
#   bench/soci-convert.sh [IMAGE_RECIPE]     (default python; as root)
#
# Prints each time and its ratio to the baseline. Starts its own docker-registry on loopback
# and stops it (by PID) on exit.
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
recipe=${1:-python}
lazypull=$root/bin/lazypull

registry_pid="" work=""
cleanup() {
  [ -z "$registry_pid" ] || { kill "$registry_pid" 2>/dev/null; wait "$registry_pid" 2>/dev/null; } || true
  [ -z "$work" ] || rm -rf "$work"
}
trap cleanup EXIT

layout=$("$root/scripts/build-image.sh" "$recipe")
work=$(mktemp -d /tmp/lazypull-bench.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf 'version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\n' \
  "$work/storage" "$port" >"$work/registry.yml"
/usr/bin/docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
registry_pid=$!
for _ in $(seq 100); do curl -fsS "http://127.0.0.1:$port/v2/" >/dev/null 2>&1 && break; sleep 0.1; done
reg=127.0.0.1:$port
"$root/scripts/push-image.sh" "$layout" latest "$reg/bench/$recipe:latest" >/dev/null
"$lazypull" --version >/dev/null # builds the jar if needed, outside the timings

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

manifest=$(curl -fsS -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
  "http://$reg/v2/bench/$recipe/manifests/latest")
layers=$(jq -r '.layers[].digest' <<<"$manifest")
sizes=$(jq '[.layers[].size] | add' <<<"$manifest")

start=$(now)
for digest in $layers; do
  curl -fsS "http://$reg/v2/bench/$recipe/blobs/$digest" | gzip -dc >/dev/null
done
baseline=$(elapsed "$start")

start=$(now)
"$lazypull" convert --jobs 1 "$reg/bench/$recipe:latest" "$reg/bench/$recipe:soci-1" >/dev/null
one=$(elapsed "$start")
start=$(now)
"$lazypull" convert --jobs 2 "$reg/bench/$recipe:latest" "$reg/bench/$recipe:soci-2" >/dev/null
two=$(elapsed "$start")

echo "image $recipe: $(wc -w <<<"$layers") layers, $sizes compressed bytes, $(nproc) cores"
echo "baseline (curl | gzip -dc, layer by layer): ${baseline} s"
echo "lazypull convert --jobs 1:                  ${one} s  ratio $(ratio "$one" "$baseline")"
echo "lazypull convert --jobs 2:                  ${two} s  ratio $(ratio "$two" "$baseline")"
