#!/usr/bin/env bash
# Set up a virtual environment from nothing and run the main job on the built-in
# Yanzhou scenario: simulate today's network, then write the figures and tables.
#   bash scripts/demo.sh            # results in results/yanzhou-simulate/
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${TUOYU_VENV:-.venv}"
PY="${PYTHON:-python3}"
if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e .
"$VENV/bin/tuoyu-sim" validate scenarios/yanzhou.toml
"$VENV/bin/tuoyu-sim" simulate scenarios/yanzhou.toml --out results/yanzhou-simulate "$@"
