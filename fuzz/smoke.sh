#!/usr/bin/env bash
# CI fuzz smoke run: every target for SMOKE_S seconds (default 30) on the nightly toolchain,
# starting from the committed regression inputs. Installs cargo-fuzz if it is missing.
# Without a nightly toolchain it says so and exits 0 when not under CI (the stable fallback
# tests in `cargo nextest run --workspace` drive the same properties); under CI=true it fails.
set -euo pipefail
cd "$(dirname "$0")"
SMOKE_S=${SMOKE_S:-30}
if ! cargo +nightly --version >/dev/null 2>&1; then
    echo "fuzz smoke: no nightly toolchain" >&2
    [ "${CI:-}" = true ] && exit 1
    exit 0
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi
export SLUICE_FUZZ_DIR=${SLUICE_FUZZ_DIR:-/dev/shm}
cargo +nightly fuzz build -O
status=0
for t in frame_header request_body batch_validation engine_recovery; do
    mkdir -p "corpus/$t"
    echo "== fuzz smoke $t (${SMOKE_S}s)"
    if ! cargo +nightly fuzz run -O "$t" "corpus/$t" "regressions/$t" -- \
        -max_total_time="$SMOKE_S" -rss_limit_mb=4096 -print_final_stats=1 \
        > "target/fuzz-smoke-$t.log" 2>&1; then
        status=1
        tail -40 "target/fuzz-smoke-$t.log"
    fi
    grep -E "stat::number_of_executed_units" "target/fuzz-smoke-$t.log" || true
done
exit $status
