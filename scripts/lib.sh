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
# Debian packages: installed without a prompt when missing (root or sudo -n),
# else one command to run is printed. Each check looks for what the scripts use
# (a command, a header, a working venv), not for a package name, so the same
# check passes on a machine that has it from elsewhere.
# --------------------------------------------------------------------------
have_pg_server() {
    ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1
}

have_python_build_tools() {  # what building psycopg2 (an sdist) needs: a C compiler and Python.h
    printf '#include <stdio.h>\nint main(void) { return 0; }\n' \
        | cc -x c - -o /dev/null >/dev/null 2>&1 || return 1
    python3 -c 'import os, sys, sysconfig
sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' 2>/dev/null
}

can_make_venv() {  # Debian's python3 has no venv/ensurepip without python3-venv
    local tmp rc=0
    tmp=$(mktemp -d)
    python3 -m venv "$tmp/venv" >/dev/null 2>&1 || rc=1
    rm -rf "$tmp"
    return $rc
}

have_browser() {
    local exe
    for exe in google-chrome chromium chromium-browser google-chrome-stable; do
        command -v "$exe" >/dev/null 2>&1 && return 0
    done
    return 1
}

missing_debian_packages() {  # missing_debian_packages [chromium] [fonts] [gettext]: prints the names
    local missing=() want
    command -v make >/dev/null 2>&1 || missing+=(make)
    command -v git >/dev/null 2>&1 || missing+=(git)                               # Odoo clone, upgrade check
    [ -s /etc/ssl/certs/ca-certificates.crt ] || missing+=(ca-certificates)       # https to PyPI and GitHub
    if ! command -v python3 >/dev/null 2>&1; then
        missing+=(python3 python3-venv python3-dev gcc libc6-dev)
    elif [ ! -f "$VENV/.webcare-stamp" ]; then                                   # the venv is still to build
        [ -x "$VENV/bin/python" ] || can_make_venv || missing+=(python3-venv)
        have_python_build_tools || missing+=(python3-dev gcc libc6-dev)
    fi
    command -v pg_config >/dev/null 2>&1 || missing+=(libpq-dev)                     # builds psycopg2
    [ -n "${PGHOST:-}" ] || have_pg_server || missing+=(postgresql)                # private cluster
    command -v psql >/dev/null 2>&1 || missing+=(postgresql-client)
    for want in "$@"; do
        case $want in
            chromium) have_browser || missing+=(chromium) ;;                        # browser tours
            fonts) [ -n "$(find /usr/share/fonts /usr/local/share/fonts -name 'Roboto-Regular.*' 2>/dev/null || true)" ] \
                    || missing+=(fonts-roboto-unhinted) ;;                           # Odoo's UI font
            gettext) command -v msgmerge >/dev/null 2>&1 || missing+=(gettext) ;;    # make i18n
        esac
    done
    [ ${#missing[@]} -eq 0 ] || printf '%s\n' "${missing[@]}" | awk '!seen[$0]++'
}

ensure_debian_packages() {  # ensure_debian_packages [chromium] [fonts] [gettext]
    local missing apt_get cmd
    mapfile -t missing < <(missing_debian_packages "$@")
    [ ${#missing[@]} -eq 0 ] && return 0
    cmd="apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
    command -v apt-get >/dev/null 2>&1 \
        || die "Missing: ${missing[*]} (Debian names; no apt-get here: install them with your system's package manager, see README.md, Prerequisites)."
    if [ "$(id -u)" = 0 ]; then
        apt_get=(apt-get)
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        apt_get=(sudo -n apt-get)
    elif command -v sudo >/dev/null 2>&1; then
        die "Missing Debian packages: ${missing[*]}. Install them once with this command, then run this again:
    sudo sh -c '$cmd'"
    else
        die "Missing Debian packages: ${missing[*]}. Install them once as root with this command, then run this again:
    su -c '$cmd'"
    fi
    say "Installing Debian packages: ${missing[*]}"
    local log
    log=$(mktemp)
    if ! { DEBIAN_FRONTEND=noninteractive "${apt_get[@]}" update -q \
        && DEBIAN_FRONTEND=noninteractive "${apt_get[@]}" install -y -q --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
        tail -n 20 "$log" >&2
        die "Installing ${missing[*]} failed (above: the end of apt-get's output). Run: $cmd"
    fi
    rm -f "$log"
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

resolve_pg_dir() {  # as root the cluster belongs to 'postgres', who may not reach the checkout
    PG_DIR="$LOCAL/pg"
    [ "$(id -u)" = 0 ] && id postgres >/dev/null 2>&1 || return 0
    runuser -u postgres -- test -x "$ROOT" 2>/dev/null && return 0
    # e.g. a clone in /root (mode 700): keep the cluster in postgres's home instead
    local home
    home=$(getent passwd postgres | cut -d: -f6)
    PG_DIR="${home:-/var/lib/postgresql}/webcare_social-$(printf '%s' "$ROOT" | sha1sum | cut -c1-8)"
}
resolve_pg_dir

pg_stop() {  # make pg-stop: stop the private cluster if it runs
    resolve_pg_dir
    [ -f "$PG_DIR/data/PG_VERSION" ] || return 0
    local bin
    bin=$(pg_bin)
    if as_pg_owner "$bin/pg_ctl" -D "$PG_DIR/data" status >/dev/null 2>&1; then
        as_pg_owner "$bin/pg_ctl" -D "$PG_DIR/data" stop -m fast
    fi
}

as_pg_owner() {  # PostgreSQL refuses to run as root: use the postgres account then
    if [ "$(id -u)" = 0 ]; then
        id postgres >/dev/null 2>&1 || die "Running as root needs a 'postgres' system user to own the private cluster."
        (cd / && runuser -u postgres -- "$@")  # from /: postgres may not enter the cwd
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
    resolve_pg_dir
    mkdir -p "$PG_DIR" "$LOCAL"
    [ "$PG_DIR" = "$LOCAL/pg" ] || say "The private cluster is in $PG_DIR (user postgres cannot enter $ROOT)"
    if [ "$(id -u)" = 0 ]; then chown postgres "$PG_DIR" && chmod 700 "$PG_DIR"; fi
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

bootstrap() {  # bootstrap [chromium] [fonts] [gettext]
    ensure_debian_packages "$@"
    find_odoo
    say "Odoo source: $ODOO_SRC"
    ensure_venv
    ensure_pg
}
