#!/usr/bin/env bash
# Independent check of eStargz blobs with the reference reader (Debian's
# golang-github-containerd-stargz-snapshotter-dev 0.12.0): TOC digest, every chunk's
# chunkDigest, every file's digest. Usage: bench/estargz-go-check.sh BLOB TOC_DIGEST [BLOB TOC_DIGEST...]
# e.g. after bench/estargz-size.sh "" DIR: bench/estargz-go-check.sh $(tr '\n' ' ' < DIR/toc-digests.txt)
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
if ! command -v go >/dev/null || [ ! -d /usr/share/gocode/src/github.com/containerd/stargz-snapshotter ]; then
  echo "needs: apt-get install -y golang-go golang-github-containerd-stargz-snapshotter-dev" >&2
  exit 2
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/src/esgzcheck"
cp "$root/bench/estargz-go-check/main.go" "$work/src/esgzcheck/"
(cd "$work" && GO111MODULE=off GOPATH="$work:/usr/share/gocode" GOCACHE="$work/cache" \
  go build -o "$work/esgzcheck" esgzcheck)
"$work/esgzcheck" "$@"
