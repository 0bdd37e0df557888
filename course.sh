#!/usr/bin/env bash
# The course's two commands (see README.md):
#   bash course.sh lab    set up .venv from requirements.txt (first time, or when it changed) and open JupyterLab
#   bash course.sh test   set up the same way, then run the whole test suite (what CI runs)
# Anything after the subcommand is passed on (to jupyter lab, or to pytest).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
ROOT=$(pwd)
VENV="$ROOT/.venv"

find_python() {
  for candidate in "${PYTHON:-}" python3.11 python3 python; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)' 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  echo "course.sh: Python 3.11 is needed (set PYTHON=/path/to/python3.11)." >&2
  return 1
}

setup_venv() {
  if [ ! -x "$VENV/bin/python" ]; then
    local py; py=$(find_python)
    echo "course.sh: creating $VENV with $py"
    "$py" -m venv "$VENV"
  fi
  local want have=""
  want=$(cat requirements.txt pyproject.toml | sha256sum | cut -d' ' -f1)
  [ -f "$VENV/.stamp-requirements" ] && have=$(cat "$VENV/.stamp-requirements")
  if [ "$want" != "$have" ]; then
    echo "course.sh: installing requirements.txt into $VENV (a few minutes the first time)"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    "$VENV/bin/python" -m pip install --quiet -r requirements.txt
    echo "$want" > "$VENV/.stamp-requirements"
  fi
}

# The browser tests drive Debian's Chromium (never a downloaded browser build).
ensure_browser() {
  if [ -x /usr/bin/chromium ] || [ -n "${CHROMIUM_PATH:-}" ]; then return 0; fi
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "course.sh: installing Debian's chromium for the browser tests"
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "course.sh: no Chromium found; the browser tests will fail. Install it with:" >&2
    echo "  sudo apt-get install chromium      (or set CHROMIUM_PATH=/path/to/chromium)" >&2
  fi
}

# The PostgreSQL gradebook test starts a throw-away server from Debian's postgresql package.
ensure_postgresql() {
  if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1; then return 0; fi
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "course.sh: installing Debian's postgresql for the PostgreSQL gradebook test"
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  else
    echo "course.sh: no PostgreSQL found; the PostgreSQL gradebook test will fail. Install it with:" >&2
    echo "  sudo apt-get install postgresql" >&2
  fi
}

cmd=${1:-}
export PATH="$VENV/bin:$PATH"   # nbgrader calls alembic and jupyter from PATH
[ $# -gt 0 ] && shift
case "$cmd" in
  lab)
    setup_venv
    if [ "$(id -u)" = "0" ]; then
      # Containers often run as root, where JupyterLab refuses to start without --allow-root.
      echo "course.sh: running as root (fine in a container; on your own machine use a normal user)" >&2
      set -- --allow-root "$@"
    fi
    exec "$VENV/bin/jupyter" lab --notebook-dir="$ROOT" "$@"
    ;;
  test)
    setup_venv
    ensure_browser
    ensure_postgresql
    export CNN_COURSE_FAST=1 PYTHONDONTWRITEBYTECODE=1
    if [ $# -eq 0 ]; then
      # unit + pipeline tests, and nbval over every notebook in source/ and course/
      for folder in tests source course; do [ -d "$folder" ] && set -- "$@" "$folder"; done
    fi
    # lint first (seconds): new ruff violations fail the run before the long tests start
    "$VENV/bin/ruff" check --quiet .
    exec "$VENV/bin/python" -m pytest --nbval-lax "$@"
    ;;
  *)
    echo "usage: bash course.sh lab|test [args]" >&2
    exit 2
    ;;
esac
