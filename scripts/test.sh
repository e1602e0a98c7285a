#!/usr/bin/env bash
# make test: fresh databases, install webcare_social, run its tests, print one verdict.
#   run 1: without demo data, every test (unit tests and browser tours)
#   run 2: with demo data, every test but the tours; then two simultaneous imports of the
#          demo channel (no item stored twice), then uninstall and check the DB is clean
# Env: KEEP_DB=1 keeps the databases; TEST_TAGS overrides the tags of run 1 (and skips run 2).
source "$(dirname "$0")/lib.sh"
bootstrap chromium

run_id="$(date +%s)_$$"
logdir="$LOCAL/test-logs/$run_id"
mkdir -p "$logdir"

odoo_tests() {  # odoo_tests DB LOG DEMO_FLAG TAGS
    local db=$1 log=$2 demo=$3 tags=$4
    say "Installing webcare_social in a fresh database '$db' ($demo) and running tests '$tags'"
    odoo_bin "${DB_ARGS[@]}" -d "$db" --addons-path "$(addons_path)" \
        --http-interface 127.0.0.1 --http-port "$(free_port)" --gevent-port "$(free_port)" \
        --workers 0 --max-cron-threads 0 "$demo" \
        -i webcare_social --test-tags "$tags" --stop-after-init \
        --log-level info --logfile "$log" || true
    grep -E "odoo\.tests\.(result|stats)|(ERROR|FAIL|CRITICAL)" "$log" | grep -v "^ *$" | tail -n 40 >&2 || true
}

shell_check() {  # shell_check DB SCRIPT LOG CHECK...: run tests/SCRIPT in odoo shell
    local db=$1 script=$2 log=$3 check
    shift 3
    odoo_bin shell "${DB_ARGS[@]}" -d "$db" --addons-path "$(addons_path)" --http-interface 127.0.0.1 \
        --no-http --log-level warn <"$ROOT/tests/$script" >"$log" 2>&1 || true
    grep -E "^CHECK" "$log" >&2 || tail -n 20 "$log" >&2
    for check in "$@"; do
        grep -q "^CHECK $check:" "$log" || echo "CHECK $check: FAIL (the check did not run; see $log)" >>"$log"
    done
}

drop_db() { [ "${KEEP_DB:-0}" = 1 ] || psql_private -d postgres -c "DROP DATABASE IF EXISTS \"$1\"" >/dev/null 2>&1 || true; }

# The release before provider-neutral channels (X credentials and cursors in
# x_* fields): a database of it must keep importing after the upgrade.
UPGRADE_FROM=a5bb6a7

upgrade_check() {  # install UPGRADE_FROM, import from the stand-in, upgrade, import again
    local db="wc_test_${run_id}_upgrade" old="$LOCAL/upgrade-from-$UPGRADE_FROM"
    say "Upgrading a database of webcare_social $UPGRADE_FROM (x_* fields) to this one"
    if ! git -C "$ROOT" cat-file -e "$UPGRADE_FROM^{commit}" 2>/dev/null; then
        echo "CHECK upgrade: FAIL commit $UPGRADE_FROM is not in this clone (fetch the full history)" \
            >"$logdir/5-upgrade.log"
        logs+=("$logdir/5-upgrade.log")
        return
    fi
    rm -rf "$old" && mkdir -p "$old"
    git -C "$ROOT" archive "$UPGRADE_FROM" webcare_social | tar -x -C "$old"
    local before_path="$ODOO_SRC/addons,$ADDONS_PKG/odoo/addons,$old"
    odoo_bin "${DB_ARGS[@]}" -d "$db" --addons-path "$before_path" --without-demo \
        --http-interface 127.0.0.1 -i webcare_social --stop-after-init --log-level warn \
        --logfile "$logdir/5-old-install.log" || true
    odoo_bin shell "${DB_ARGS[@]}" -d "$db" --addons-path "$before_path" --http-interface 127.0.0.1 \
        --no-http --log-level warn \
        <"$ROOT/tests/upgrade_before.py" >"$logdir/5-upgrade-before.log" 2>&1 || true
    grep -E "^CHECK" "$logdir/5-upgrade-before.log" >&2 || tail -n 20 "$logdir/5-upgrade-before.log" >&2
    odoo_bin "${DB_ARGS[@]}" -d "$db" --addons-path "$(addons_path)" -u webcare_social \
        --http-interface 127.0.0.1 --stop-after-init --log-level warn \
        --logfile "$logdir/5-upgrade.odoo.log" || true
    local noise
    noise=$(grep -E "^\S+ \S+ [0-9]+ (WARNING|ERROR|CRITICAL) " "$logdir/5-upgrade.odoo.log" \
        | grep -v "is a security risk" | head -n 3 | tr '\n' ' ' || true)
    echo "CHECK upgrade_log: ${noise:+FAIL }${noise:-ok}" >"$logdir/5-upgrade-log.check"
    shell_check "$db" upgrade_after.py "$logdir/5-upgrade-after.log" upgrade
    drop_db "$db"
    rm -rf "$old"
    logs+=("$logdir/5-upgrade-before.log" "$logdir/5-upgrade-log.check" "$logdir/5-upgrade-after.log")
}

start=$(date +%s)
db1="wc_test_${run_id}_nodemo"
odoo_tests "$db1" "$logdir/1-nodemo.odoo.log" --without-demo "${TEST_TAGS:-/webcare_social}"
drop_db "$db1"
logs=("$logdir/1-nodemo.odoo.log")

if [ -z "${TEST_TAGS:-}" ]; then
    db2="wc_test_${run_id}_demo"
    # the browser tours ran in run 1: here every other test, on the demo data
    local_tours=(TestIdentityTour TestChannelTour TestMastodonChannelTour TestRecognitionTours
        TestReplyTours TestApprovalTours TestResponseReportTour)
    odoo_tests "$db2" "$logdir/2-demo.odoo.log" --with-demo \
        "/webcare_social$(printf ',-/webcare_social:%s' "${local_tours[@]}")"
    say "Two simultaneous imports of the demo channel against the stand-in, then the real cron job"
    shell_check "$db2" concurrency_check.py "$logdir/3-concurrency.log" concurrent_runs cron_run
    say "Webhook posts racing on a real threaded server, then the processing cron"
    shell_check "$db2" webhook_check.py "$logdir/3b-webhook.log" webhook_concurrent
    say "Uninstalling webcare_social from '$db2' and checking that nothing is left"
    shell_check "$db2" uninstall_check.py "$logdir/4-uninstall.log" uninstall
    drop_db "$db2"
    logs+=("$logdir/2-demo.odoo.log" "$logdir/3-concurrency.log" "$logdir/3b-webhook.log"
        "$logdir/4-uninstall.log")
    upgrade_check
fi

say "Logs: $logdir ($(( $(date +%s) - start ))s)"
exec "$VENV/bin/python" "$ROOT/scripts/summarize_logs.py" "${logs[@]}"
