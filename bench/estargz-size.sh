#!/usr/bin/env bash
# eStargz layer size and conversion time against one-member gzip -6 of the same tar, for a real
# Debian layer (default: the minbase image's layer). Usage: bench/estargz-size.sh [LAYER.gz [KEEP_DIR]]
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
cd "$root"
export JAVA_HOME=${LAZYPULL_JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
cp_file=$(mktemp)
trap 'rm -f "$cp_file"' EXIT
mvn -q -B -pl lazypull -am test-compile dependency:build-classpath -DskipTests \
  -Dmdep.outputFile="$cp_file" >&2
"$JAVA_HOME/bin/java" -cp "lazypull/target/test-classes:lazypull/target/classes:$(cat "$cp_file")" \
  -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
  dev.lazypull.estargz.EstargzSizeBenchmark "${1:-}" ${2:+"$2"}
