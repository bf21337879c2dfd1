#!/usr/bin/env bash
# Set up a virtual environment from nothing and run the main job on the built-in
# Yanzhou scenario: simulate today's network, then write the figures, tables and
# the HTML report.
#   bash scripts/demo.sh            # results in results/yanzhou-simulate/
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh ""
"$VENV/bin/tuoyu-sim" validate scenarios/yanzhou.toml
"$VENV/bin/tuoyu-sim" simulate scenarios/yanzhou.toml --out results/yanzhou-simulate "$@"
"$VENV/bin/tuoyu-sim" report results/yanzhou-simulate
