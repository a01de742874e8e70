#!/usr/bin/env bash
# Range-read throughput from the real docker-registry on loopback: HttpURLConnection (baseline),
# java.net.http.HttpClient, and lazypull's RegistryClient. Usage: bench/registry-ranges.sh [rounds]
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
cd "$root"
export JAVA_HOME=${LAZYPULL_JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
cp_file=$(mktemp)
trap 'rm -f "$cp_file"' EXIT
# One reactor run: the last module written (lazypull) leaves its classpath in $cp_file.
mvn -q -B -pl lazypull -am test-compile dependency:build-classpath -DskipTests \
  -Dmdep.outputFile="$cp_file" >&2
"$JAVA_HOME/bin/java" -cp "lazypull/target/test-classes:lazypull/target/classes:$(cat "$cp_file")" \
  -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
  dev.lazypull.registry.RangeReadBenchmark "${1:-200}"
