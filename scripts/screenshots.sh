#!/usr/bin/env bash
# make screenshots: pictures of the real screens for the Apps page
# (webcare_social/static/description/index.html) and README.md.
# A fresh database with demo data, then tests/test_screenshots.py (tag
# webcare_screenshots, never run by make test) replays short tours as agent, lead
# and admin and saves webcare_social/static/description/screenshots/<screen>.<lang>.png.
# Env: WEBCARE_SHOT_LANG=nl_NL (or: make screenshots LANG=nl_NL) for the same screens in
#      Dutch (the language is loaded; the module's terms come from i18n/nl.po);
#      WEBCARE_SHOT_DIR to write elsewhere; WEBCARE_SHOT_DB names the database (dropped
#      at the end unless KEEP_DB=1).
source "$(dirname "$0")/lib.sh"
bootstrap chromium fonts

lang="${WEBCARE_SHOT_LANG:-en_US}"
[[ "$lang" =~ ^[a-z]{2,3}(_[A-Z]{2})?(@[a-z]+)?$ ]] || die "WEBCARE_SHOT_LANG must be a language code such as en_US or nl_NL (got '$lang')."
out="${WEBCARE_SHOT_DIR:-$ROOT/webcare_social/static/description/screenshots}"
db="${WEBCARE_SHOT_DB:-webcare_shots_$$}"
log="$LOCAL/screenshots-$lang.log"
common=("${DB_ARGS[@]}" -d "$db" --addons-path "$(addons_path)" --http-interface 127.0.0.1)
start=$(date +%s)
rm -f "$log"  # Odoo appends to its log file

drop_db() { [ "${KEEP_DB:-0}" = 1 ] || psql_private -d postgres -c "DROP DATABASE IF EXISTS \"$db\"" >/dev/null 2>&1 || true; }
trap drop_db EXIT

load=()
[ "$lang" = en_US ] || load=(--load-language "$lang")
say "Creating database '$db' with webcare_social, demo data${load:+ and $lang}"
odoo_bin "${common[@]}" --with-demo -i webcare_social "${load[@]}" --stop-after-init --log-level warn \
    || die "Installing webcare_social failed; see the messages above."

say "Replaying the screenshot tours ($lang) into $out"
WEBCARE_SHOT_LANG="$lang" WEBCARE_SHOT_DIR="$out" odoo_bin "${common[@]}" \
    --http-port "$(free_port)" --gevent-port "$(free_port)" --workers 0 --max-cron-threads 0 \
    --test-tags webcare_screenshots --stop-after-init --log-level info --logfile "$log" || true

grep -E "odoo\.tests\.(result|stats)|Screenshot /|(ERROR|FAIL|CRITICAL)" "$log" | tail -n 40 >&2 || true
if grep -qE " (ERROR|CRITICAL) " "$log" || ! grep -qE "0 failed, 0 error\(s\) of [1-9][0-9]* tests" "$log"; then
    die "Some screenshots failed; see $log (a failed tour leaves a picture in /tmp/odoo_tests)."
fi
say "Screenshots ($lang) in $out ($(( $(date +%s) - start ))s):"
ls -l "$out"/*."${lang%%_*}".png >&2
