#!/usr/bin/env bash
# The cost of idempotence and of transactions (issue 14), measured in one run on one node:
# P (plain producer, acks=all), I (--idempotent) and T (--transactional, TXN_RECORDS records
# per transaction), one loadgen cell each (16 partitions, 1 KiB values by default). ROUNDS
# rounds, each running P, I and T in a rotating order, fresh broker and data dir per run; the
# broker pinned to CPU 0 (--cores 1), loadgen to CPU 1.
#
#   loadgen/scripts/transactions_vs_plain.sh BIN_DIR OUT_DIR [DATA_PARENT]
#
# BIN_DIR holds a release `sluice` and `sluice-loadgen`. Environment: ROUNDS (3), PARTITIONS
# (16), MESSAGE_BYTES (1024), TXN_RECORDS (100), WARMUP_S (2), DURATION_S (8), MODES ("P I T";
# e.g. "P I" for the idempotence cost alone, the order rotating per round), MAX_IN_FLIGHT (5:
# requests in flight per connection for every mode, P included, so that the comparison is
# fair; an idempotent or transactional producer may have at most 5).
#
# Output in OUT_DIR: commands.txt, P-N.json / I-N.json / T-N.json (loadgen; T's holds the
# commit latency), broker logs, and summary.md (per-run rates, the median I/P and T/P ratios,
# T's commits/s and commit latency p50/p99).
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${1:?usage: transactions_vs_plain.sh BIN_DIR OUT_DIR [DATA_PARENT]}
OUT=${2:?usage: transactions_vs_plain.sh BIN_DIR OUT_DIR [DATA_PARENT]}
DATA_PARENT=${3:-/var/tmp}
ROUNDS=${ROUNDS:-3}
PARTITIONS=${PARTITIONS:-16}
MESSAGE_BYTES=${MESSAGE_BYTES:-1024}
TXN_RECORDS=${TXN_RECORDS:-100}
WARMUP_S=${WARMUP_S:-2}
DURATION_S=${DURATION_S:-8}
MODES=${MODES:-P I T}
MAX_IN_FLIGHT=${MAX_IN_FLIGHT:-5}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
: > "$OUT/commands.txt"

source loadgen/scripts/lib.sh

run_one() { # label round
  local label=$1 round=$2 port mode=()
  DATA=$(mktemp -d "$DATA_PARENT/sluice-txn-XXXXXX")
  port=$(free_port)
  local broker=(taskset -c 0 "$BIN/sluice" start --listen "127.0.0.1:$port" --data-dir "$DATA/d"
    --cores 1 --metrics-listen 127.0.0.1:0)
  echo "${broker[*]}" >> "$OUT/commands.txt"
  "${broker[@]}" > "$OUT/broker-$label-$round.log" 2>&1 &
  PID=$!
  wait_port "$port"
  case $label in
    I) mode=(--idempotent --max-in-flight "$MAX_IN_FLIGHT") ;;
    T) mode=(--transactional --transaction-records "$TXN_RECORDS" --max-in-flight "$MAX_IN_FLIGHT") ;;
    *) mode=(--max-in-flight "$MAX_IN_FLIGHT") ;;
  esac
  local cmd=(taskset -c 1 "$BIN/sluice-loadgen" produce --bootstrap "127.0.0.1:$port"
    --acks all --partitions "$PARTITIONS" --message-bytes "$MESSAGE_BYTES"
    --warmup-s "$WARMUP_S" --duration-s "$DURATION_S" --quiet "${mode[@]}"
    --label "$label round $round" --json "$OUT/$label-$round.json")
  echo "${cmd[*]}" >> "$OUT/commands.txt"
  "${cmd[@]}" > "$OUT/$label-$round.txt" 2>&1 || echo "   $label round $round: loadgen exited non-zero" | tee -a "$OUT/commands.txt"
  stop
}

read -r -a MODE_LIST <<< "$MODES"
echo "# MODES=$MODES MAX_IN_FLIGHT=$MAX_IN_FLIGHT ROUNDS=$ROUNDS" >> "$OUT/commands.txt"
for round in $(seq "$ROUNDS"); do
  # The order rotates by one mode per round, so drift on a shared machine hits every mode.
  shift_by=$(( (round - 1) % ${#MODE_LIST[@]} ))
  order=("${MODE_LIST[@]:shift_by}" "${MODE_LIST[@]:0:shift_by}")
  echo "== round $round: $(uptime)" | tee -a "$OUT/commands.txt"
  for label in "${order[@]}"; do
    echo "round $round: $label"
    run_one "$label" "$round"
  done
done

python3 - "$OUT" "$ROUNDS" <<'PY'
import json, statistics, sys, glob, os
out, rounds = sys.argv[1], int(sys.argv[2])
def load(label, r):
    path = os.path.join(out, f"{label}-{r}.json")
    try:
        return json.load(open(path))
    except Exception:
        return None
def find(obj, *names):
    """The first value under any of `names`, searched depth-first."""
    if isinstance(obj, dict):
        for n in names:
            if n in obj:
                return obj[n]
        for v in obj.values():
            found = find(v, *names)
            if found is not None:
                return found
    if isinstance(obj, list):
        for v in obj:
            found = find(v, *names)
            if found is not None:
                return found
    return None
rows, ip, tp = [], [], []
for r in range(1, rounds + 1):
    p, i, t = (load(x, r) for x in "PIT")
    rate = lambda j: find(j, "mb_per_s", "throughput_mb_per_s") if j else None
    rp, ri, rt = rate(p), rate(i), rate(t)
    txn = find(t, "transactions") if t else None
    rows.append((r, rp, ri, rt, txn))
    if rp and ri: ip.append(ri / rp)
    if rp and rt: tp.append(rt / rp)
with open(os.path.join(out, "summary.md"), "w") as f:
    f.write("| round | P MB/s | I MB/s | T MB/s | T transactions |\n|---|---|---|---|---|\n")
    for r, rp, ri, rt, txn in rows:
        f.write(f"| {r} | {rp} | {ri} | {rt} | {json.dumps(txn)} |\n")
    if ip: f.write(f"\nmedian I/P = {statistics.median(ip):.3f} (goal >= 0.95; "
                   f"{min(ip):.3f}-{max(ip):.3f} over {len(ip)} rounds)\n")
    if tp: f.write(f"median T/P = {statistics.median(tp):.3f} ({min(tp):.3f}-{max(tp):.3f})\n")
print(open(os.path.join(out, "summary.md")).read())
PY
