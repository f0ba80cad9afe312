#!/usr/bin/env python3
"""Summarises a baseline.sh output directory as Markdown (goals, then every cell).

    loadgen/scripts/summarize_baseline.py OUT_DIR > summary.md
"""
import json
import os
import sys

out = sys.argv[1]


def load(name):
    path = os.path.join(out, name)
    return json.load(open(path)) if os.path.exists(path) else None


def cell(report, acks, partitions, size):
    for c in report["cells"]:
        if c["acks"] == acks and c["partitions"] == partitions and c["message_bytes"] == size:
            return c
    return None


def fmt_us(v):
    return "-" if v is None else (f"{v / 1000:.1f} ms" if v >= 10_000 else f"{v} µs")


def merged_sweep(n):
    """baseline.sh runs one sweep per acks value (fresh broker each); merge their cells."""
    parts = [load(f"sweep-cores{n}-acks{a}.json") for a in ("0", "1", "all")]
    parts = [p for p in parts if p]
    if not parts:
        return load(f"sweep-cores{n}.json")
    merged = dict(parts[0])
    merged["cells"] = [c for p in parts for c in p["cells"]]
    merged["disk_baselines"] = [p["disk_baseline"] for p in parts if p.get("disk_baseline")]
    return merged


configs = [(n, merged_sweep(n), load(f"rate-cores{n}.json")) for n in (1, 2)]
rates_all = {n: load(f"rate-cores{n}-acksall.json") for n in (1, 2)}
configs = [c for c in configs if c[1]]

print("## Goals\n")
print("| goal | " + " | ".join(f"sluice --cores {n}" for n, _, _ in configs) + " |")
print("|---|" + "---|" * len(configs))
row = []
for _, sweep, _ in configs:
    c = cell(sweep, "1", 16, 1024)
    if c and c.get("limit_ratio"):
        limit = c["produce"]["mb_per_s"] / c["limit_ratio"]
        row.append(f"{c['limit_ratio']:.2f} × min(disk, net) ({c['produce']['mb_per_s']:.0f} of {limit:.0f} MB/s)")
    elif c and c.get("disk_ratio"):
        disk = c["produce"]["mb_per_s"] / c["disk_ratio"]
        row.append(f"{c['disk_ratio']:.2f} × disk ({c['produce']['mb_per_s']:.0f} of {disk:.0f} MB/s)")
    else:
        row.append("-")
print("| P1: produce acks=1, 1 KiB, 16 partitions ≥ 0.80 × min(disk O_DIRECT, loopback TCP) | " + " | ".join(row) + " |")
row = []
for _, sweep, _ in configs:
    a1, aall = cell(sweep, "1", 16, 1024), cell(sweep, "all", 16, 1024)
    if a1 and aall and a1.get("produce") and aall.get("produce"):
        row.append(f"{aall['produce']['mb_per_s'] / a1['produce']['mb_per_s']:.2f} × acks=1")
    else:
        row.append("-")
print("| P2: acks=all ≥ 0.80 × acks=1 (1 KiB, 16 partitions) | " + " | ".join(row) + " |")
def rate_row(rate):
    if rate and rate["cells"] and rate["cells"][0].get("produce_latency"):
        c = rate["cells"][0]
        lat = c["produce_latency"]
        return (f"p99 {fmt_us(lat['p99_us'])}, p99.99 {fmt_us(lat.get('p9999_us', 0))} at "
                f"{c['rate']:.0f} msgs/s (p50 {fmt_us(lat['p50_us'])}, p99.9 {fmt_us(lat['p999_us'])})")
    return "-"


print("| P3: acks=1 p99 ≤ 1 ms and p99.99 ≤ 5 ms at half the max rate (fixed-rate) | "
      + " | ".join(rate_row(rate) for _, _, rate in configs) + " |")
print("| P3: acks=all p99 ≤ 2 ms at half the acks=all max rate (fixed-rate) | "
      + " | ".join(rate_row(rates_all[n]) for n, _, _ in configs) + " |")
row = []
for _, sweep, _ in configs:
    p16, p1024 = cell(sweep, "1", 16, 1024), cell(sweep, "1", 1024, 1024)
    if p16 and p1024 and p16.get("produce") and p1024.get("produce"):
        row.append(f"{p1024['produce']['mb_per_s'] / p16['produce']['mb_per_s']:.2f} × 16 partitions")
    else:
        row.append("-")
print("| P5: 1,024 partitions ≥ 0.80 × 16 partitions (acks=1, 1 KiB) | " + " | ".join(row) + " |")

for n, sweep, _ in configs:
    baselines = sweep.get("disk_baselines") or [sweep["disk_baseline"]]
    print(f"\n## sluice --cores {n}: every cell\n")
    rates = ", ".join(f"{b['mb_per_s']:.0f}" for b in baselines)
    print(f"Same-run disk baselines (one per acks group, in order): {rates} MB/s "
          f"({baselines[0]['method']}). `× disk` divides by the baseline of the cell's group.\n")
    print("| acks | partitions | message B | MB/s | msgs/s | × disk | p50 | p99 | p99.9 | p99.99 | max | loadgen cores busy | error |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for c in sweep["cells"]:
        t = c.get("produce") or {}
        l = c.get("produce_latency") or {}
        cpu = (c.get("client_cpu") or {}).get("cores_busy")
        print(f"| {c['acks']} | {c['partitions']} | {c['message_bytes']} | {t.get('mb_per_s', 0):.1f} | "
              f"{t.get('msgs_per_s', 0):.0f} | {c.get('disk_ratio') or 0:.2f} | {fmt_us(l.get('p50_us'))} | "
              f"{fmt_us(l.get('p99_us'))} | {fmt_us(l.get('p999_us'))} | {fmt_us(l.get('p9999_us'))} | "
              f"{fmt_us(l.get('max_us'))} | {'-' if cpu is None else f'{cpu:.2f}'} | {c.get('error') or ''} |")
