#!/usr/bin/env bash
# Pushes a tag of an OCI image layout to a plain-HTTP registry, byte for byte.
#
# Usage: scripts/push-image.sh LAYOUT_DIR TAG HOST:PORT/REPO:TAG
#
# skopeo copies the blobs as they are (--preserve-digests: no recompression, no manifest
# rewrite); afterwards the registry's manifest is fetched and its digest and layer digests are
# compared with the layout's, so a silent conversion fails here instead of in a test.
set -euo pipefail

die() { echo "push-image: $*" >&2; exit 1; }

[ $# -eq 3 ] || {
  sed -n '4s/^# //p' "$0" >&2
  exit 2
}
layout=$1 tag=$2 dest=$3
[ -f "$layout/index.json" ] || die "$layout is not an OCI image layout (no index.json)"
[[ "$dest" =~ ^([^/]+)/(.+):([^:/]+)$ ]] ||
  die "destination '$dest' is not HOST:PORT/REPO:TAG"
host=${BASH_REMATCH[1]} repo=${BASH_REMATCH[2]} dest_tag=${BASH_REMATCH[3]}
for tool in skopeo jq curl; do
  command -v "$tool" >/dev/null || { "$(dirname "$(readlink -f "$0")")/install-deps.sh"; break; }
done
for tool in skopeo jq curl; do
  command -v "$tool" >/dev/null || die "$tool is missing; run scripts/install-deps.sh"
done

manifest=$(jq -r --arg t "$tag" \
  '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $t) | .digest' \
  "$layout/index.json")
[ -n "$manifest" ] || die "no tag '$tag' in $layout/index.json"

echo "push-image: oci:$layout:$tag -> $dest" >&2
skopeo copy --quiet --preserve-digests --dest-tls-verify=false \
  "oci:$layout:$tag" "docker://$dest" >&2 ||
  die "skopeo copy of oci:$layout:$tag to $dest failed (is the registry at $host up?)"

pushed=$(curl -fsS --max-time 30 -D "${TMPDIR:-/tmp}/push-image.$$.headers" \
  -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
  "http://$host/v2/$repo/manifests/$dest_tag") ||
  die "could not read back the manifest of $dest from http://$host"
pushed_digest=$(tr -d '\r' <"${TMPDIR:-/tmp}/push-image.$$.headers" |
  sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: //p')
rm -f "${TMPDIR:-/tmp}/push-image.$$.headers"
want_layers=$(jq -c '[.layers[].digest]' "$layout/blobs/sha256/${manifest#sha256:}")
got_layers=$(jq -c '[.layers[].digest]' <<<"$pushed")
[ "$pushed_digest" = "$manifest" ] ||
  die "registry holds $dest as manifest $pushed_digest, not the layout's $manifest"
[ "$got_layers" = "$want_layers" ] ||
  die "layer digests of $dest changed in the push: $got_layers, want $want_layers"
echo "push-image: $dest is $manifest, layers $want_layers" >&2
echo "$manifest"
