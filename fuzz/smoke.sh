#!/usr/bin/env bash
# CI fuzz smoke run: every target for SMOKE_S seconds (default 30) under cargo-fuzz (libFuzzer,
# AddressSanitizer), starting from the committed regression inputs; fails on any crash and
# prints each target's execution count. Installs cargo-fuzz from crates.io if it is missing.
#
# cargo-fuzz needs nightly compiler flags (-Z sanitizer, sancov passes). It uses the nightly
# toolchain when one is installed; otherwise the stable toolchain with RUSTC_BOOTSTRAP=1, which
# unlocks the same flags (no network access to fetch a nightly is needed either way). Running
# `RUSTC_BOOTSTRAP=1 fuzz/smoke.sh` picks the stable toolchain even where a nightly exists
# (reusing a `RUSTC_BOOTSTRAP=1 cargo fuzz build -O`).
set -euo pipefail
cd "$(dirname "$0")"
SMOKE_S=${SMOKE_S:-30}
if [ "${RUSTC_BOOTSTRAP:-}" != 1 ] && cargo +nightly --version >/dev/null 2>&1; then
    TOOLCHAIN=(+nightly)
else
    echo "fuzz smoke: using $(rustc --version) with RUSTC_BOOTSTRAP=1"
    TOOLCHAIN=()
    export RUSTC_BOOTSTRAP=1
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi
cargo "${TOOLCHAIN[@]}" fuzz build -O
status=0
for t in frame_header request_body batch_validation engine_recovery sasl_messages; do
    # libFuzzer exits when an input directory is missing (git keeps no empty folder).
    mkdir -p "corpus/$t" "regressions/$t"
    echo "== fuzz smoke $t (${SMOKE_S}s)"
    if ! cargo "${TOOLCHAIN[@]}" fuzz run -O "$t" "corpus/$t" "regressions/$t" -- \
        -max_total_time="$SMOKE_S" -rss_limit_mb=4096 -print_final_stats=1 \
        > "target/fuzz-smoke-$t.log" 2>&1; then
        status=1
        tail -40 "target/fuzz-smoke-$t.log"
    fi
    grep -E "stat::number_of_executed_units" "target/fuzz-smoke-$t.log" || true
done
exit $status
