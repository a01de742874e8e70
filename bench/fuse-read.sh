#!/usr/bin/env bash
# Benchmark of the FUSE transport (not a test): the example mirror filesystem serving a local
# directory, compared with reading that directory directly, in the same run.
#   - sequential read of a 1 GiB file, page cache evicted on both sides first (fadvise DONTNEED
#     through dd iflag=nocache; drop_caches is not writable here); target >= 0.8x of local
#   - the same with FUSE passthrough; target >= 0.95x
#   - the same with the source file in page cache (transport cost alone, no disk)
#   - stat of 10,000 files: the first listing of a directory (every entry comes from the server
#     with readdirplus), once with the server's JIT cold and once warmed up on three other
#     directories of 10,000; then again from the kernel's caches. Target <= 2x the local time
# Each read figure is the best of three (the machine is shared; one run is mostly noise).
# Usage: bench/fuse-read.sh [work-dir]   (root; default work dir under /var/tmp)
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
export JAVA_HOME=${LAZYPULL_JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
work=${1:-$(mktemp -d /var/tmp/fuse-bench.XXXXXX)}
src=$work/source
mnt=$work/mnt
server_pid=

cleanup() {
  if mountpoint -q "$mnt" 2>/dev/null; then umount "$mnt" || umount -l "$mnt"; fi
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

echo "building the fuse module..." >&2
(cd "$root" && mvn -q -B -o -pl fuse test-compile \
  dependency:build-classpath -Dmdep.outputFile="$work/cp.txt" -Dmdep.includeScope=test >&2)
cp="$root/fuse/target/classes:$root/fuse/target/test-classes:$(cat "$work/cp.txt")"

mkdir -p "$src/many" "$src/warmup1" "$src/warmup2" "$src/warmup3" "$mnt"
echo "writing a 1 GiB file and 10,000 small ones in $src..." >&2
head -c $((1 << 30)) /dev/urandom > "$src/big.bin"
(cd "$src/many" && seq -f 'file-%05g' 1 10000 | xargs touch)
for w in warmup1 warmup2 warmup3; do
  (cd "$src/$w" && seq -f 'file-%05g' 1 10000 | xargs touch)
done
sync

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
evict() { for f in "$@"; do dd if="$f" iflag=nocache count=0 status=none; done; }

# Prints the seconds it took to read $1 sequentially with 1 MiB reads.
read_seconds() {
  local start end
  start=$(now)
  dd if="$1" of=/dev/null bs=1M status=none
  end=$(now)
  elapsed "$start" "$end"
}

# Best of three reads of $1, evicting first each time the files named after it ($2...).
best_read_seconds() {
  local file=$1 a b c
  shift
  evict "$@"; a=$(read_seconds "$file")
  evict "$@"; b=$(read_seconds "$file")
  evict "$@"; c=$(read_seconds "$file")
  printf '%s\n%s\n%s\n' "$a" "$b" "$c" | sort -n | head -1
}

stat_seconds() {
  local start end
  start=$(now)
  stat -c %s "$1"/* > /dev/null
  end=$(now)
  elapsed "$start" "$end"
}

# The best of three: the 10,000 stats take milliseconds, so one run is mostly noise.
stat_best_seconds() {
  local a b c
  a=$(stat_seconds "$1"); b=$(stat_seconds "$1"); c=$(stat_seconds "$1")
  printf '%s\n%s\n%s\n' "$a" "$b" "$c" | sort -n | head -1
}

start_server() {
  "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -cp "$cp" \
    dev.lazypull.fuse.mirror.MirrorMain "$src" "$mnt" "$@" > "$work/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 100); do
    grep -q '^mounted' "$work/server.log" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "the mirror server did not mount within 10 s:" >&2
  cat "$work/server.log" >&2
  exit 1
}

stop_server() {
  umount "$mnt"
  wait "$server_pid" || true
  server_pid=
}

gbps() { awk -v s="$1" 'BEGIN { printf "%.2f GB/s", 1.073741824 / s }'; }
ratio() { awk -v base="$1" -v t="$2" 'BEGIN { printf "%.2fx", base / t }'; }
slowdown() { awk -v base="$1" -v t="$2" 'BEGIN { printf "%.2fx the local time", t / base }'; }

# The first read from disk after writing is slow for reasons outside this machine (the virtual
# disk's host caches it): read it from disk once before measuring anything, so that every cold
# read below starts from the same state.
evict "$src/big.bin"
read_seconds "$src/big.bin" > /dev/null
local_cold=$(best_read_seconds "$src/big.bin" "$src/big.bin")
local_warm=$(best_read_seconds "$src/big.bin")
local_stat=$(stat_best_seconds "$src/many")
echo "local read, cold cache:     ${local_cold}s $(gbps "$local_cold")"
echo "local read, warm cache:     ${local_warm}s $(gbps "$local_warm")"
echo "local stat of 10,000 files: ${local_stat}s"

start_server
fuse_cold=$(best_read_seconds "$mnt/big.bin" "$src/big.bin" "$mnt/big.bin")
read_seconds "$src/big.bin" > /dev/null
fuse_warm=$(best_read_seconds "$mnt/big.bin" "$mnt/big.bin")
fuse_stat_fresh=$(stat_seconds "$mnt/warmup1")
stat_seconds "$mnt/warmup2" > /dev/null
stat_seconds "$mnt/warmup3" > /dev/null
fuse_stat_warm=$(stat_seconds "$mnt/many")
fuse_stat_again=$(stat_best_seconds "$mnt/many")
stop_server
grep '^requests=' "$work/server.log" | sed 's/^/requests the server saw: /'
echo "fuse read, cold cache:      ${fuse_cold}s $(gbps "$fuse_cold")" \
  "= $(ratio "$local_cold" "$fuse_cold") of local (target >= 0.8x)"
echo "fuse read, source cached:   ${fuse_warm}s $(gbps "$fuse_warm")" \
  "= $(ratio "$local_warm" "$fuse_warm") of local warm (transport cost alone)"
echo "fuse stat, first listing:   ${fuse_stat_fresh}s" \
  "= $(slowdown "$local_stat" "$fuse_stat_fresh") (server JIT still cold)"
echo "fuse stat, first listing:   ${fuse_stat_warm}s" \
  "= $(slowdown "$local_stat" "$fuse_stat_warm") (server warmed up; target <= 2x)"
echo "fuse stat, cached entries:  ${fuse_stat_again}s = $(slowdown "$local_stat" "$fuse_stat_again")"

start_server --passthrough
grep -q 'passthrough=true' "$work/server.log" || echo "WARNING: the kernel refused passthrough"
pass_cold=$(best_read_seconds "$mnt/big.bin" "$src/big.bin" "$mnt/big.bin")
read_seconds "$src/big.bin" > /dev/null
pass_warm=$(best_read_seconds "$mnt/big.bin")
stop_server
echo "passthrough, cold cache:    ${pass_cold}s $(gbps "$pass_cold")" \
  "= $(ratio "$local_cold" "$pass_cold") of local (target >= 0.95x)"
echo "passthrough, source cached: ${pass_warm}s $(gbps "$pass_warm")" \
  "= $(ratio "$local_warm" "$pass_warm") of local warm"
grep '^requests=' "$work/server.log" | sed 's/^/requests the passthrough server saw: /'
