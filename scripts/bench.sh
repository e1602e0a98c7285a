#!/usr/bin/env bash
# make bench: the ingestion benchmark (bench/bench_ingest.py) on a throw-away database.
# Prints a table and ratios against baselines of the same run; writes
# bench/results/latest.json. See bench/README.md.
# Env: BENCH_N (mentions, default 1000), BENCH_MEMORY=0 (skip the tracemalloc pass),
#      KEEP_DB=1 (keep the database wc_bench_<pid>).
source "$(dirname "$0")/lib.sh"
bootstrap

db="wc_bench_$$"
common=("${DB_ARGS[@]}" -d "$db" --addons-path "$(addons_path)" --http-interface 127.0.0.1 --no-http)
drop_db() {
    if [ "${KEEP_DB:-0}" = 1 ]; then
        say "Kept database '$db' (KEEP_DB=1)"
    else
        psql_private -d postgres -c "DROP DATABASE IF EXISTS \"$db\"" >/dev/null 2>&1 || true
    fi
}
trap drop_db EXIT

start=$(date +%s)
say "Creating the throw-away database '$db' with webcare_social (no demo data)"
odoo_bin "${common[@]}" --without-demo -i webcare_social --stop-after-init --log-level warn \
    || die "Installing webcare_social failed; see the messages above."

say "Running bench/bench_ingest.py with BENCH_N=${BENCH_N:-1000}"
mkdir -p "$ROOT/bench/results"
BENCH_RESULTS_DIR="$ROOT/bench/results" \
    odoo_bin shell "${common[@]}" --log-level warn <"$ROOT/bench/bench_ingest.py" \
    || die "The benchmark failed; see the messages above."
say "Benchmark done in $(( $(date +%s) - start ))s"
