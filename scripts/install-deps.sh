#!/usr/bin/env bash
# Installs what lazypull, its demo and its tests need on a fresh Debian machine. Idempotent.
set -euo pipefail

packages=(
  docker-registry   # the real registry the tests and demo push to
  fuse3             # fusermount3 and /etc/fuse.conf; the kernel FUSE module is built in
  runc              # runs containers for `lazypull run`
  containerd        # the snapshotter's host
  systemd           # systemd-analyze verify of the snapshotter's unit (systemd need not run)
  skopeo umoci      # independent pull/unpack to compare against
  debootstrap       # builds the real Debian test and demo images
  pigz              # multi-member gzip test layers
  flatbuffers-compiler
  busybox-static    # a tiny static rootfs for run tests
  jq curl ca-certificates xz-utils attr
  apache2-utils     # htpasswd: bcrypt users for the registry tests with Basic auth
  openssl           # a test CA and server certificate for the TLS registry tests
  golang-go golang-github-containerd-containerd-dev  # containerd's snapshotter test suite
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >&2
  apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
fi

if [ ! -x /usr/lib/jvm/temurin-25-jdk-amd64/bin/java ]; then
  echo "install-deps: Java 25 is not at /usr/lib/jvm/temurin-25-jdk-amd64;" \
    "install a Java 25 JDK there or set LAZYPULL_JAVA_HOME" >&2
  exit 1
fi
command -v mvn >/dev/null || {
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q maven >&2
}
