#!/usr/bin/env bash
# Install everything and run the whole suite: ruff, mypy, then pytest. This is the README's
# command (b) and what .ci/run calls. Safe to run again: it reuses .venv and reinstalls in place.
#   scripts/test.sh [pytest arguments...]      e.g. scripts/test.sh -x -k web
#   INTAKE_TEST_YEARS_AHEAD=7 scripts/test.sh  the same suite with the clock seven years ahead
# VENV (default .venv) and PYTHON (default python3, 3.11 or newer) may be set.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${VENV:-.venv}"
PYTHON="${PYTHON:-python3}"
if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || { echo "$PYTHON is $("$PYTHON" -V 2>&1); Python 3.11 or newer is needed (set PYTHON=python3.12 ...)" >&2; exit 1; }
  "$PYTHON" -m venv "$VENV"
fi
# Reinstall only when pyproject.toml changed since the last install (works offline after that).
stamp="$VENV/.grievance-intake-installed"
want="$("$VENV/bin/python" -c 'import hashlib; print(hashlib.sha256(open("pyproject.toml", "rb").read() + open("requirements.lock", "rb").read()).hexdigest())')"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  # The locked versions (requirements.lock, refreshed by scripts/lock.sh): a library's new release
  # never changes what a fresh clone installs.
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -c requirements.lock -e '.[test]'
  echo "$want" >"$stamp"
fi
VENV="$VENV" scripts/check.sh
# pytest last, so its summary line closes the output. Exit status 5 (no tests ran) fails too.
# In parallel (pytest-xdist), one worker per core unless PYTEST_WORKERS says otherwise
# (PYTEST_WORKERS=0 runs in this process, e.g. for pdb); tests of one module share a worker.
workers="${PYTEST_WORKERS:-auto}"
if [ "$workers" = 0 ]; then
  exec "$VENV/bin/python" -m pytest -p no:xdist "$@"
fi
exec "$VENV/bin/python" -m pytest -n "$workers" --dist loadscope "$@"
