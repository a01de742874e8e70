#!/usr/bin/env bash
# Benchmark (not a test): cold start of one image in three lazy forms, all in one run, against
# the SOCI form as the baseline:
#   soci          the unchanged gzip image with a SOCI index (lazypull convert);
#   estargz       lazypull convert --format estargz, no start-up set (.no.prefetch.landmark);
#   estargz+set   the same with --prefetch-from: the files a recorded run of the SOCI image read
#                 (lazypull run --record-accesses), placed first and fetched at mount in one GET.
# Each run is `lazypull run --stats --no-background-fetch` with a fresh cache; the figures are
# lazypull's own "first output after" time, the wall time of the whole command (JVM start,
# mount, container, teardown) and the bytes fetched from the registry (manifests, config, zTOCs
# or TOCs included). Also printed: the eStargz layers' size against the original gzip layers
# and the convert times. The registry is the real docker-registry on loopback, so network time
# is nearly nil; on a real network the fewer requests of the start-up set count for more.
# Usage: bench/estargz-cold-start.sh [python|minbase] [ROUNDS (default 3)]   (as root)
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
recipe=${1:-python}
rounds=${2:-3}
lazypull=$root/bin/lazypull
case $recipe in
  minbase) command=(cat /etc/debian_version) ;;
  python) command=(python3 -c 'import json, decimal; print("first output")') ;;
  *) echo "unknown recipe $recipe (minbase or python)" >&2; exit 2 ;;
esac

registry_pid="" work=""
cleanup() {
  [ -z "$registry_pid" ] || { kill "$registry_pid" 2>/dev/null; wait "$registry_pid" 2>/dev/null; } || true
  [ -z "$work" ] || rm -rf --one-file-system "$work"
}
trap cleanup EXIT

layout=$("$root/scripts/build-image.sh" "$recipe")
work=$(mktemp -d /var/tmp/lazypull-estargz-bench.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf 'version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\n' \
  "$work/storage" "$port" >"$work/registry.yml"
/usr/bin/docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
registry_pid=$!
for _ in $(seq 100); do curl -fsS "http://127.0.0.1:$port/v2/" >/dev/null 2>&1 && break; sleep 0.1; done
image=127.0.0.1:$port/bench/$recipe
"$root/scripts/push-image.sh" "$layout" latest "$image:latest" >/dev/null
"$lazypull" --version >/dev/null # builds the jar if needed, outside the timings

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "-"; else printf "%.2fx", a / b }'; }
layer_bytes() {
  curl -fsS -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
    "http://127.0.0.1:$port/v2/bench/$recipe/manifests/$1" | jq '[.layers[].size] | add'
}

"$lazypull" convert "$image:latest" "$image:soci" >/dev/null
# The start-up set: what the container reads, recorded from a run that is not measured.
"$lazypull" run --no-background-fetch --cache-dir "$work/cache-record" \
  --record-accesses "$work/startup.txt" "$image:soci" -- "${command[@]}" >/dev/null
start=$(now)
"$lazypull" convert --format estargz "$image:latest" "$image:estargz" >/dev/null
convert_plain=$(elapsed "$start")
start=$(now)
"$lazypull" convert --format estargz --prefetch-from "$work/startup.txt" \
  "$image:latest" "$image:estargz-set" >/dev/null
convert_set=$(elapsed "$start")

# Rounds interleave the three kinds, so that load from elsewhere falls on all of them alike;
# each figure is the median over the rounds (bytes fetched are the same in every round).
declare -A first wall fetched
for round in $(seq "$rounds"); do
  for tag in soci estargz estargz-set; do
    start=$(now)
    "$lazypull" run --stats --no-background-fetch --cache-dir "$work/cache-$tag-$round" \
      "$image:$tag" -- "${command[@]}" >"$work/$tag.out" 2>"$work/$tag.err"
    wall[$tag]+="$(elapsed "$start") "
    grep -q 'first output' "$work/$tag.out" || { cat "$work/$tag.err" >&2; exit 1; }
    stats=$(grep 'lazypull stats:' "$work/$tag.err")
    echo "$tag, round $round: $stats" >&2
    first[$tag]+="$(sed -E 's/.*first output after ([0-9.]+) s.*/\1/' <<<"$stats") "
    fetched[$tag]=$(sed -E 's/.*fetched ([0-9,]+) bytes.*/\1/' <<<"$stats" | tr -d ,)
    rm -rf "$work/cache-$tag-$round"
  done
done
median() { tr ' ' '\n' <<<"$1" | grep . | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
for tag in soci estargz estargz-set; do
  echo "$tag: first output ${first[$tag]}s; wall ${wall[$tag]}s" >&2
  first[$tag]=$(median "${first[$tag]}")
  wall[$tag]=$(median "${wall[$tag]}")
done

gzip_bytes=$(layer_bytes latest)
esgz_bytes=$(layer_bytes estargz)
esgz_set_bytes=$(layer_bytes estargz-set)
echo "image $recipe: $(wc -l <"$work/startup.txt") files in the start-up set; $(nproc) cores;" \
  "command: ${command[*]}"
printf '%-34s %14s %8s\n' "layer bytes" "bytes" "vs gzip"
printf '%-34s %14s %8s\n' "original gzip layers" "$gzip_bytes" "1.00x"
printf '%-34s %14s %8s\n' "eStargz layers" "$esgz_bytes" "$(ratio "$esgz_bytes" "$gzip_bytes")"
printf '%-34s %14s %8s\n' "eStargz layers with start-up set" "$esgz_set_bytes" \
  "$(ratio "$esgz_set_bytes" "$gzip_bytes")"
printf 'convert --format estargz: %s s; with --prefetch-from: %s s\n' "$convert_plain" "$convert_set"
echo "cold start, fresh cache each run, median of $rounds interleaved rounds:"
printf '%-34s %12s %8s %10s %8s %14s %8s\n' "image form" "first out s" "vs soci" \
  "wall s" "vs soci" "bytes fetched" "vs soci"
for tag in soci estargz estargz-set; do
  printf '%-34s %12s %8s %10s %8s %14s %8s\n' "$tag" "${first[$tag]}" \
    "$(ratio "${first[$tag]}" "${first[soci]}")" "${wall[$tag]}" \
    "$(ratio "${wall[$tag]}" "${wall[soci]}")" "${fetched[$tag]}" \
    "$(ratio "${fetched[$tag]}" "${fetched[soci]}")"
done
