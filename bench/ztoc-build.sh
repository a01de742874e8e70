#!/usr/bin/env bash
# Times `lazypull ztoc create` against `gzip -dc` on the same gzip layer in the same run.
#
#   bench/ztoc-build.sh [--big] [LAYER.tar.gz]
#
# Without a layer it builds one from files under /usr (about 450 MB of tar, ~150 MB gzipped;
# with --big about 3.2 GB of tar, ~1 GB gzipped) and caches it in /var/tmp/lazypull-bench.
# Prints each time, the ratio create/gunzip (target <= 1.2) and the peak RSS of create.
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
cache=/var/tmp/lazypull-bench
big=false
layer=""
for arg in "$@"; do
  case $arg in
    --big) big=true ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) layer=$arg ;;
  esac
done

make_layer() { # $1 = output file, $2 = uncompressed byte budget
  local out=$1 budget=$2 list
  list=$(mktemp)
  echo "ztoc-build: building $out from /usr (budget $budget bytes of files)..." >&2
  # Sorted for a repeatable layer; regular files, symlinks and directories like an image has.
  find /usr -xdev \( -type f -o -type l -o -type d \) -printf '%s\t%p\n' 2>/dev/null |
    LC_ALL=C sort -k2 |
    awk -F'\t' -v budget="$budget" '{ total += $1; if (total > budget) exit; print $2 }' \
      >"$list" || true # find and sort stop with SIGPIPE once awk has enough
  tar --no-recursion -C / -cf - -T "$list" 2>/dev/null | gzip -6 -n >"$out.part"
  mv "$out.part" "$out"
  rm -f "$list"
}

if [ -z "$layer" ]; then
  mkdir -p "$cache"
  if $big; then
    layer=$cache/usr-big.tar.gz
    [ -f "$layer" ] || make_layer "$layer" 3200000000
  else
    layer=$cache/usr.tar.gz
    [ -f "$layer" ] || make_layer "$layer" 450000000
  fi
fi

now() { date +%s.%N; }
seconds() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

cat "$layer" >/dev/null # both runs start with the layer in the page cache
"$root/bin/lazypull" --version >/dev/null # builds the jar if needed, outside the timing
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

best_gunzip=""; best_create=""; rss=""
for run in 1 2; do
  t0=$(now); gzip -dc "$layer" >/dev/null; t1=$(now)
  g=$(seconds "$t0" "$t1")
  t0=$(now)
  /usr/bin/time -v -o "$out/time.txt" "$root/bin/lazypull" ztoc create "$layer" \
    -o "$out/layer.ztoc" 2>"$out/create.err" >/dev/null
  t1=$(now)
  c=$(seconds "$t0" "$t1")
  r=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$out/time.txt")
  echo "run $run: gzip -dc ${g}s, lazypull ztoc create ${c}s, create peak RSS ${r} KiB" >&2
  if [ -z "$best_gunzip" ] || awk -v a="$g" -v b="$best_gunzip" 'BEGIN{exit !(a<b)}'; then
    best_gunzip=$g
  fi
  if [ -z "$best_create" ] || awk -v a="$c" -v b="$best_create" 'BEGIN{exit !(a<b)}'; then
    best_create=$c
  fi
  rss=$r
done

size=$(stat -c %s "$layer")
usize=$(gzip -l "$layer" | awk 'NR==2 { print $2 }')
echo "layer:               $layer ($size bytes gzip)"
echo "gzip -dc:            ${best_gunzip}s (best of 2)"
echo "lazypull ztoc create: ${best_create}s (best of 2, JVM start included)"
echo "ratio create/gunzip: $(awk -v a="$best_create" -v b="$best_gunzip" 'BEGIN { printf "%.2f", a / b }') (target <= 1.20)"
echo "create peak RSS:     ${rss} KiB"
echo "zTOC:                $(stat -c %s "$out/layer.ztoc") bytes; $(tail -1 "$out/create.err")"
[ -n "$usize" ] && echo "(gzip -l uncompressed size, mod 4 GiB: $usize)"

if $big; then
  # Memory does not grow with the layer's bytes, only with its TOC (files) and span count:
  # show that a small fixed heap is enough.
  JAVA_TOOL_OPTIONS=-Xmx128m /usr/bin/time -v -o "$out/time.txt" "$root/bin/lazypull" ztoc \
    create "$layer" -o "$out/layer.ztoc" 2>/dev/null >/dev/null
  echo "create with -Xmx128m: $(awk -F': ' '/Elapsed/ { print $2 }' "$out/time.txt") wall," \
    "peak RSS $(awk -F': ' '/Maximum resident set size/ { print $2 }' "$out/time.txt") KiB"
fi
