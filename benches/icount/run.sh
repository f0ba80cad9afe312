#!/usr/bin/env bash
# Instruction counts of the hot paths (benches/icount/main.rs) under callgrind, compared with
# the committed reference counts (benches/icount/reference.toml). Wall time plays no part, so
# CI on a shared, noisy machine can catch a regression.
#
#   benches/icount/run.sh                  # count, print the table, exit 1 on a regression
#   benches/icount/run.sh --update         # count and write the counts as the new reference
#   ICOUNT_PROFILE=release benches/icount/run.sh    # count the optimised build instead
#
# A path regresses when it costs more than TOLERANCE_PCT (default 10) percent above its
# reference. A path that became more than TOLERANCE_PCT cheaper passes, with a note to lower
# the reference so the gain is kept.
#
# Updating the reference after an intended change: run `benches/icount/run.sh --update` (and
# with ICOUNT_PROFILE=release if you can spare the release build), check that the changed
# counts are the ones you expected, and commit reference.toml with the change that moved them,
# saying why in the commit message. Counts are deterministic for a given build (same
# toolchain, same dependencies): a toolchain or dependency update moves them too, and is a
# reason to update.
#
# CI (.ci/test) counts the dev profile, because it already has that build: only this binary is
# compiled and linked on top. Debug code weighs some costs that optimisation removes (an
# element-wise Vec::resize is most of engine_read_index there), so dev counts catch algorithmic
# regressions (extra copies, allocations per batch, longer scans) rather than codegen ones.
# Callgrind output per path is kept in target/icount/ for `callgrind_annotate --inclusive=yes`.
set -euo pipefail

cd "$(dirname "$0")/../.."
ROOT=$PWD
PROFILE=${ICOUNT_PROFILE:-dev}
TOLERANCE_PCT=${TOLERANCE_PCT:-10}
REFERENCE=$ROOT/benches/icount/reference.toml
OUT_DIR=$ROOT/target/icount
UPDATE=false
case "${1:-}" in
    --update) UPDATE=true ;;
    "") ;;
    *) echo "usage: $0 [--update]" >&2; exit 2 ;;
esac

# path:iterations. Enough iterations that one-time costs inside the loop (the first write-behind
# buffer, a cache's first growth) are small per iteration; the appends fill 4 MiB of chunks.
PATHS="produce_request_to_append:256 engine_append:256 engine_read_cached:1000
engine_read_index:40 fetch_response:200"

command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; exit 2; }
case "$PROFILE" in
    dev) TARGET_DIR=debug ;;
    release) TARGET_DIR=release ;;
    *) echo "ICOUNT_PROFILE must be dev or release" >&2; exit 2 ;;
esac
cargo build --quiet --profile "$PROFILE" -p sluice-benches --bin sluice-icount
BIN=$ROOT/target/$TARGET_DIR/sluice-icount
mkdir -p "$OUT_DIR"

# The reference count of a path for this profile (a `[dev]` / `[release]` section of
# `name = count` lines); empty when there is none.
reference_of() {
    awk -v section="[$PROFILE]" -v name="$1" '
        /^\[/ { in_section = ($0 == section) }
        in_section && $1 == name && $2 == "=" { print $3 }
    ' "$REFERENCE" 2>/dev/null || true
}

declare -A counted
status=0
printf '%-28s %12s %14s %14s %8s\n' path iterations "Ir/iteration" reference change
for entry in $PATHS; do
    path=${entry%%:*}
    iterations=${entry##*:}
    log=$OUT_DIR/$path.$PROFILE.log
    # Counting is on only inside `measured` (and what it calls): setup is left out.
    if ! valgrind --tool=callgrind --toggle-collect='sluice_icount::measured' \
        --callgrind-out-file="$OUT_DIR/$path.$PROFILE.callgrind.out" \
        "$BIN" "$path" "$iterations" >"$log" 2>&1; then
        echo "$path: failed under valgrind, see $log" >&2
        tail -20 "$log" >&2
        exit 1
    fi
    total=$(sed -n 's/^==[0-9]*== Collected : \([0-9]*\)$/\1/p' "$log")
    if [ -z "$total" ] || [ "$total" -lt "$iterations" ]; then
        echo "$path: no instructions collected (did \`measured\` get renamed?), see $log" >&2
        exit 1
    fi
    per_iteration=$((total / iterations))
    counted[$path]=$per_iteration
    reference=$(reference_of "$path")
    if [ -z "$reference" ]; then
        printf '%-28s %12s %14s %14s %8s\n' "$path" "$iterations" "$per_iteration" - new
        [ "$UPDATE" = true ] || status=1
        continue
    fi
    change=$(awk -v now="$per_iteration" -v ref="$reference" \
        'BEGIN { printf "%+.1f%%", (now - ref) * 100 / ref }')
    verdict=""
    if [ $((per_iteration * 100)) -gt $((reference * (100 + TOLERANCE_PCT))) ]; then
        verdict="  REGRESSION (> +$TOLERANCE_PCT%)"
        status=1
    elif [ $((per_iteration * 100)) -lt $((reference * (100 - TOLERANCE_PCT))) ]; then
        verdict="  cheaper: lower the reference (--update)"
    fi
    printf '%-28s %12s %14s %14s %8s%s\n' "$path" "$iterations" "$per_iteration" "$reference" \
        "$change" "$verdict"
done

if [ "$UPDATE" = true ]; then
    # Rewrite this profile's section, keep the other's.
    {
        echo "# Instructions per iteration of each sluice-icount path, counted under callgrind by"
        echo "# benches/icount/run.sh; --update rewrites the section of the profile it counted."
        echo "# Toolchain: $(rustc --version)"
        for profile in dev release; do
            if [ "$profile" = "$PROFILE" ]; then
                printf '\n[%s]\n' "$profile"
                for entry in $PATHS; do
                    echo "${entry%%:*} = ${counted[${entry%%:*}]}"
                done
            elif grep -qx "\[$profile\]" "$REFERENCE" 2>/dev/null; then
                printf '\n[%s]\n' "$profile"
                awk -v section="[$profile]" '
                    /^\[/ { in_section = ($0 == section); next }
                    in_section && NF { print }
                ' "$REFERENCE"
            fi
        done
    } >"$REFERENCE.tmp"
    mv "$REFERENCE.tmp" "$REFERENCE"
    echo "wrote the [$PROFILE] counts to $REFERENCE"
    exit 0
fi
if [ "$status" -ne 0 ]; then
    echo "instruction counts: regression or missing reference (tolerance +$TOLERANCE_PCT%)" >&2
fi
exit $status
