#!/usr/bin/env bash
# Set up a virtual environment from nothing and run the whole test suite.
#   bash scripts/test.sh            # all tests
#   bash scripts/test.sh -k theory  # extra arguments go to pytest
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh "[test,highs,bench,dask,spopt,access,gis]"
if [ -n "${TUOYU_EXTRA_SETUP:-}" ]; then bash -c "$TUOYU_EXTRA_SETUP"; fi
set +e
"$VENV/bin/python" -m pytest -q -n 2 -p no:cacheprovider "$@"
rc=$?
set -e
if [ "$rc" -eq 5 ]; then
  echo "scripts/test.sh: pytest collected no tests; that is a failure here" >&2
  exit 1
fi
exit "$rc"
