#!/usr/bin/env bash
# make i18n: refresh webcare_social/i18n/webcare_social.pot from a fresh install and
# merge it into every <lang>.po (new terms get an empty msgstr to translate; the test
# test_i18n fails until they are translated).
source "$(dirname "$0")/lib.sh"
bootstrap gettext

db="webcare_i18n_$$"
i18n="$ROOT/webcare_social/i18n"
trap 'psql_private -d postgres -c "DROP DATABASE IF EXISTS \"$db\"" >/dev/null 2>&1 || true' EXIT
say "Installing webcare_social in a scratch database to read its terms"
odoo_bin "${DB_ARGS[@]}" -d "$db" --addons-path "$(addons_path)" --http-interface 127.0.0.1 \
    -i webcare_social --stop-after-init --log-level warn || die "Installing webcare_social failed."
odoo_bin shell "${DB_ARGS[@]}" -d "$db" --addons-path "$(addons_path)" --no-http --log-level warn <<PY \
    || die "Exporting the terms failed."
from odoo.tools.translate import trans_export
with open("$i18n/webcare_social.pot", "wb") as pot:
    trans_export(None, ["webcare_social"], pot, "po", env)
PY
for po in "$i18n"/*.po; do
    [ -f "$po" ] || continue
    msgmerge --quiet --update --backup=none --no-fuzzy-matching --no-wrap --sort-by-file \
        "$po" "$i18n/webcare_social.pot"
    msgattrib --no-obsolete --no-wrap --sort-by-file -o "$po" "$po"
    say "$(basename "$po"): $(msgattrib --untranslated "$po" | grep -c '^msgid' || true) term(s) to translate"
done
say "Terms: $(grep -c '^msgid' "$i18n/webcare_social.pot") in $i18n/webcare_social.pot"
