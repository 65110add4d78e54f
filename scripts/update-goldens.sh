#!/usr/bin/env bash
# Rewrite golden/ from a fresh build of the built-in profiles, rendered by Helm 4.1.4.
# Review the result with `git diff golden/` before committing.
set -euo pipefail
cd "$(dirname "$0")/.."
VPY=".venv/bin/python"
[[ -x "$VPY" ]] || { echo "run scripts/test.sh once first (it creates .venv)" >&2; exit 2; }
helm4="$("$VPY" scripts/provision_helm.py 4.1.4 | awk '{print $2}')"
MESHCHARTS_HELM="$helm4" "$VPY" -m meshcharts golden update "$@"
git status --short golden/ | head -n 40
