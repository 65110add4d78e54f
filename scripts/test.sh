#!/usr/bin/env bash
# The single test command of meshcharts. Needs only python3 (3.11+) and access to PyPI.
#
#   bash scripts/test.sh [PYTEST_ARGS...]
#
# 1. creates .venv if missing and installs the project with its test extra (only when
#    pyproject.toml changed since the last install),
# 2. installs gnupg and docker-registry with apt-get when missing (Debian 12, as root),
#    provisions the real Helm 3 and Helm 4 binaries (cached; see scripts/provision_helm.py)
#    and exports MESHCHARTS_HELM3 / MESHCHARTS_HELM4 (pre-set values are kept),
# 3. runs ruff check, ruff format --check, mypy and pytest (extra arguments go to pytest).
# Every check runs even if an earlier one failed; the exit status is nonzero if any failed.
set -euo pipefail

cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
VENV=".venv"
VPY="$VENV/bin/python"

if [[ ! -x "$VPY" ]]; then
    "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
        || { echo "test.sh: $PYTHON is older than 3.11" >&2; exit 2; }
    echo "test.sh: creating $VENV" >&2
    "$PYTHON" -m venv "$VENV"
fi

# Editable installs of a pyproject-only project need PEP 660 support (pip >= 21.3).
if ! "$VPY" -c 'import sys, pip; sys.exit(tuple(map(int, pip.__version__.split(".")[:2])) < (21, 3))'
then
    "$VPY" -m pip install -q --disable-pip-version-check --upgrade 'pip>=21.3'
fi

stamp="$VENV/.meshcharts-install-stamp"
want="$("$VPY" -c 'import hashlib, sys; print(hashlib.sha256(open("pyproject.toml", "rb").read()).hexdigest())')"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
    "$VPY" -m pip install -q --disable-pip-version-check -e '.[test]'
    echo "$want" > "$stamp"
fi

# gpg signs provenance files (meshcharts build --sign; tests/test_provenance.py).
if ! command -v gpg >/dev/null 2>&1; then
    echo "test.sh: installing gnupg" >&2
    apt-get -qq update && apt-get -qq install -y gnupg=2.2.40-1.1+deb12u2 >/dev/null
fi

# The OCI registry the publish tests start on 127.0.0.1 (tests/registry.py): Debian's
# docker-registry, the CNCF Distribution registry.
if ! command -v docker-registry >/dev/null 2>&1 && [[ ! -x /usr/bin/docker-registry ]]; then
    echo "test.sh: installing docker-registry" >&2
    apt-get -qq update && DEBIAN_FRONTEND=noninteractive apt-get -qq install -y \
        docker-registry=2.8.2+ds1-1 >/dev/null
fi

if [[ -z "${MESHCHARTS_HELM3:-}" || -z "${MESHCHARTS_HELM4:-}" ]]; then
    helm_env="$("$VPY" scripts/provision_helm.py --print-env)"
    eval "$helm_env"
fi
export MESHCHARTS_HELM3 MESHCHARTS_HELM4

failed=()
step() {
    local name="$1"
    shift
    echo "==> $name" >&2
    if ! "$@"; then
        failed+=("$name")
    fi
}

step "ruff check" "$VPY" -m ruff check .
step "ruff format --check" "$VPY" -m ruff format --check .
step "mypy" "$VPY" -m mypy
step "pytest" "$VPY" -m pytest -q "$@"

if ((${#failed[@]})); then
    printf 'test.sh: FAILED: %s\n' "$(IFS=,; echo "${failed[*]}")" >&2
    exit 1
fi
echo "test.sh: all checks passed" >&2
