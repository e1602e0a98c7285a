#!/usr/bin/env bash
# make demo: the running product with demo data on http://localhost:8069 (admin/admin).
# Re-running reuses the virtualenv, the cluster and the database.
# Env: WEBCARE_DEMO_DB (default webcare_demo), WEBCARE_HTTP_PORT (default 8069),
#      WEBCARE_X_PORT (the local X API stand-in, default 18111).
source "$(dirname "$0")/lib.sh"
bootstrap
db="${WEBCARE_DEMO_DB:-webcare_demo}"
http_port="${WEBCARE_HTTP_PORT:-8069}"
x_port="${WEBCARE_X_PORT:-18111}"
common=("${DB_ARGS[@]}" -d "$db" --addons-path "$(addons_path)" --http-interface 127.0.0.1)

standin="$ROOT/webcare_social/tests/x_standin.py"
if [ -f "$standin" ]; then
    say "Starting the local X API stand-in on 127.0.0.1:$x_port (replays the demo conversations)"
    "$VENV/bin/python" "$standin" --port "$x_port" \
        --dataset "$ROOT/webcare_social/demo/x_demo_dataset.json" >"$LOCAL/x-standin.log" 2>&1 &
    standin_pid=$!
    trap 'kill $standin_pid 2>/dev/null || true' EXIT
    for _ in $(seq 50); do
        grep -q "http://" "$LOCAL/x-standin.log" 2>/dev/null && break
        sleep 0.1
    done
fi

if [ "$(psql_private -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'")" != 1 ]; then
    say "Creating database '$db' with webcare_social and demo data (takes a minute)"
    odoo_bin "${common[@]}" --with-demo -i webcare_social --stop-after-init --log-level warn \
        || die "Installing webcare_social failed; see the messages above."
else
    say "Reusing database '$db' (updating webcare_social)"
    odoo_bin "${common[@]}" -u webcare_social --stop-after-init --log-level warn \
        || die "Updating webcare_social failed; see the messages above."
fi

say "Connecting the demo channel to the stand-in and importing its conversations"
odoo_bin shell "${common[@]}" --no-http --log-level warn <<PY || die "The demo import failed; see the messages above."
channel = env.ref("webcare_social.webcare_channel_demo_x", raise_if_not_found=False)
if channel:
    channel.api_base_url = "http://127.0.0.1:$x_port"
    channel.action_test_connection()
    channel.action_fetch()
    counts = {s: env["webcare.message"].search_count([("state", "=", s)]) for s in ("ticketed", "ignored", "failed")}
    print("demo channel:", channel.state, channel.last_error or "", counts)
env.cr.commit()
PY

say "Serving Odoo on http://localhost:$http_port  (admin / admin; also agent / agent and lead / lead; Ctrl-C stops)"
cat >&2 <<TXT
    Try: the caller lookup with Anna's number in another notation
           http://localhost:$http_port/odoo/webcare-lookup?phone=0031612345678
         a caller known only by the number he sent in a DM
           http://localhost:$http_port/odoo/webcare-lookup?phone=06-87654321
         Anna's contact, Timeline tab; Webcare › Social tickets; Webcare › Calls.
TXT
odoo_bin "${common[@]}" --http-port "$http_port" --log-level info
