#!/usr/bin/env bash
# The interim demo: converts a real Debian python image to a SOCI-enabled image in a local
# registry and reads one file from it through its zTOC, with ranged GETs only.
#
# Usage: scripts/demo.sh   (as root on a fresh Debian machine; idempotent)
#
# Steps: install dependencies; build the image with scripts/build-image.sh (cached after the
# first run); start docker-registry on a free 127.0.0.1 port with temporary storage; push the
# image with skopeo; `lazypull convert`; `lazypull index info`; `lazypull ztoc info` of the
# biggest layer; `lazypull ztoc get-file --image` of one file. Everything started here is
# stopped by PID on exit and the temporary directories are removed.
set -euo pipefail

root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
lazypull=$root/bin/lazypull
image_name=python
file=/usr/lib/os-release

say() { printf '\n== %s\n' "$*" >&2; }
die() { echo "demo: $*" >&2; exit 1; }

registry_pid=""
work=""
cleanup() {
  if [ -n "$registry_pid" ] && kill -0 "$registry_pid" 2>/dev/null; then
    kill "$registry_pid" 2>/dev/null || true
    wait "$registry_pid" 2>/dev/null || true
  fi
  [ -z "$work" ] || rm -rf "$work"
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
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
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
"$lazypull" index info "$dst" --json >"$work/index.json"
"$lazypull" index info "$dst" | sed -n '1,4p;/^LAYER/,$p'

biggest=$(jq -r '.ztocs | max_by(.layer_size) | .layer' "$work/index.json")
[ "$biggest" != null ] || die "the SOCI index has no zTOC"
say "lazypull ztoc info --image $dst --layer $biggest (head)"
"$lazypull" ztoc info --image "$dst" --layer "$biggest" | sed -n '1,8p'

# The file lives in the base layer (layer 1); find the layer whose zTOC holds it.
holder=""
for layer in $(jq -r '.ztocs[].layer' "$work/index.json"); do
  if "$lazypull" ztoc info --image "$dst" --layer "$layer" --json 2>/dev/null |
      jq -e --arg p "$file" '.files[] | select(.path == $p and .type == "reg")' >/dev/null; then
    holder=$layer
    break
  fi
done
[ -n "$holder" ] || die "no indexed layer holds $file"
say "lazypull ztoc get-file --image $dst --layer ${holder#sha256:} $file"
"$lazypull" ztoc get-file --image "$dst" --layer "$holder" "$file" -o "$work/file" \
  2>"$work/get-file.txt"
cat "$work/file"

layer_size=$(jq -r --arg l "$holder" '.ztocs[] | select(.layer == $l) | .layer_size' \
  "$work/index.json")
say "summary"
echo "image:           $src ($(jq -r '.ztocs | length' "$work/index.json") zTOCs)"
echo "SOCI-enabled:    $dst"
echo "SOCI index:      $(jq -r .digest "$work/index.json")"
ztoc_size=$(jq -r --arg l "$holder" '.ztocs[] | select(.layer == $l) | .ztoc_size' \
  "$work/index.json")
echo "read $file: $(cat "$work/get-file.txt")"
echo "  from layer ${holder#sha256:} ($layer_size compressed bytes) with ranged GETs,"
echo "  plus its $ztoc_size-byte zTOC; the layer was never downloaded whole"
