#!/usr/bin/env bash
# Transactions on one node, two broker builds A and B in one run (issue 14: markers written in
# process vs over a connection to itself): ROUNDS rounds, each running A and B in a rotating
# order, fresh broker and data dir per run, broker pinned to CPU 0 (--cores 1), loadgen
# (--transactional, TXN_RECORDS records per transaction) to CPU 1.
#
#   loadgen/scripts/transactions_ab.sh A_BIN_DIR B_BIN_DIR OUT_DIR [DATA_PARENT]
#
# A_BIN_DIR and B_BIN_DIR each hold a release `sluice`; the loadgen comes from B_BIN_DIR.
# Environment: ROUNDS (3), PARTITIONS (16), MESSAGE_BYTES (1024), TXN_RECORDS (100),
# WARMUP_S (2), DURATION_S (8).
#
# Output in OUT_DIR: commands.txt, A-N.json / B-N.json (loadgen), broker logs, and summary.md
# (per run: commits/s, commit latency p50/p99, coordinator retries; the median B/A ratios).
set -euo pipefail
cd "$(dirname "$0")/../.."
usage="usage: transactions_ab.sh A_BIN_DIR B_BIN_DIR OUT_DIR [DATA_PARENT]"
A_BIN=${1:?$usage}
B_BIN=${2:?$usage}
OUT=${3:?$usage}
DATA_PARENT=${4:-/var/tmp}
ROUNDS=${ROUNDS:-3}
PARTITIONS=${PARTITIONS:-16}
MESSAGE_BYTES=${MESSAGE_BYTES:-1024}
TXN_RECORDS=${TXN_RECORDS:-100}
WARMUP_S=${WARMUP_S:-2}
DURATION_S=${DURATION_S:-8}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
: > "$OUT/commands.txt"

source loadgen/scripts/lib.sh

run_one() { # label round
  local label=$1 round=$2 port bin
  case $label in
    A) bin=$A_BIN ;;
    *) bin=$B_BIN ;;
  esac
  DATA=$(mktemp -d "$DATA_PARENT/sluice-txn-ab-XXXXXX")
  port=$(free_port)
  local broker=(taskset -c 0 "$bin/sluice" start --listen "127.0.0.1:$port" --data-dir "$DATA/d"
    --cores 1 --metrics-listen 127.0.0.1:0)
  echo "${broker[*]}" >> "$OUT/commands.txt"
  "${broker[@]}" > "$OUT/broker-$label-$round.log" 2>&1 &
  PID=$!
  wait_port "$port"
  local cmd=(taskset -c 1 "$B_BIN/sluice-loadgen" produce --bootstrap "127.0.0.1:$port"
    --acks all --partitions "$PARTITIONS" --message-bytes "$MESSAGE_BYTES"
    --warmup-s "$WARMUP_S" --duration-s "$DURATION_S" --quiet
    --transactional --transaction-records "$TXN_RECORDS" --max-in-flight 5
    --label "$label round $round" --json "$OUT/$label-$round.json")
  echo "${cmd[*]}" >> "$OUT/commands.txt"
  "${cmd[@]}" > "$OUT/$label-$round.txt" 2>&1 || echo "   $label round $round: loadgen exited non-zero" | tee -a "$OUT/commands.txt"
  stop
}

ORDERS=("A B" "B A")
for round in $(seq "$ROUNDS"); do
  order=${ORDERS[$(( (round - 1) % 2 ))]}
  for label in $order; do
    echo "round $round: $label"
    run_one "$label" "$round"
  done
done

python3 - "$OUT" "$ROUNDS" <<'PY'
import json, statistics, sys, os
out, rounds = sys.argv[1], int(sys.argv[2])
def find(obj, name):
    """The first value under `name`, searched depth-first."""
    if isinstance(obj, dict):
        if name in obj:
            return obj[name]
        for v in obj.values():
            found = find(v, name)
            if found is not None:
                return found
    if isinstance(obj, list):
        for v in obj:
            found = find(v, name)
            if found is not None:
                return found
    return None
def figures(label, r):
    try:
        j = json.load(open(os.path.join(out, f"{label}-{r}.json")))
    except Exception:
        return None
    latency = find(j, "commit_latency") or {}
    return {
        "tps": find(j, "transactions_per_s"),
        "p50_ms": latency.get("p50_us", 0) / 1e3,
        "p99_ms": latency.get("p99_us", 0) / 1e3,
        "retries": find(j, "coordinator_retries"),
    }
ratios = {"tps": [], "p50_ms": [], "p99_ms": []}
lines = ["| round | build | commits/s | commit p50 ms | commit p99 ms | coordinator retries |",
         "|---|---|---|---|---|---|"]
for r in range(1, rounds + 1):
    a, b = figures("A", r), figures("B", r)
    for label, f in (("A", a), ("B", b)):
        if f:
            lines.append(f"| {r} | {label} | {f['tps']:.1f} | {f['p50_ms']:.2f} | "
                         f"{f['p99_ms']:.2f} | {f['retries']} |")
    if a and b:
        for k in ratios:
            if a[k]:
                ratios[k].append(b[k] / a[k])
with open(os.path.join(out, "summary.md"), "w") as f:
    f.write("\n".join(lines) + "\n\n")
    for k, v in ratios.items():
        if v:
            f.write(f"median B/A {k} = {statistics.median(v):.3f} (per round: "
                    + ", ".join(f"{x:.3f}" for x in v) + ")\n")
print(open(os.path.join(out, "summary.md")).read())
PY
