#!/usr/bin/env bash
# Builds a real Debian container image as an OCI image layout directory, cached.
#
# Usage: scripts/build-image.sh NAME [--packages "pkg1 pkg2"]... [--cmd "prog arg"] [--force]
#
#   NAME            a recipe: minbase, python, jdk, bigdata; or any other name given with
#                   --packages
#   --packages P    adds one layer on top of the base: what `apt-get install
#                   --no-install-recommends P` changes (a "pkg-" word removes pkg);
#                   repeat for more layers, like consecutive RUN lines of a Dockerfile
#   --cmd "C"       the image's default command (default: the recipe's, else /bin/sh)
#   --force         rebuild even if the cache is current
#
# Layer 1 is always `debootstrap --variant=minbase bookworm` (the same blob as the minbase
# image). bigdata is the jdk image's layers as they are, plus one layer of 1 GiB of random
# bytes in /data (4 files of 256 MiB, the same bytes on every build): a large image of which a
# workload reads a small part. The layout lands in $LAZYPULL_IMAGE_CACHE/NAME/KEY/layout (default cache
# /var/cache/lazypull/images), tagged `latest`; its path is printed on stdout, progress on
# stderr. The cache is keyed on a hash of this script, the recipe and the base layer, so it
# is rebuilt only when one of them changes. Run as root (debootstrap, chroot, overlayfs).
set -euo pipefail
# The whole script is one { } group: bash parses it completely before running it, so editing
# or replacing this file cannot break a build that is under way.
{

script=$(readlink -f "$0")
root=$(cd "$(dirname "$script")/.." && pwd)
cache=${LAZYPULL_IMAGE_CACHE:-/var/cache/lazypull/images}
suite=bookworm
mirror=${LAZYPULL_DEBIAN_MIRROR:-http://deb.debian.org/debian}
tag=latest
created=1970-01-01T00:00:00Z

log() { echo "build-image[$name]: $*" >&2; }
die() { echo "build-image[$name]: $*" >&2; exit 1; }

name=${1:-}
[ -n "$name" ] && [ "${name#-}" = "$name" ] || {
  sed -n '4,11s/^# \{0,1\}//p' "$script" >&2
  exit 2
}
shift
[[ "$name" =~ ^[a-z0-9][a-z0-9._-]*$ ]] || die "bad image name '$name' (use a-z 0-9 . _ -)"

layer_packages=()
cmd=""
force=false
while [ $# -gt 0 ]; do
  case "$1" in
    --packages) layer_packages+=("${2:?--packages needs a list}"); shift 2 ;;
    --cmd) cmd=${2:?--cmd needs a command}; shift 2 ;;
    --force) force=true; shift ;;
    *) die "unknown option '$1' (see the usage at the top of $script)" ;;
  esac
done

