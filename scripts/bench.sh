#!/usr/bin/env bash
# make bench: the benchmarks, each on its own throw-away database:
#   ingest       bench/bench_ingest.py, the same posts ingested from X, Mastodon and
#                Bluesky (their local stand-ins) -> bench/results/latest.json
#   webhook      bench/webhook_load.py, signed webhook posts from a local client against
#                a real server, multi-worker then threaded -> bench/results/webhook.json
#   recognition  bench/recognition.py, caller lookup, timeline and incoming calls on
#                200,000 contacts and 1,000,000 messages -> bench/results/recognition.json
#   reporting    bench/reporting.py, the response-time report's pivot, graph and list
#                on 1,000,000 messages and their tickets -> bench/results/reporting.json
#   file_import  bench/file_import.py, a 100,000-row CSV export: preview, dry run, import
#                and re-import with their memory -> bench/results/file_import.json
# Each prints a table and ratios against baselines of the same run. See bench/README.md.
# Env: BENCH=ingest|webhook|recognition|reporting|file_import|all (default all: that order),
#      BENCH_FILE_ROWS (file_import: rows, default 100000),
#      BENCH_N (ingest: posts, default 1000), BENCH_PROFILE=0 (ingest: no profiled pass),
#      BENCH_PROVIDERS (ingest: e.g. x,bluesky; default every provider with a stand-in),
#      BENCH_WEBHOOK_N, BENCH_WEBHOOK_C (webhook: requests 2000, connections 16),
#      BENCH_WORKERS (webhook: Odoo workers of the multi-worker run, default 4),
#      BENCH_SCALE (recognition, reporting: data size factor, default 1; 0.1 for a quick run),
#      BENCH_LOOKUPS, BENCH_TIMELINES, BENCH_CALLS (recognition: repetitions, 200/50/50),
#      BENCH_REPORTS (reporting: measured runs per scenario, 15),
#      KEEP_DB=1 (keep the databases wc_bench_<pid>, wc_bench_wh_<pid>, wc_bench_rec_<pid>,
#      wc_bench_rep_<pid>), BENCH_DB_PREFIX (instead of wc_bench in those names).
source "$(dirname "$0")/lib.sh"

which="${BENCH:-all}"
prefix="${BENCH_DB_PREFIX:-wc_bench}"
case "$which" in
    all | ingest | webhook | recognition | reporting | file_import) ;;
    *) die "BENCH must be ingest, webhook, recognition, reporting, file_import or all (got '$which')." ;;
esac
bootstrap

dbs=()  # the databases made by this run, dropped at the end unless KEEP_DB=1
drop_db() {
    if [ "${KEEP_DB:-0}" = 1 ]; then
        say "Kept database '$1' (KEEP_DB=1)"
    else
        psql_private -d postgres -c "DROP DATABASE IF EXISTS \"$1\"" >/dev/null 2>&1 || true
    fi
}
drop_all() {
    local db
    for db in "${dbs[@]}"; do drop_db "$db"; done
    dbs=()
}
trap drop_all EXIT

use_db() {  # use_db DB: a new throw-away database with webcare_social, no demo data
    db="$1"
    dbs+=("$db")
    common=("${DB_ARGS[@]}" -d "$db" --addons-path "$(addons_path)" --http-interface 127.0.0.1 --no-http)
    say "Creating the throw-away database '$db' with webcare_social (no demo data)"
    odoo_bin "${common[@]}" --without-demo -i webcare_social --stop-after-init --log-level warn \
        || die "Installing webcare_social failed; see the messages above."
}

run_bench() {  # run_bench SCRIPT: run bench/SCRIPT in `odoo shell` on the database of use_db
    mkdir -p "$ROOT/bench/results"
    BENCH_DIR="$ROOT/bench" BENCH_RESULTS_DIR="$ROOT/bench/results" \
        odoo_bin shell "${common[@]}" --log-level warn <"$ROOT/bench/$1" \
        || die "The benchmark bench/$1 failed; see the messages above."
}

start=$(date +%s)
if [ "$which" = all ] || [ "$which" = ingest ]; then
    use_db "${prefix}_$$"
    say "Running bench/bench_ingest.py with BENCH_N=${BENCH_N:-1000}"
    run_bench bench_ingest.py
    drop_all
fi
if [ "$which" = all ] || [ "$which" = webhook ]; then
    use_db "${prefix}_wh_$$"
    say "Running bench/webhook_load.py with BENCH_WEBHOOK_N=${BENCH_WEBHOOK_N:-2000}," \
        "BENCH_WEBHOOK_C=${BENCH_WEBHOOK_C:-16}, BENCH_WORKERS=${BENCH_WORKERS:-4}"
    mkdir -p "$ROOT/bench/results"
    # a real server on its own free port: no --no-http, unlike odoo shell
    BENCH_RESULTS_DIR="$ROOT/bench/results" "$VENV/bin/python" "$ROOT/bench/webhook_load.py" \
        --db "$db" --odoo-bin "$ODOO_SRC/odoo-bin" -- \
        "${DB_ARGS[@]}" -d "$db" --addons-path "$(addons_path)" \
        || die "The webhook load run failed; see the messages above."
    drop_all
fi
if [ "$which" = all ] || [ "$which" = recognition ]; then
    use_db "${prefix}_rec_$$"
    say "Running bench/recognition.py with BENCH_SCALE=${BENCH_SCALE:-1}"
    run_bench recognition.py
    drop_all
fi
if [ "$which" = all ] || [ "$which" = reporting ]; then
    use_db "${prefix}_rep_$$"
    say "Running bench/reporting.py with BENCH_SCALE=${BENCH_SCALE:-1}"
    run_bench reporting.py
    drop_all
fi
if [ "$which" = all ] || [ "$which" = file_import ]; then
    use_db "${prefix}_fi_$$"
    say "Running bench/file_import.py with BENCH_FILE_ROWS=${BENCH_FILE_ROWS:-100000}"
    run_bench file_import.py
    drop_all
fi
say "Benchmarks done in $(( $(date +%s) - start ))s"
