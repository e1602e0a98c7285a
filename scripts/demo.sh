#!/usr/bin/env bash
# make demo: the running product with demo data on http://localhost:8069 (admin/admin).
# Re-running reuses the virtualenv, the cluster and the database.
# When Odoo is up it prints what to open and try (log-ins, the influencer's ticket,
# the caller lookup) and how to stop. Ctrl-C stops Odoo and the X stand-in.
# Env: WEBCARE_DEMO_DB (default webcare_demo), WEBCARE_HTTP_PORT (default 8069),
#      WEBCARE_X_PORT (the local X API stand-in, default 18111; a free one if taken),
#      WEBCARE_LOG_LEVEL (Odoo's, default warn; info shows every request).
source "$(dirname "$0")/lib.sh"
bootstrap
db="${WEBCARE_DEMO_DB:-webcare_demo}"
http_port="${WEBCARE_HTTP_PORT:-8069}"
x_port="${WEBCARE_X_PORT:-18111}"
common=("${DB_ARGS[@]}" -d "$db" --addons-path "$(addons_path)" --http-interface 127.0.0.1)

port_busy "$http_port" && die "Port $http_port is in use (another Odoo, or make demo already running?). Stop it, or choose another port: WEBCARE_HTTP_PORT=8070 make demo"

standin="$ROOT/webcare_social/tests/x_standin.py"
standin_pid=""
waiter_pid=""
stop_background() {
    local pid
    for pid in $waiter_pid $standin_pid; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    waiter_pid="" standin_pid=""
}
# Ctrl-C reaches Odoo (it stops) but not the stand-in: a background job of a script
# ignores SIGINT, so it is killed here, whichever way the script ends.
trap stop_background EXIT
trap 'exit 130' INT TERM HUP
if [ -f "$standin" ]; then
    if port_busy "$x_port"; then
        x_port=$(free_port)
        say "Port ${WEBCARE_X_PORT:-18111} is in use; the X API stand-in will use $x_port"
    fi
    say "Starting the local X API stand-in on 127.0.0.1:$x_port (replays the demo conversations)"
    "$VENV/bin/python" "$standin" --port "$x_port" \
        --dataset "$ROOT/webcare_social/demo/x_demo_dataset.json" >"$LOCAL/x-standin.log" 2>&1 &
    standin_pid=$!
    for _ in $(seq 50); do
        grep -q "http://" "$LOCAL/x-standin.log" 2>/dev/null && break
        sleep 0.1
    done
fi

if [ "$(psql_private -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'")" != 1 ]; then
    say "Creating database '$db' with webcare_social and demo data (takes a minute)"
    odoo_bin "${common[@]}" --with-demo -i webcare_social --load-language nl_NL --stop-after-init --log-level warn \
        || die "Installing webcare_social failed; see the messages above."
else
    say "Reusing database '$db' (updating webcare_social)"
    odoo_bin "${common[@]}" -u webcare_social --load-language nl_NL --stop-after-init --log-level warn \
        || die "Updating webcare_social failed; see the messages above."
fi

say "Connecting the demo channel to the stand-in and importing its conversations"
import_log="$LOCAL/demo-import.log"
odoo_bin shell "${common[@]}" --no-http --log-level warn >"$import_log" 2>&1 <<PY || { cat "$import_log" >&2; die "The demo import failed; see the messages above."; }
# a Dutch team: the company (what the imports write on tickets) and Paula work in
# Dutch; Mark and the administrator keep English
# (loading Dutch when the database is created leaves English inactive and gives
# every user Dutch: activate English again and set each user's language here)
env["res.lang"]._activate_lang("en_US")
env.company.partner_id.lang = "nl_NL"
for xmlid, lang in (
    ("webcare_social.user_demo_agent", "nl_NL"),
    ("webcare_social.user_demo_lead", "en_US"),
    ("base.user_admin", "en_US"),
):
    user = env.ref(xmlid, raise_if_not_found=False)
    if user:
        user.lang = lang
channel = env.ref("webcare_social.webcare_channel_demo_x", raise_if_not_found=False)
if channel:
    channel.api_base_url = "http://127.0.0.1:$x_port"
    channel.action_test_connection()
    channel.action_fetch()
    counts = {s: env["webcare.message"].search_count([("state", "=", s)]) for s in ("ticketed", "ignored", "failed")}
    print("demo channel:", channel.state, channel.last_error or "", counts)
    # the ticket of the author with the most followers: the influencer of the demo
    top = env["webcare.message"].search(
        [("channel_id", "=", channel.id), ("direction", "=", "inbound"), ("ticket_id", "!=", False)],
        order="author_followers desc, id", limit=1)
    if top:
        print("INFLUENCER %d %s %s %s" % (top.ticket_id.id, top.ticket_id.number, top.author_handle, f"{top.author_followers:,}"))
env.cr.commit()
PY
grep -v "^INFLUENCER " "$import_log" >&2 || true
read -r _ ticket_id ticket_number influencer followers < <(grep "^INFLUENCER " "$import_log" || echo "- - - - -")

url="http://localhost:$http_port"
show_what_to_try() {
    cat >&2 <<TXT

    Open  $url  and log in as
          admin / admin   the administrator (channels: Webcare > Configuration > Channels)
          agent / agent   Paula de Wit, Webcare agent (works in Dutch)
          lead  / lead    Mark Jansen, team lead (Webcare manager, English)

    Try   as agent: Webcare > Social tickets, most urgent first; open the influencer's
          ticket ($ticket_number, @$influencer, $followers followers) and press Reply:
            $url/odoo/social-tickets/$ticket_id
          a reply to her waits for a manager: as lead, Webcare > Replies to approve
            $url/odoo/webcare-approvals
          the caller lookup with Anna's number in another notation
            $url/odoo/webcare-lookup?phone=0031612345678
          a caller known only by the number he sent in a DM
            $url/odoo/webcare-lookup?phone=06-87654321
          Anna's contact, Timeline tab; Webcare > Calls; as lead, Webcare > Reporting

    Stop  Ctrl-C stops Odoo and the X stand-in; the database stays for the next
          make demo. make pg-stop stops the private PostgreSQL, make clean removes it
          (with .local; the virtualenv .venv stays).

TXT
}
# print it once Odoo listens, below Odoo's start-up lines
(
    for _ in $(seq 600); do
        if port_busy "$http_port"; then
            say "Odoo is ready on $url"
            show_what_to_try
            exit 0
        fi
        sleep 0.5
    done
) &
waiter_pid=$!
say "Starting Odoo on $url (log level ${WEBCARE_LOG_LEVEL:-warn}; WEBCARE_LOG_LEVEL=info shows every request)"
odoo_bin "${common[@]}" --http-port "$http_port" --log-level "${WEBCARE_LOG_LEVEL:-warn}"
