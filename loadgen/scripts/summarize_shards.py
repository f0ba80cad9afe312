#!/usr/bin/env python3
"""Summarises a shards_vs_one.sh run: a row per run and the medians of the per-round ratios
default / --cores 1 (per build) and B / A (per layout).

    loadgen/scripts/summarize_shards.py OUT_DIR ROUNDS
"""
import statistics
import sys
from pathlib import Path

# One reader of a run's loadgen JSON (the script's own directory is on sys.path).
from summarize_ab import load


def median_ratio(rows, rounds, num, den, key="mb_per_s"):
    ratios = []
    for r in range(1, rounds + 1):
        a, b = rows.get((den, r)), rows.get((num, r))
        if a and b and a[key]:
            ratios.append(b[key] / a[key])
    if not ratios:
        return None
    return statistics.median(ratios), ratios


def main() -> int:
    out = Path(sys.argv[1])
    rounds = int(sys.argv[2])
    names = [f"{b}-{layout}" for b in ("A", "B") for layout in ("one", "default")]
    rows = {}
    print("| round | build | shards | MB/s | p50 us | p99 us | failed |")
    print("|---|---|---|---|---|---|---|")
    for r in range(1, rounds + 1):
        for name in names:
            run = load(out, name, r)
            if run is None:
                continue
            rows[(name, r)] = run
            build, layout = name.split("-")
            shards = "--cores 1" if layout == "one" else "default"
            print(
                f"| {r} | {build} | {shards} | {run['mb_per_s']:.1f} | {run['p50_us']} "
                f"| {run['p99_us']} | {run['failed']} |"
            )
    print()
    print("Medians of per-round throughput ratios:")
    print()
    pairs = [
        ("A-default", "A-one", "A: default / --cores 1"),
        ("B-default", "B-one", "B: default / --cores 1"),
        ("B-default", "A-default", "default: B / A"),
        ("B-one", "A-one", "--cores 1: B / A"),
    ]
    for num, den, label in pairs:
        found = median_ratio(rows, rounds, num, den)
        if found:
            med, ratios = found
            print(f"- {label}: {med:.2f} (rounds: {', '.join(f'{x:.2f}' for x in ratios)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
