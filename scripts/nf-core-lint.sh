#!/usr/bin/env bash
# nf-core tools' lints on this pipeline, offline (make lint-nfcore; run by
# tests/pipeline/test_nfcore_lint.py). Needs `make setup setup-dev`.
#
#   scripts/nf-core-lint.sh [OUT]   -> OUT/pipelines_lint.json, OUT/nextflow_config.json,
#                                      OUT/schema_lint.txt; exit 1 on any failed check
#
# The lints read a copy of the source tree (tracked files and untracked ones git
# does not ignore): nf-core tools walks the whole directory, so .venv/ and work/
# would cost minutes, and it reads the .nf/ engine folder as a Nextflow script.
# Offline: no version check (NFCORE_NO_VERSION_CHECK), the checks that need
# the network are off in .nf-core.yml, and `nextflow` (called as
# `nextflow config -o json`) is our offline launcher.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
nfcore="$root/.venv-dev/bin/nf-core"
[ -x "$nfcore" ] || { echo "scripts/nf-core-lint.sh: no $nfcore; run 'make setup-dev' first" >&2; exit 1; }
out=${1:-$(mktemp -d)}
mkdir -p "$out"
out=$(cd "$out" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tree="$tmp/genexai"
mkdir -p "$tree" "$tmp/bin" "$tmp/nxf-home" "$tmp/config" "$tmp/cache"
(cd "$root" && git ls-files -z --cached --others --exclude-standard) |
  while IFS= read -r -d '' f; do
    # A tracked file deleted in the working tree is not part of it.
    if [ -e "$root/$f" ] || [ -L "$root/$f" ]; then
      mkdir -p "$tree/$(dirname "$f")"
      cp -P "$root/$f" "$tree/$f"
    fi
  done
printf '#!/usr/bin/env bash\nexec %q "$@"\n' "$root/scripts/nextflow" > "$tmp/bin/nextflow"
chmod +x "$tmp/bin/nextflow"
export PATH="$tmp/bin:$PATH"
# A fresh NXF_HOME: nf-core caches `nextflow config` there, keyed on nextflow.config
# and main.nf only, so a cache from an earlier run could hide a conf/ change.
export NXF_HOME="$tmp/nxf-home" XDG_CONFIG_HOME="$tmp/config" XDG_CACHE_HOME="$tmp/cache"
export NFCORE_NO_VERSION_CHECK=1 NF_CORE_LINT_OUTPUT=1 HIDE_PROGRESS=1

status=0
"$nfcore" pipelines lint --dir "$tree" --json "$out/pipelines_lint.json" || status=1

# nextflow_config is off in .nf-core.yml for one check only (dag.file must be
# .html, whose page loads mermaid from a CDN; ours is .dot). Run the rest here.
"$root/.venv-dev/bin/python" - "$tree" "$out/nextflow_config.json" <<'EOF' || status=1
import json
import sys

from nf_core.pipelines.lint import PipelineLint

lint = PipelineLint(sys.argv[1], hide_progress=True)
lint._load_lint_config()
lint.load_pipeline_config()
# custom_config: nf-core/configs' institutional profiles come from GitHub; ours are in conf/.
lint.lint_config["nextflow_config"] = ["custom_config"]
result = lint.nextflow_config()
accepted = {"Config ``dag.file`` did not end with ``.html``"}
result["failed"] = [f for f in result.get("failed", []) if f not in accepted]
json.dump(result, open(sys.argv[2], "w"), indent=1)
for f in result["failed"]:
    print("nextflow_config: FAILED:", f)
sys.exit(1 if result["failed"] else 0)
EOF

"$nfcore" pipelines schema lint --dir "$tree" "$tree/nextflow_schema.json" > "$out/schema_lint.txt" 2>&1 || status=1
cat "$out/schema_lint.txt"
exit $status
