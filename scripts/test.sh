#!/usr/bin/env bash
# The whole test suite: installs what the tests need, builds, and runs unit and
# integration tests (real docker-registry, FUSE, runc, containerd on loopback).
# Usage: scripts/test.sh [--long] [extra maven args]
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
cd "$root"
export JAVA_HOME=${LAZYPULL_JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}

long=false
args=()
for a in "$@"; do
  case "$a" in
    --long) long=true ;;
    *) args+=("$a") ;;
  esac
done

scripts/install-deps.sh
if [ "$(id -u)" != 0 ]; then
  echo "test.sh: the integration tests mount FUSE and run containers: run as root" >&2
  exit 1
fi

mvn -B -Dlazypull.long="$long" verify "${args[@]}"
