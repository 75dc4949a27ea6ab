#!/usr/bin/env bash
# Print the pipeline's manifest.version (nextflow.config). Given a release tag,
# also check that it is exactly v<manifest.version> and fail otherwise.
#
# The modules pull <registry>/genexai-cpu:<manifest.version>, so the release
# workflow (.github/workflows/containers.yml) runs this before building: images
# pushed under any other tag would be ones no release of the pipeline names.
# Plain awk, because the GitHub runner has no Nextflow; the tests check that it
# reads the same value as `nextflow config`.
#
#   scripts/release-version.sh            -> 0.1.0
#   scripts/release-version.sh v0.1.0     -> 0.1.0
#   scripts/release-version.sh v0.2.0     -> error, exit 1
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
config="$root/nextflow.config"

# The `version = '...'` lines inside the top-level `manifest { ... }` block.
versions=$(awk '
  /^manifest[[:space:]]*\{/ { inside = 1; next }
  inside && /^\}/           { inside = 0 }
  inside && $1 == "version" && $2 == "=" {
    if (match($0, /'"'"'[^'"'"']*'"'"'|"[^"]*"/)) print substr($0, RSTART + 1, RLENGTH - 2)
  }
' "$config")
if [ "$(printf '%s\n' "$versions" | grep -c .)" -ne 1 ]; then
  echo "release-version: expected one manifest.version in $config, found: ${versions:-none}" >&2
  exit 1
fi
version=$versions

if [ $# -gt 1 ]; then
  echo "usage: $0 [TAG]" >&2
  exit 2
fi
if [ $# -eq 1 ] && [ "$1" != "v$version" ]; then
  echo "release-version: tag '$1' does not match manifest.version '$version' in nextflow.config (expected 'v$version')" >&2
  exit 1
fi
echo "$version"
