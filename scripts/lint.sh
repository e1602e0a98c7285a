#!/usr/bin/env bash
# make lint: ruff + pylint-odoo through pre-commit, in the project's virtualenv.
source "$(dirname "$0")/lib.sh"
find_odoo
ensure_venv
"$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$ROOT/requirements-dev.txt"
cd "$ROOT"
"$VENV/bin/ruff" check webcare_social scripts tests bench
"$VENV/bin/ruff" format --check webcare_social scripts tests bench
PYTHONPATH="$ODOO_SRC" "$VENV/bin/pylint" --rcfile=.pylintrc webcare_social
