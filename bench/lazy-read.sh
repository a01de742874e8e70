#!/usr/bin/env bash
# Benchmark of the lazy mount's read path (issue: lazily mount and run a real image).
#
# Measures, in one run, for a 1 GiB file in an image served by a local docker-registry:
#   - the first (cold) read through `lazypull mount`: fetch, verify, inflate, cache;
#   - a read of the same file once it is in lazypull's span cache, page cache evicted on both
#     sides first (posix_fadvise DONTNEED through dd iflag=nocache), against the same read of
#     the plain file on local disk: target >= 0.8x;
#   - the same two with warm page caches.
# The first mount runs with passthrough (the default): once all of a large file's spans are
# cached, its next open gets a local copy that the kernel reads directly. A second mount on the
# same cache with --no-passthrough shows what FUSE reads alone reach.
# Usage: bench/lazy-read.sh [SIZE_MIB]   (default 1024; as root)
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
lazypull=$root/bin/lazypull
size_mib=${1:-1024}
cache=/var/tmp/lazypull-bench
mkdir -p "$cache"

work=$(mktemp -d /tmp/lazypull-bench.XXXXXX)
registry_pid=""
cleanup() {
  "$lazypull" umount "$work/mnt" >/dev/null 2>&1 || true
  "$lazypull" umount "$work/mnt2" >/dev/null 2>&1 || true
  [ -z "$registry_pid" ] || kill "$registry_pid" 2>/dev/null || true
  rm -rf --one-file-system "$work"
}
trap cleanup EXIT

evict() { for f in "$@"; do dd if="$f" iflag=nocache count=0 status=none; done; }
seconds() { # seconds to read $1 sequentially
  local s e
  s=$(date +%s.%N); dd if="$1" of=/dev/null bs=1M status=none; e=$(date +%s.%N)
  echo "$e - $s" | bc -l
}

# A layer holding one incompressible file: every byte must be fetched and inflated.
layer=$cache/big-$size_mib.tar.gz
if [ ! -f "$layer" ]; then
  echo "making a $size_mib MiB test layer in $cache (once)" >&2
  mkdir -p "$cache/src-$size_mib" && head -c "$((size_mib << 20))" /dev/urandom >"$cache/src-$size_mib/big.bin"
  tar -C "$cache/src-$size_mib" -cf - big.bin | gzip -1 >"$layer.tmp" && mv "$layer.tmp" "$layer"
fi
[ -f "$cache/src-$size_mib/big.bin" ] ||
  { mkdir -p "$cache/src-$size_mib" && tar -C "$cache/src-$size_mib" -xzf "$layer"; }

# An OCI layout around it, pushed with skopeo.
layout=$work/layout && mkdir -p "$layout/blobs/sha256"
put() { local d; d=$(sha256sum "$1" | cut -d' ' -f1); cp "$1" "$layout/blobs/sha256/$d"; echo "$d"; }
layer_digest=$(put "$layer")
diff_id=$(gzip -dc "$layer" | sha256sum | cut -d' ' -f1)
printf '{"architecture":"amd64","os":"linux","config":{"Cmd":["/bin/sh"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
  "$diff_id" >"$work/config.json"
config_digest=$(put "$work/config.json")
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%d},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%d}]}' \
  "$config_digest" "$(stat -c %s "$work/config.json")" "$layer_digest" "$(stat -c %s "$layer")" \
  >"$work/manifest.json"
manifest_digest=$(put "$work/manifest.json")
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%d,"annotations":{"org.opencontainers.image.ref.name":"latest"}}]}' \
  "$manifest_digest" "$(stat -c %s "$work/manifest.json")" >"$layout/index.json"
echo '{"imageLayoutVersion":"1.0.0"}' >"$layout/oci-layout"

port=$(shuf -i 20000-60000 -n 1)
printf 'version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\n' \
  "$work/storage" "$port" >"$work/registry.yml"
