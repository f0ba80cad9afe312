#!/usr/bin/env bash
# The documented long fuzz run: each target for RUNS executions (default 10M) or MAX_S
# seconds, whichever comes first, one after another, on the nightly toolchain. Logs and final
# libFuzzer stats go to target/fuzz-logs/<target>.log; crashes to artifacts/<target>/.
#
#   fuzz/run_long.sh                                   # all four targets, 10M runs each
#   RUNS=1000000 MAX_S=600 fuzz/run_long.sh request_body
#   SANITIZER=address fuzz/run_long.sh engine_recovery # force ASAN
#
# Each target is built, then its binary is copied to target/fuzz-bin/ and run from there, so a
# rebuild by someone else (same target dir) cannot swap the binary under a running fuzzer.
#
# Sanitizer: ASAN (cargo-fuzz's default) for every target except engine_recovery, which runs
# with `-s none` unless SANITIZER says otherwise. engine_recovery exercises the engine on
# MemStorage (no file I/O): ~2,500 execs/s without ASAN against ~400/s with it (ASAN's malloc
# bookkeeping dominates an input that allocates a fresh log manager), so 10M runs take about an
# hour instead of seven. The code under test is safe Rust (no `unsafe` in sluice-engine), so
# ASAN mostly guards glommio internals there; the properties (panics) are checked either way.
set -euo pipefail
cd "$(dirname "$0")"
RUNS=${RUNS:-10000000}
MAX_S=${MAX_S:-7200}
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(batch_validation request_body frame_header engine_recovery sasl_messages)
mkdir -p target/fuzz-logs target/fuzz-bin
for t in "${targets[@]}"; do
    sanitizer=${SANITIZER:-}
    if [ -z "$sanitizer" ]; then
        if [ "$t" = engine_recovery ]; then sanitizer=none; else sanitizer=address; fi
    fi
    mkdir -p "corpus/$t" "regressions/$t" "artifacts/$t"
    cargo +nightly fuzz build -O -s "$sanitizer" "$t"
    bin="target/fuzz-bin/$t-$sanitizer"
    cp "target/x86_64-unknown-linux-gnu/release/$t" "$bin"
    echo "== $t ($sanitizer): up to $RUNS runs / ${MAX_S}s ($(date -u +%H:%M:%S))"
    status=0
    "$bin" "corpus/$t" "regressions/$t" \
        -artifact_prefix="artifacts/$t/" \
        -runs="$RUNS" -max_total_time="$MAX_S" -rss_limit_mb=4096 -print_final_stats=1 \
        > "target/fuzz-logs/$t.log" 2>&1 || status=$?
    grep -E "stat::number_of_executed_units|stat::average_exec_per_sec|SUMMARY" "target/fuzz-logs/$t.log" || true
    echo "== $t ($sanitizer): exit $status ($(date -u +%H:%M:%S))"
done
