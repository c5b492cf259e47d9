#!/usr/bin/env bash
# Lint, format and type checks: ruff (with the bandit S rules) and mypy (strict on crypto/, intake/,
# relay/). Uses the tools in $VENV (default .venv) when it has them, else those on PATH.
#   scripts/check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${VENV:-.venv}"
bin() { if [ -x "$VENV/bin/$1" ]; then echo "$VENV/bin/$1"; else command -v "$1"; fi; }
RUFF="$(bin ruff)" || { echo "ruff not found: pip install -e '.[test]'" >&2; exit 1; }
MYPY="$(bin mypy)" || { echo "mypy not found: pip install -e '.[test]'" >&2; exit 1; }
"$RUFF" check .
"$RUFF" format --check .
"$MYPY" .