/usr/bin/docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
registry_pid=$!
for _ in $(seq 100); do curl -fsS "http://127.0.0.1:$port/v2/" >/dev/null 2>&1 && break; sleep 0.1; done
skopeo copy -q --dest-tls-verify=false "oci:$layout:latest" "docker://127.0.0.1:$port/big:src"
"$lazypull" convert "127.0.0.1:$port/big:src" "127.0.0.1:$port/big:soci" >/dev/null

mkdir -p "$work/mnt"
"$lazypull" mount --daemon --no-background-fetch --passthrough --cache-dir "$work/cache" \
  "127.0.0.1:$port/big:soci" "$work/mnt" >/dev/null
fuse_file=$work/mnt/big.bin
local_file=$cache/src-$size_mib/big.bin

evict "$local_file"
cold=$(seconds "$fuse_file")
cmp -s "$fuse_file" "$local_file" || { echo "WRONG BYTES through the mount" >&2; exit 1; }
mkdir -p "$work/mnt2"
"$lazypull" mount --daemon --no-background-fetch --no-passthrough --cache-dir "$work/cache" \
  "127.0.0.1:$port/big:soci" "$work/mnt2" >/dev/null
plain_file=$work/mnt2/big.bin
evicted_local=999; evicted_fuse=999; warm_local=999; warm_fuse=999; evicted_plain=999
for _ in 1 2 3; do
  evict "$local_file"; t=$(seconds "$local_file")
  evicted_local=$(echo "if ($t < $evicted_local) $t else $evicted_local" | bc -l)
  # Every file lazypull keeps, looked up each time: span files, and the plain copy it makes of
  # a fully cached file on its first open after caching, for FUSE passthrough.
  evict "$fuse_file" $(find "$work/cache" -type f); t=$(seconds "$fuse_file")
  first_fuse=${first_fuse:-$t} # the first open after caching also makes the passthrough copy
  evicted_fuse=$(echo "if ($t < $evicted_fuse) $t else $evicted_fuse" | bc -l)
  t=$(seconds "$local_file"); warm_local=$(echo "if ($t < $warm_local) $t else $warm_local" | bc -l)
  t=$(seconds "$fuse_file"); warm_fuse=$(echo "if ($t < $warm_fuse) $t else $warm_fuse" | bc -l)
  evict "$plain_file" $(find "$work/cache" -type f); t=$(seconds "$plain_file")
  evicted_plain=$(echo "if ($t < $evicted_plain) $t else $evicted_plain" | bc -l)
done

mib=$size_mib
rate() { echo "scale=0; $mib / $1" | bc -l; }
printf '%-46s %8s %10s %10s\n' "read of a $mib MiB file" "seconds" "MiB/s" "vs local"
printf '%-46s %8.2f %10s %10s\n' "lazypull, cold (fetch + verify + inflate)" "$cold" "$(rate "$cold")" "-"
printf '%-46s %8.2f %10s %10s\n' "local disk, page cache evicted" "$evicted_local" "$(rate "$evicted_local")" "1.00x"
printf '%-46s %8.2f %10s %9.2fx\n' "lazypull cached, page cache evicted" "$evicted_fuse" \
  "$(rate "$evicted_fuse")" "$(echo "$evicted_local / $evicted_fuse" | bc -l)"
printf '%-46s %8.2f %10s %9.2fx\n' "  first open after caching (copy made)" "$first_fuse" \
  "$(rate "$first_fuse")" "$(echo "$evicted_local / $first_fuse" | bc -l)"
printf '%-46s %8.2f %10s %9.2fx\n' "  same, --no-passthrough (FUSE reads only)" "$evicted_plain" \
  "$(rate "$evicted_plain")" "$(echo "$evicted_local / $evicted_plain" | bc -l)"
printf '%-46s %8.2f %10s %10s\n' "local disk, warm page cache" "$warm_local" "$(rate "$warm_local")" "1.00x"
printf '%-46s %8.2f %10s %9.2fx\n' "lazypull cached, warm page cache" "$warm_fuse" \
  "$(rate "$warm_fuse")" "$(echo "$warm_local / $warm_fuse" | bc -l)"
echo "target: lazypull cached with evicted page caches >= 0.80x of local disk"
