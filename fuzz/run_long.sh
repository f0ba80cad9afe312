#!/usr/bin/env bash
# The documented long fuzz run: each target for RUNS executions (default 10M) or MAX_S
# seconds, whichever comes first, one after another, on the nightly toolchain. Logs and final
# libFuzzer stats go to target/fuzz-logs/<target>.log; crashes to artifacts/<target>/.
#
#   fuzz/run_long.sh                                   # all four targets, 10M runs each
#   RUNS=1000000 MAX_S=600 fuzz/run_long.sh request_body
#
# engine_recovery runs a real glommio log open per input (~100-200 execs/s on tmpfs), so it is
# bounded by MAX_S rather than by RUNS in practice. SLUICE_FUZZ_DIR (default /dev/shm) is where
# it lays out partition directories.
set -euo pipefail
cd "$(dirname "$0")"
RUNS=${RUNS:-10000000}
MAX_S=${MAX_S:-7200}
export SLUICE_FUZZ_DIR=${SLUICE_FUZZ_DIR:-/dev/shm}
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(batch_validation request_body frame_header engine_recovery)
mkdir -p target/fuzz-logs
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t"
    echo "== $t: up to $RUNS runs / ${MAX_S}s ($(date -u +%H:%M:%S))"
    status=0
    cargo +nightly fuzz run -O "$t" "corpus/$t" "regressions/$t" -- \
        -runs="$RUNS" -max_total_time="$MAX_S" -rss_limit_mb=4096 -print_final_stats=1 \
        > "target/fuzz-logs/$t.log" 2>&1 || status=$?
    grep -E "stat::number_of_executed_units|stat::average_exec_per_sec|SUMMARY" "target/fuzz-logs/$t.log" || true
    echo "== $t: exit $status"
done