case "$name" in
  minbase) ;;
  python) [ ${#layer_packages[@]} -gt 0 ] || layer_packages=("python3 python3-numpy python3-scipy")
          [ -n "$cmd" ] || cmd=python3 ;;
  # A Java build image: the JDK, then the build tools on top.
  jdk) [ ${#layer_packages[@]} -gt 0 ] ||
         layer_packages=("openjdk-17-jdk-headless" "maven gradle")
       [ -n "$cmd" ] || cmd="jshell" ;;
  bigdata) [ ${#layer_packages[@]} -eq 0 ] || die "bigdata takes no --packages"
           [ -n "$cmd" ] || cmd=/bin/sh ;;
  *) [ ${#layer_packages[@]} -gt 0 ] || die "unknown recipe '$name': give --packages" ;;
esac
[ -n "$cmd" ] || cmd=/bin/sh

[ "$(id -u)" = 0 ] || die "must run as root (debootstrap, chroot and overlayfs need it)"
for tool in debootstrap jq getfattr setfattr gzip sha256sum flock openssl; do
  command -v "$tool" >/dev/null || { "$root/scripts/install-deps.sh"; break; }
done
for tool in debootstrap jq getfattr setfattr; do
  command -v "$tool" >/dev/null || die "$tool is missing; run scripts/install-deps.sh"
done

# --- cache ------------------------------------------------------------------------------

mkdir -p "$cache"
exec 9>"$cache/.$name.lock"
flock 9 # another build of the same image waits here, then reuses its result

# The python and jdk images share their first layer with minbase, and bigdata all of jdk's:
# build that base first.
base_name=minbase
[ "$name" != bigdata ] || base_name=jdk
base_layout=""
base_key=""
if [ "$name" != minbase ]; then
  base_layout=$("$script" "$base_name")
  base_key=$(cat "$base_layout/index.json")
fi
recipe_key=$(
  {
    sha256sum <"$script"
    printf 'suite=%s\nmirror=%s\ncmd=%s\nbase=%s\n' "$suite" "$mirror" "$cmd" "$base_key"
    printf 'layer=%s\n' "${layer_packages[@]+"${layer_packages[@]}"}"
  } | sha256sum | cut -d' ' -f1
)
# One dir per recipe key: checkouts with different versions of this script (or different
# recipes under one name) each keep their own image instead of rebuilding each other's.
image_dir=$cache/$name/${recipe_key:0:16}
layout=$image_dir/layout
if ! $force && [ -f "$layout/index.json" ]; then
  touch "$image_dir" # last use, for pruning
  log "cached (recipe $recipe_key)"
  echo "$layout"
  exit 0
fi

# --- work area and cleanup ----------------------------------------------------------------

# remove_work DIR: unmounts whatever is still mounted under DIR (innermost first), deletes it.
# --one-file-system keeps rm out of any mount that refused to go.
remove_work() {
  local dir=$1 target
  while read -r target; do
    umount "$target" 2>/dev/null || umount -l "$target" 2>/dev/null || true
  done < <(awk -v d="$dir" 'index($5, d "/") == 1 {print $5}' /proc/self/mountinfo | sort -r)
  if awk -v d="$dir" 'index($5, d "/") == 1 {found = 1} END {exit !found}' /proc/self/mountinfo
  then
    echo "build-image[$name]: still mounted under $dir; not deleting it" >&2
    return
  fi
  rm -rf --one-file-system "$dir"
}

# We hold this image's lock, so a work dir of it is left over from a killed build.
for stale in "$cache/.work-$name".*; do
  [ -d "$stale" ] || continue
  log "removing $stale, left by an interrupted build"
  remove_work "$stale"
done

work=$(mktemp -d "$cache/.work-$name.XXXXXX")
mounts=()
cleanup() {
  local i
  for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
    umount "${mounts[i]}" 2>/dev/null || umount -l "${mounts[i]}" 2>/dev/null || true
  done
  remove_work "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mount_at() { # mount_at TARGET mount-args...: mounts and remembers it for cleanup
  local target=$1
  shift
  mount "$@" "$target"
  mounts+=("$target")
}
unmount_all() {
  local i
  for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do umount "${mounts[i]}"; done
  mounts=()
}

out=$work/layout
mkdir -p "$out/blobs/sha256"
layer_digests=()
diff_ids=()
layer_sizes=()
history='[]'

# blob_add FILE: moves FILE into the layout's blobs, sets $blob_digest and $blob_size.
blob_add() {
  blob_digest=sha256:$(sha256sum "$1" | cut -d' ' -f1)
  blob_size=$(stat -c %s "$1")
  mv "$1" "$out/blobs/sha256/${blob_digest#sha256:}"
}

# layer_from_dir DIR COMMENT: tars DIR (deterministic order, numeric owners, xattrs but not
# overlayfs' own), gzips it without name or time, and appends it as the next layer.
layer_from_dir() {
  local dir=$1 comment=$2 started=$SECONDS
  (cd "$dir" && find . -mindepth 1 -maxdepth 1 -printf '%P\0' | LC_ALL=C sort -z) |
    tar -C "$dir" --create --file="$work/layer.tar" --null --files-from=- \
      --sort=name --numeric-owner --xattrs --xattrs-include='*' \
      --xattrs-exclude='trusted.overlay.*' --format=posix \
      --pax-option='delete=atime,delete=ctime,delete=mtime'
  layer_add "$work/layer.tar" "$comment" "$started"
}

# layer_add TAR COMMENT STARTED: gzips TAR into the next layer and records its digests.
layer_add() {
  local tar=$1 comment=$2 started=$3
  diff_ids+=("sha256:$(sha256sum "$tar" | cut -d' ' -f1)")
  gzip -n -6 -c "$tar" >"$work/layer.tar.gz"
  rm -f "$tar"
  blob_add "$work/layer.tar.gz"
  layer_digests+=("$blob_digest")
  layer_sizes+=("$blob_size")
  history=$(jq -c --arg c "$comment" --arg t "$created" '. + [{created: $t, created_by: $c}]' \
    <<<"$history")
  log "layer ${#layer_digests[@]}: $blob_digest, $blob_size bytes gzip" \
    "($(( $(stat -c %s "$out/blobs/sha256/${blob_digest#sha256:}") / 1048576 )) MiB)," \
    "$((SECONDS - started)) s"
}

# --- layer 1: the base rootfs ---------------------------------------------------------------

base=$work/base
if [ "$name" = minbase ]; then
  started=$SECONDS
  log "debootstrap --variant=minbase $suite $mirror"
  debootstrap --variant=minbase "$suite" "$base" "$mirror" >"$work/debootstrap.log" 2>&1 || {
    tail -n 20 "$work/debootstrap.log" >&2
    die "debootstrap of $suite from $mirror failed (network? mirror? see above)"
  }
  log "debootstrap took $((SECONDS - started)) s"
  # Like the Debian images on Docker Hub: no device nodes, no host files, no package lists.
  find "$base/dev" "$base/proc" "$base/sys" "$base/run" "$base/tmp" -mindepth 1 -delete
  rm -rf "$base"/var/cache/apt/archives/*.deb "$base"/var/lib/apt/lists/*
  : >"$base/etc/resolv.conf"
  echo localhost >"$base/etc/hostname"
  layer_from_dir "$base" "debootstrap --variant=minbase $suite $mirror"
elif [ "$name" = bigdata ]; then
  # Every layer of the base image as it is; no install follows, so nothing is unpacked.
  base_manifest=$(jq -r '.manifests[0].digest' "$base_layout/index.json")
  base_manifest_file=$base_layout/blobs/sha256/${base_manifest#sha256:}
  base_config=$(jq -r '.config.digest' "$base_manifest_file")
  base_config_file=$base_layout/blobs/sha256/${base_config#sha256:}
  while IFS= read -r digest; do
    cp "$base_layout/blobs/sha256/${digest#sha256:}" "$work/base.tar.gz"
    blob_add "$work/base.tar.gz"
    layer_digests+=("$blob_digest")
    layer_sizes+=("$blob_size")
  done < <(jq -r '.layers[].digest' "$base_manifest_file")
  mapfile -t diff_ids < <(jq -r '.rootfs.diff_ids[]' "$base_config_file")
  history=$(jq -c '.history' "$base_config_file")
  log "layers 1-${#layer_digests[@]}: the $base_name image's"
else
  # Reuse the minbase blob as is, and unpack it as the lower dir of the overlay.
  base_manifest=$(jq -r '.manifests[0].digest' "$base_layout/index.json")
  base_layer=$(jq -r '.layers[0].digest' "$base_layout/blobs/sha256/${base_manifest#sha256:}")
  base_config=$(jq -r '.config.digest' "$base_layout/blobs/sha256/${base_manifest#sha256:}")
  cp "$base_layout/blobs/sha256/${base_layer#sha256:}" "$work/base.tar.gz"
  blob_add "$work/base.tar.gz"
  layer_digests+=("$blob_digest")
  layer_sizes+=("$blob_size")
  diff_ids+=("$(jq -r '.rootfs.diff_ids[0]' "$base_layout/blobs/sha256/${base_config#sha256:}")")
  history=$(jq -c '.history[0:1]' "$base_layout/blobs/sha256/${base_config#sha256:}")
  mkdir -p "$base"
  tar -C "$base" -xzf "$out/blobs/sha256/${blob_digest#sha256:}" \
    --numeric-owner --xattrs --xattrs-include='*' --same-permissions
  log "layer 1: $blob_digest (minbase), $blob_size bytes gzip"
fi

# --- layers 2..: one apt-get install each, captured as an overlayfs upper dir ------------------

# whiteouts_to_oci DIR LOWER...: rewrites overlayfs' markers in an upper dir as OCI markers.
whiteouts_to_oci() {
  local dir=$1 path lower hidden
  shift
  # A char device 0/0 says "deleted"; OCI says it with an empty file named .wh.<name>.
  while IFS= read -r -d '' path; do
    [ "$(stat -c '%t,%T' "$path")" = 0,0 ] || continue
    rm "$path"
    : >"$(dirname "$path")/.wh.$(basename "$path")"
  done < <(find "$dir" -type c -print0)
  # trusted.overlay.opaque=y says "hide the lower dir's entries"; OCI says .wh..wh..opq.
  # This kernel marks every directory it creates opaque, also where no lower dir exists; a
  # marker there would hide nothing, and Docker would not write one, so neither do we.
  while IFS= read -r -d '' path; do
    [ "$(getfattr --only-values -n trusted.overlay.opaque "$path" 2>/dev/null)" = y ] || continue
    hidden=false
    for lower in "$@"; do [ -d "$lower/${path#"$dir"/}" ] && hidden=true; done
    if $hidden; then : >"$path/.wh..wh..opq"; fi
  done < <(find "$dir" -mindepth 1 -type d -print0)
}

# Each install runs on an overlay whose lower dirs are the base and the earlier uppers (as
# overlayfs left them, so whiteouts keep working); the uppers become layers at the end.
lowers=$base
uppers=()
for packages in "${layer_packages[@]+"${layer_packages[@]}"}"; do
  n=$((${#uppers[@]} + 2))
  started=$SECONDS
  upper=$work/upper$n
  merged=$work/merged
  mkdir -p "$upper" "$work/ovl-work$n" "$merged"
  # Self-contained upper dir: no redirects or metacopy that point into the lower dirs.
  mount_at "$merged" -t overlay overlay -o "lowerdir=$lowers,upperdir=$upper,\
workdir=$work/ovl-work$n,redirect_dir=off,metacopy=off,index=off"
  mount_at "$merged/proc" -t proc proc
  mount_at "$merged/dev" -t tmpfs -o mode=0755,size=1m devtmp
  for dev in null:1:3 zero:1:5 full:1:7 random:1:8 urandom:1:9 tty:5:0; do
    IFS=: read -r node major minor <<<"$dev"
    mknod -m 666 "$merged/dev/$node" c "$major" "$minor"
  done
  mount_at "$merged/etc/resolv.conf" --bind /etc/resolv.conf
  log "layer $n: apt-get install $packages"
  # shellcheck disable=SC2086 # the package list is meant to split
  chroot "$merged" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
    DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 /bin/sh -c \
    "apt-get update -q && apt-get install -y -q --no-install-recommends $packages &&
     apt-get clean && rm -rf /var/lib/apt/lists/* /tmp/* /var/tmp/*" >"$work/apt.log" 2>&1 || {
    tail -n 20 "$work/apt.log" >&2
    die "apt-get install $packages failed in the chroot (network? package names? see above)"
  }
  unmount_all
  rm -rf --one-file-system "$work/ovl-work$n"
  log "layer $n: install took $((SECONDS - started)) s"
  uppers+=("$upper")
  lowers=$upper:$lowers
done

for i in "${!uppers[@]}"; do
  whiteouts_to_oci "${uppers[i]}" "$base" "${uppers[@]:0:i}"
done
rm -rf --one-file-system "$base"
for i in "${!uppers[@]}"; do
  layer_from_dir "${uppers[i]}" "RUN apt-get install -y --no-install-recommends \
${layer_packages[i]} && apt-get clean && rm -rf /var/lib/apt/lists/*"
  rm -rf --one-file-system "${uppers[i]}"
done

# --- bigdata: a layer of random bytes -------------------------------------------------------

if [ "$name" = bigdata ]; then
  started=$SECONDS
  data=$work/data-layer
  mkdir -p "$data/data"
  # AES-CTR over zeros with a fixed key: incompressible like real media or model weights, yet
  # the same bytes on every build, so the layer digest is repeatable.
  for i in 0 1 2 3; do
    # openssl ends on SIGPIPE when head has enough: that is success here, despite pipefail.
    { openssl enc -aes-128-ctr -nosalt -K "$(printf '%032x' "$i")" -iv 0 </dev/zero 2>/dev/null ||
        true; } | head -c $((256 << 20)) >"$data/data/blob-$i.bin"
  done
  layer_from_dir "$data" "COPY data/ /data/ (4 x 256 MiB of random bytes)"
  rm -rf --one-file-system "$data"
fi

# --- config, manifest, index ----------------------------------------------------------------

json_blob() { # json_blob JSON: writes JSON as a blob, sets $blob_digest and $blob_size
  printf '%s' "$1" >"$work/blob.json"
  blob_add "$work/blob.json"
}

read -r -a cmd_words <<<"$cmd"
config=$(jq -cn --arg created "$created" --argjson history "$history" \
  --args '{
    created: $created, architecture: "amd64", os: "linux",
    config: {
      Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8"],
      Cmd: $ARGS.positional
    },
    rootfs: {type: "layers", diff_ids: []},
    history: $history
  }' "${cmd_words[@]}")
for id in "${diff_ids[@]}"; do
  config=$(jq -c --arg id "$id" '.rootfs.diff_ids += [$id]' <<<"$config")
done
json_blob "$config"
manifest=$(jq -cn --arg d "$blob_digest" --argjson s "$blob_size" '{
  schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
  config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $d, size: $s},
  layers: []}')
for i in "${!layer_digests[@]}"; do
  manifest=$(jq -c --arg d "${layer_digests[i]}" --argjson s "${layer_sizes[i]}" \
    '.layers += [{mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
                  digest: $d, size: $s}]' <<<"$manifest")
done
json_blob "$manifest"
jq -n --arg d "$blob_digest" --argjson s "$blob_size" --arg tag "$tag" '{
  schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json",
  manifests: [{mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $d, size: $s,
    platform: {architecture: "amd64", os: "linux"},
    annotations: {"org.opencontainers.image.ref.name": $tag}}]}' >"$out/index.json"
printf '{"imageLayoutVersion":"1.0.0"}' >"$out/oci-layout"

# Replace the cached layout in one step; the work dir (and its rootfs) goes in cleanup.
rm -rf "$layout"
mkdir -p "$image_dir"
mv "$out" "$layout"
echo "$recipe_key" >"$image_dir/recipe.sha256"
# Drop this image's other versions that nobody used for a day (they are hundreds of MiB).
while IFS= read -r -d '' old; do
  log "pruning $old, unused for a day"
  rm -rf --one-file-system "$old"
done < <(find "$cache/$name" -mindepth 1 -maxdepth 1 -type d ! -path "$image_dir" -mtime +0 -print0)
log "built $layout in $SECONDS s (manifest $blob_digest)"
echo "$layout"
exit 0
}
