#!/usr/bin/env bash
# Provide a Nextflow engine for scripts/nextflow, without nextflow.io or GitHub.
#
# 1. A `nextflow` on PATH at least $NXF_MIN_VERSION is used as it is.
# 2. Otherwise the engine's jars (io.nextflow:nextflow, nf-commons, nf-httpfs
#    24.10.8) are copied from Maven Central into .nf/lib with Maven.
# Idempotent: does nothing when .nf/engine already names a working engine.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
nf_dir="$root/.nf"
min_version=${NXF_MIN_VERSION:-24.10.0}
mkdir -p "$nf_dir"

version_ge() {  # version_ge A B: A >= B
  [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]
}

if [ -z "${GENEXAI_FORCE_MAVEN:-}" ] && command -v nextflow >/dev/null 2>&1; then
  found=$(NXF_OFFLINE=true nextflow -version 2>/dev/null | sed -n 's/.*version \([0-9][0-9.]*\).*/\1/p' | head -n1)
  if [ -n "$found" ] && version_ge "$found" "$min_version"; then
    echo "external $(command -v nextflow)" > "$nf_dir/engine"
    echo "Using Nextflow $found from PATH"
    exit 0
  fi
fi

if ! command -v mvn >/dev/null 2>&1 || ! command -v java >/dev/null 2>&1; then
  echo "install-nextflow: Java (>=17) and Maven are needed to assemble Nextflow from Maven Central" >&2
  exit 1
fi
rm -rf "$nf_dir/lib.tmp"
mvn -B -q -Dstyle.color=never -f "$root/scripts/nextflow-pom.xml" dependency:copy-dependencies \
  -DincludeScope=runtime -DoutputDirectory="$nf_dir/lib.tmp"
# Exactly one Groovy: the nextflow POM excludes org.codehaus.groovy (Groovy 3).
if ls "$nf_dir/lib.tmp" | grep -q '^groovy-3'; then
  echo "install-nextflow: a Groovy 3 jar slipped into the classpath" >&2
  exit 1
fi
rm -rf "$nf_dir/lib"
mv "$nf_dir/lib.tmp" "$nf_dir/lib"
echo "maven $nf_dir/lib" > "$nf_dir/engine"
"$root/scripts/nextflow" -version | sed -n 's/^ *version/Nextflow version/p'
