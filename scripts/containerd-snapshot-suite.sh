#!/usr/bin/env bash
# Runs containerd's own snapshotter test suite (Debian's golang-github-containerd-containerd-dev,
# containerd 1.6) against `lazypull snapshotter`, through containerd's proxy snapshotter client.
# Needs root (the suite mounts), golang-go and that package (scripts/install-deps.sh).
# Usage: scripts/containerd-snapshot-suite.sh [go test flags, e.g. -test.run Update]
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
gocode=/usr/share/gocode
if [ ! -d "$gocode/src/github.com/containerd/containerd/snapshots/testsuite" ] || ! command -v go >/dev/null; then
  echo "containerd-snapshot-suite: install golang-go golang-github-containerd-containerd-dev" \
    "(scripts/install-deps.sh)" >&2
  exit 2
fi
work=$(mktemp -d /tmp/lazypull-snapshot-suite.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/src/lazypullsuite" "$work/tmp"
cp "$root/lazypull/src/test/go/snapshot-suite/suite_test.go" "$work/src/lazypullsuite/"
# Debian ships Go sources for GOPATH mode, not modules: build offline against them.
(cd "$work/src/lazypullsuite" &&
  GO111MODULE=off GOPATH="$work:$gocode" GOFLAGS= go test -c -o "$work/suite.test" .)
LAZYPULL="$root/bin/lazypull" TMPDIR="$work/tmp" "$work/suite.test" -test.v -test.timeout 20m "$@"
