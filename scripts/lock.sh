#!/usr/bin/env bash
# Refresh requirements.lock: the exact versions that both README commands install (pip -c).
# Resolves pyproject.toml's ranges afresh in a throwaway venv, then writes every package's version.
# After a refresh, run scripts/test.sh and commit the lock only if the whole suite passes.
#   scripts/lock.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"$PYTHON" -m venv "$tmp/venv"
"$tmp/venv/bin/python" -m pip install --quiet --disable-pip-version-check -e '.[test]'
{
  echo "# The versions CI passed with; installed by the README's commands with 'pip install -c requirements.lock'."
  echo "# Regenerate with scripts/lock.sh (then run scripts/test.sh before committing it)."
  "$tmp/venv/bin/python" -m pip freeze --exclude-editable --disable-pip-version-check | LC_ALL=C sort -f
} >requirements.lock
echo "requirements.lock: $(grep -vc '^#' requirements.lock) packages"
