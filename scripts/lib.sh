# Shared helpers for the project's scripts. Source it; do not run it.
# shellcheck shell=bash
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LOCAL="$ROOT/.local"
VENV="$ROOT/.venv"
ODOO_CACHE="$HOME/.cache/webcare_social/odoo-19.0"
ODOO_SRC="${ODOO_SRC:-}"
ADDONS_PKG="$LOCAL/addons"               # OCA wheels installed with --target
PG_DIR="$LOCAL/pg"
PG_PORT="${WEBCARE_PG_PORT:-55432}"
PG_USER_NAME="${WEBCARE_DB_USER:-odoo}"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf '\033[31mERROR: %s\033[0m\n' "$*" >&2; exit 1; }

need() {  # need CMD "how to get it"
    command -v "$1" >/dev/null 2>&1 || die "'$1' is missing. $2"
}

# --------------------------------------------------------------------------
# Debian packages: installed without a prompt when missing (root or sudo -n)
# --------------------------------------------------------------------------
have_pg_server() {
    ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1
}

ensure_debian_packages() {  # ensure_debian_packages [chromium]
    local missing=() apt_get
    command -v pg_config >/dev/null 2>&1 || missing+=(libpq-dev)                     # builds psycopg2
    [ -n "${PGHOST:-}" ] || have_pg_server || missing+=(postgresql)                # private cluster
    command -v psql >/dev/null 2>&1 || missing+=(postgresql-client)
    if [ "${1:-}" = chromium ] && ! command -v chromium >/dev/null 2>&1 \
        && ! command -v google-chrome >/dev/null 2>&1; then
        missing+=(chromium)                                                         # browser tours
    fi
    [ ${#missing[@]} -eq 0 ] && return 0
    local cmd="apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
    if [ "$(id -u)" = 0 ]; then
        apt_get=(apt-get)
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        apt_get=(sudo -n apt-get)
    else
        die "Missing Debian packages: ${missing[*]}. Install them once with: sudo sh -c '$cmd'"
    fi
    command -v apt-get >/dev/null 2>&1 || die "Missing packages: ${missing[*]} (no apt-get here: install them with your system's package manager)."
    say "Installing Debian packages: ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive "${apt_get[@]}" update -qq >/dev/null \
        && DEBIAN_FRONTEND=noninteractive "${apt_get[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
        || die "Installing ${missing[*]} failed. Run: sudo sh -c '$cmd'"
}

# --------------------------------------------------------------------------
# Odoo source: $ODOO_SRC, else the cache, else a shallow clone into the cache
# --------------------------------------------------------------------------
find_odoo() {
    if [ -n "$ODOO_SRC" ]; then
        [ -f "$ODOO_SRC/odoo/release.py" ] || die "ODOO_SRC=$ODOO_SRC is not an Odoo source tree (no odoo/release.py)."
    elif [ -f "$ODOO_CACHE/odoo/release.py" ]; then
        ODOO_SRC="$ODOO_CACHE"
    else
        say "Odoo 19.0 not found; trying a shallow clone of odoo/odoo 19.0 into $ODOO_CACHE"
        mkdir -p "$(dirname "$ODOO_CACHE")"
        if git clone --quiet --depth 1 --branch 19.0 https://github.com/odoo/odoo.git "$ODOO_CACHE.tmp" 2>/dev/null; then
            mv "$ODOO_CACHE.tmp" "$ODOO_CACHE"
            ODOO_SRC="$ODOO_CACHE"
        else
            rm -rf "$ODOO_CACHE.tmp"
            die "Odoo 19.0 source not found. Set ODOO_SRC to an Odoo 19.0 checkout, or put one at $ODOO_CACHE (this machine cannot clone it from GitHub)."
        fi
    fi
    grep -q "version_info = (19, 0" "$ODOO_SRC/odoo/release.py" || die "$ODOO_SRC is not Odoo 19.0."
    export ODOO_SRC
}

# --------------------------------------------------------------------------
# Virtualenv with Odoo's requirements, ours, and the OCA addons
# --------------------------------------------------------------------------
ensure_venv() {
    local stamp="$VENV/.webcare-stamp" want
    # the recipe's version is part of the stamp: a changed recipe reinstalls
    want=$( (cat "$ODOO_SRC/requirements.txt" "$ROOT/requirements.txt" "$ROOT/requirements-addons.txt"
        echo "venv recipe 2") | sha1sum | cut -c1-12)
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        return 0
    fi
    need python3 "Install Python 3.10 or newer."
    python3 -c 'import sys; sys.exit(sys.version_info < (3, 10))' || die "Python 3.10+ is required (found $(python3 -V))."
    need pg_config "Install the PostgreSQL client headers (Debian: apt-get install libpq-dev)."
    [ -x "$VENV/bin/python" ] || { say "Creating virtualenv $VENV"; python3 -m venv "$VENV"; }
    mkdir -p "$LOCAL"
    # Old sdists (e.g. in Odoo's pins) still import pkg_resources: cap setuptools in build envs.
    echo "setuptools<81" >"$LOCAL/build-constraints.txt"
    grep -v -i '^python-ldap' "$ODOO_SRC/requirements.txt" >"$LOCAL/odoo-requirements.txt"
    say "Installing Odoo's and webcare_social's Python requirements (first run takes a few minutes)"
    # --upgrade: the setuptools of a fresh venv (65) is "<81" too, but its
    # pkg_resources cannot find zope.* 8 and Odoo's gevent (websocket) process dies
    PIP_CONSTRAINT="$LOCAL/build-constraints.txt" "$VENV/bin/pip" install --quiet --disable-pip-version-check \
        --upgrade "setuptools<81" wheel
    PIP_CONSTRAINT="$LOCAL/build-constraints.txt" "$VENV/bin/pip" install --quiet --disable-pip-version-check \
        -r "$LOCAL/odoo-requirements.txt" -r "$ROOT/requirements.txt"
    say "Installing OCA addons into $ADDONS_PKG"
    rm -rf "$ADDONS_PKG"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check --no-deps --target "$ADDONS_PKG" \
        -r "$ROOT/requirements-addons.txt"
    echo "$want" >"$stamp"
}

addons_path() {
    echo "$ODOO_SRC/addons,$ADDONS_PKG/odoo/addons,$ROOT"
}

# --------------------------------------------------------------------------
# PostgreSQL: the PG* variables when PGHOST is set, else a private cluster
# --------------------------------------------------------------------------
port_busy() {
    python3 -c 'import socket,sys; s=socket.socket(); sys.exit(s.connect_ex(("127.0.0.1", int(sys.argv[1]))) != 0)' "$1"
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

pg_bin() {
    local b
    for b in /usr/lib/postgresql/*/bin; do [ -x "$b/initdb" ] && { echo "$b"; return; }; done
    command -v initdb >/dev/null 2>&1 && { dirname "$(command -v initdb)"; return; }
    die "PostgreSQL server binaries (initdb, pg_ctl) not found. Debian: apt-get install postgresql; or set PGHOST/PGPORT/PGUSER/PGPASSWORD to use an existing server."
}

as_pg_owner() {  # PostgreSQL refuses to run as root: use the postgres account then
    if [ "$(id -u)" = 0 ]; then
        id postgres >/dev/null 2>&1 || die "Running as root needs a 'postgres' system user to own the private cluster."
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

ensure_pg() {
    if [ -n "${PGHOST:-}" ]; then
        [ "${PGUSER:-}" != postgres ] || die "Odoo refuses the database user 'postgres': set PGUSER to another role."
        DB_ARGS=(--db_host "$PGHOST" --db_port "${PGPORT:-5432}")
        [ -n "${PGUSER:-}" ] && DB_ARGS+=(-r "$PGUSER")
        [ -n "${PGPASSWORD:-}" ] && DB_ARGS+=(-w "$PGPASSWORD")
        say "Using the PostgreSQL server named by PGHOST=$PGHOST"
        return 0
    fi
    local bin; bin=$(pg_bin)
    mkdir -p "$PG_DIR"
    [ "$(id -u)" = 0 ] && chown postgres "$PG_DIR" && chmod 700 "$PG_DIR"
    if [ ! -f "$PG_DIR/data/PG_VERSION" ]; then
        say "Creating a private PostgreSQL cluster in $PG_DIR/data"
        as_pg_owner "$bin/initdb" -D "$PG_DIR/data" -U "$PG_USER_NAME" --auth=trust -E UTF8 --locale=C >"$LOCAL/initdb.log" \
            || die "initdb failed; see $LOCAL/initdb.log"
    fi
    [ -f "$PG_DIR/port" ] && PG_PORT=$(cat "$PG_DIR/port")
    if ! as_pg_owner "$bin/pg_ctl" -D "$PG_DIR/data" status >/dev/null 2>&1; then
        if port_busy "$PG_PORT"; then  # e.g. another checkout's cluster
            PG_PORT=$(free_port)
            say "Port in use; this cluster will use $PG_PORT"
        fi
        echo "$PG_PORT" >"$PG_DIR/port"
        say "Starting PostgreSQL on 127.0.0.1:$PG_PORT"
        as_pg_owner "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
            -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
            start >/dev/null || die "PostgreSQL did not start; see $PG_DIR/server.log"
    fi
    DB_ARGS=(--db_host 127.0.0.1 --db_port "$PG_PORT" -r "$PG_USER_NAME")
    export PGHOST_PRIVATE=127.0.0.1
}

psql_private() {  # run psql against whichever server ensure_pg chose
    if [ -n "${PGHOST:-}" ]; then psql -X -q "$@"; else psql -X -q -h 127.0.0.1 -p "$PG_PORT" -U "$PG_USER_NAME" "$@"; fi
}

odoo_bin() {
    "$VENV/bin/python" "$ODOO_SRC/odoo-bin" "$@"
}

bootstrap() {  # bootstrap [chromium]
    ensure_debian_packages "${1:-}"
    find_odoo
    say "Odoo source: $ODOO_SRC"
    ensure_venv
    ensure_pg
}
