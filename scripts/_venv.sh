# Sourced by demo.sh and test.sh: create .venv (or $TUOYU_VENV) if missing and
# install tuoyu-sim into it with the extras given as "$1" (e.g. "[test,highs]").
VENV="${TUOYU_VENV:-.venv}"
PY="${PYTHON:-python3}"
if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e ".${1:-}"
