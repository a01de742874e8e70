#!/usr/bin/env bash
# The main job: runs a real Debian python image lazily with `lazypull run`, next to a full pull
# (skopeo + umoci + runc) of the same image, and prints both times and byte counts.
#
# Usage: scripts/demo.sh   (as root on a fresh Debian machine; idempotent)
#
# Steps: install dependencies; build the image with scripts/build-image.sh (cached after the
# first run); start docker-registry on a free 127.0.0.1 port with temporary storage; push the
# image with skopeo; `lazypull convert`; `lazypull index info`; `lazypull run` of a python
# command importing json, sqlite3 and numpy, with a cold cache; then the same command after a
# full pull and unpack. Everything started here is stopped by PID on exit and the temporary
# directories are removed.
set -euo pipefail

root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
lazypull=$root/bin/lazypull
image_name=python

say() { printf '\n== %s\n' "$*" >&2; }
die() { echo "demo: $*" >&2; exit 1; }

registry_pid=""
work=""
cleanup() {
  if [ -n "$registry_pid" ] && kill -0 "$registry_pid" 2>/dev/null; then
    kill "$registry_pid" 2>/dev/null || true
    wait "$registry_pid" 2>/dev/null || true
  fi
  runc --root "$work/runc" delete --force "lazypull-demo-$$" >/dev/null 2>&1 || true
  [ -z "$work" ] || rm -rf --one-file-system "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ "$(id -u)" = 0 ] || die "run as root (debootstrap and the registry need it)"

say "installing dependencies"
"$root/scripts/install-deps.sh"

say "building the Debian '$image_name' image (cached after the first run)"
layout=$("$root/scripts/build-image.sh" "$image_name")
[ -f "$layout/index.json" ] || die "build-image.sh gave no OCI layout at '$layout'"

work=$(mktemp -d /tmp/lazypull-demo.XXXXXX)
free_port() {
  local p
  for _ in $(seq 50); do
    p=$(shuf -i 20000-60000 -n 1)
    ss -Hltn "sport = :$p" | grep -q . || { echo "$p"; return; }
  done
  die "found no free loopback port"
}
port=$(free_port)
cat >"$work/registry.yml" <<YAML
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $work/storage
http:
  addr: 127.0.0.1:$port
YAML
say "starting docker-registry on 127.0.0.1:$port"
/usr/bin/docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
registry_pid=$!
for _ in $(seq 100); do
  curl -fsS "http://127.0.0.1:$port/v2/" >/dev/null 2>&1 && break
  kill -0 "$registry_pid" 2>/dev/null || die "docker-registry exited: $(cat "$work/registry.log")"
  sleep 0.1
done
curl -fsS "http://127.0.0.1:$port/v2/" >/dev/null || die "docker-registry did not answer on :$port"

src=127.0.0.1:$port/demo/$image_name:latest
dst=127.0.0.1:$port/demo/$image_name:soci
say "pushing the image to $src with skopeo"
"$root/scripts/push-image.sh" "$layout" latest "$src" >/dev/null

say "lazypull convert $src $dst"
"$lazypull" convert "$src" "$dst" | tee "$work/convert.txt"

say "lazypull index info $dst"
"$lazypull" index info "$dst" | sed -n '1,4p;/^LAYER/,$p'

workload='import json, sqlite3, numpy; print("python", __import__("sys").version.split()[0], "numpy", numpy.__version__, "ok")'

say "lazy: lazypull run $dst (cold cache, background fetch off)"
lazy_start=$(date +%s.%N)
"$lazypull" run --stats --no-background-fetch --cache-dir "$work/cache" --run-dir "$work/run" \
  "$dst" -- python3 -c "$workload" 2>"$work/lazy.err" | tee "$work/lazy.out"
lazy_end=$(date +%s.%N)
grep -v '^lazypull stats' "$work/lazy.err" >&2 || true
stats=$(grep '^lazypull stats' "$work/lazy.err") || die "lazypull run printed no stats: $(cat "$work/lazy.err")"
echo "$stats"
lazy_first=$(sed -E 's/.*first output after ([0-9.]+) s.*/\1/' <<<"$stats")
lazy_bytes=$(sed -E 's/.*fetched ([0-9,]+) bytes.*/\1/' <<<"$stats" | tr -d ,)

say "full: skopeo copy + umoci unpack + runc run of $src"
full_start=$(date +%s.%N)
skopeo copy -q --src-tls-verify=false "docker://$src" "oci:$work/full:img"
umoci unpack -q --image "$work/full:img" "$work/bundle" >/dev/null 2>&1 ||
  umoci unpack --image "$work/full:img" "$work/bundle" >/dev/null
jq --arg code "$workload" '.process.args = ["python3", "-c", $code] | .process.terminal = false' \
  "$work/bundle/config.json" >"$work/bundle/config.tmp" && mv "$work/bundle/config.tmp" "$work/bundle/config.json"
runc --root "$work/runc" run --bundle "$work/bundle" "lazypull-demo-$$" | tee "$work/full.out" |
  { IFS= read -r first; full_first=$(date +%s.%N); echo "$first"; echo "$full_first" >"$work/full.first"; cat; }
full_bytes=$(du -sb --apparent-size "$work/full/blobs" | cut -f1)
full_first=$(cat "$work/full.first")

[ "$(cat "$work/lazy.out")" = "$(cat "$work/full.out")" ] ||
  die "the lazy run printed '$(cat "$work/lazy.out")' but the full pull printed '$(cat "$work/full.out")'"

image_bytes=$(skopeo inspect --raw --tls-verify=false "docker://$src" | jq '[.layers[].size] | add')
say "summary: $src, $(( image_bytes / 1000000 )) MB compressed"
awk -v lt="$lazy_first" -v lb="$lazy_bytes" -v fs="$full_start" -v ff="$full_first" \
    -v fb="$full_bytes" -v ib="$image_bytes" 'BEGIN {
  ft = ff - fs
  printf "%-34s %12s %16s %8s\n", "", "first output", "bytes fetched", "share"
  printf "%-34s %10.2f s %16d %7.1f%%\n", "lazypull run (lazy, cold)", lt, lb, 100 * lb / ib
  printf "%-34s %10.2f s %16d %7.1f%%\n", "skopeo + umoci + runc (full pull)", ft, fb, 100 * fb / ib
  printf "lazypull started the container %.1fx sooner and fetched %.1fx fewer bytes\n", ft / lt, fb / lb
}'
