#!/usr/bin/env python3
"""Summarises an ab.sh run: a row per run (A and B each round) and the median of the
per-round B/A ratios. Pairing within a round cancels most of a shared machine's drift.

    loadgen/scripts/summarize_ab.py OUT_DIR PAIRS [BASELINES [CANDIDATE]]

BASELINES (default A) names the baseline runs, comma-separated: with several (A,C), each
round's candidate is compared with whichever of them produced the most MB/s that round.
CANDIDATE (default B) names the run compared with them.
"""
import json
import statistics
import sys
from pathlib import Path


def load(out: Path, label: str, round_no: int):
    path = out / f"{label}-{round_no}.json"
    if not path.exists():
        return None
    report = json.loads(path.read_text())
    cell = report["cells"][0]
    produce = cell.get("produce") or {}
    latency = cell.get("produce_latency") or {}
    disk = report.get("disk_baseline") or {}
    return {
        "mb_per_s": produce.get("mb_per_s", 0.0),
        "msgs_per_s": produce.get("msgs_per_s", 0.0),
        "disk_mb_per_s": disk.get("mb_per_s", 0.0),
        "x_disk": cell.get("disk_ratio") or 0.0,
        "p50_us": latency.get("p50_us", 0),
        "p99_us": latency.get("p99_us", 0),
        "p999_us": latency.get("p999_us", 0),
        "failed": (cell.get("produce_counts") or {}).get("failed_msgs", 0),
    }


def main() -> int:
    out = Path(sys.argv[1])
    pairs = int(sys.argv[2])
    baselines = (sys.argv[3] if len(sys.argv) > 3 else "A").split(",")
    candidate = sys.argv[4] if len(sys.argv) > 4 else "B"
    print("| round | build | MB/s | disk MB/s | x disk | p50 us | p99 us | p99.9 us | failed |")
    print("|---|---|---|---|---|---|---|---|---|")
    ratios = {"mb_per_s": [], "x_disk": [], "p50_us": [], "p99_us": [], "p999_us": []}
    for round_no in range(1, pairs + 1):
        runs = {label: load(out, label, round_no) for label in (*baselines, candidate)}
        for label, run in runs.items():
            if run is None:
                print(f"| {round_no} | {label} | missing | | | | | | |")
                continue
            print(
                f"| {round_no} | {label} | {run['mb_per_s']:.1f} | {run['disk_mb_per_s']:.0f} "
                f"| {run['x_disk']:.3f} | {run['p50_us']} | {run['p99_us']} | {run['p999_us']} "
                f"| {run['failed']} |"
            )
        present = [runs[label] for label in baselines if runs[label] is not None]
        b = runs[candidate]
        if not present or b is None:
            continue
        a = max(present, key=lambda run: run["mb_per_s"])
        for key in ratios:
            if a[key]:
                ratios[key].append(b[key] / a[key])
    print()
    single = len(baselines) == 1
    print(f"Baseline: {baselines[0] if single else 'the faster of ' + '/'.join(baselines) + ' each round'}.")
    print()
    print(f"Median of per-round {candidate}/{baselines[0] if single else 'baseline'} ratios (throughput: higher is better; latency: lower is better):")
    print()
    for key, values in ratios.items():
        if values:
            shown = ", ".join(f"{v:.2f}" for v in values)
            print(f"- {key}: {statistics.median(values):.2f} (rounds: {shown})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
