#!/usr/bin/env bash
# Broker CPU per produced byte, A against B, at a fixed rate both builds sustain: on a shared,
# noisy machine the max-throughput A/B (loadgen/scripts/ab.sh) moves with whatever else runs on
# CPU 0, while the broker's own CPU seconds per GB at a fixed offered load move much less.
# Rounds alternate the order; broker on CPU 0 (--cores 1), loadgen on CPU 1.
#
#   benches/results/produce-cpu-ab-2026-12-03.sh A_BIN_DIR B_BIN_DIR OUT_DIR
#   Environment: PAIRS (5), RATE (empty: as fast as possible; or msgs/s), WARMUP_S (2),
#   DURATION_S (8)
# Prints per run: build, broker CPU seconds (utime+stime from /proc, loadgen start to end),
# bytes acked (warm-up included), CPU seconds per GB; then the median B/A ratio.
set -euo pipefail
cd "$(dirname "$0")/../.."
A_BIN=${1:?A_BIN_DIR}; B_BIN=${2:?B_BIN_DIR}; OUT=${3:?OUT_DIR}
PAIRS=${PAIRS:-5}; RATE=${RATE:-}; WARMUP_S=${WARMUP_S:-2}; DURATION_S=${DURATION_S:-8}
mkdir -p "$OUT"
source loadgen/scripts/lib.sh
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
run_one() { # label bin round
  local label=$1 bin=$2 round=$3 port before after
  DATA=$(mktemp -d /var/tmp/sluice-cpu-XXXXXX)
  port=$(free_port)
  taskset -c 0 "$bin/sluice" start --listen "127.0.0.1:$port" --data-dir "$DATA/data" --cores 1 \
    --metrics-listen 127.0.0.1:0 > "$OUT/broker-$label-$round.log" 2>&1 &
  PID=$!
  wait_port "$port"
  before=$(ticks "$PID")
  local cmd=(taskset -c 1 "$B_BIN/sluice-loadgen" produce --bootstrap "127.0.0.1:$port" --acks 1
    --partitions 16 --message-bytes 1024 --warmup-s "$WARMUP_S" --duration-s "$DURATION_S"
    --quiet --json "$OUT/$label-$round.json")
  [ -n "$RATE" ] && cmd+=(--rate "$RATE")
  echo "${cmd[*]}" >> "$OUT/commands.txt"
  "${cmd[@]}" > "$OUT/$label-$round.txt" 2>&1
  after=$(ticks "$PID")
  stop
  python3 - "$OUT/$label-$round.json" "$before" "$after" "$label" "$round" <<'PY' | tee -a "$OUT/runs.tsv"
import json, os, sys
path, before, after, label, rnd = sys.argv[1:]
cell = json.load(open(path))["cells"][0]
acked = cell["produce_counts"]["acked_msgs"] * cell["message_bytes"]
cpu_s = (int(after) - int(before)) / os.sysconf("SC_CLK_TCK")
print(f"{rnd}\t{label}\t{cpu_s:.2f}\t{acked}\t{cpu_s / (acked / 1e9):.4f}\t{cell['produce']['mb_per_s']:.1f}")
PY
}
printf 'round\tbuild\tcpu_s\tbytes\tcpu_s_per_gb\tmb_per_s\n' > "$OUT/runs.tsv"
for round in $(seq "$PAIRS"); do
  echo "== round $round: $(uptime)" | tee -a "$OUT/load.txt"
  if [ $((round % 2)) = 1 ]; then run_one A "$A_BIN" "$round"; run_one B "$B_BIN" "$round"
  else run_one B "$B_BIN" "$round"; run_one A "$A_BIN" "$round"; fi
done
python3 - "$OUT/runs.tsv" <<'PY' | tee "$OUT/summary.txt"
import statistics, sys
rows = [l.split("\t") for l in open(sys.argv[1]).read().splitlines()[1:]]
per = {}
for rnd, build, _, _, per_gb, _ in rows:
    per.setdefault(rnd, {})[build] = float(per_gb)
ratios = [r["B"] / r["A"] for r in per.values() if "A" in r and "B" in r]
print("B/A broker CPU s per GB, per round:", ", ".join(f"{x:.3f}" for x in ratios))
print(f"median B/A: {statistics.median(ratios):.3f}")
PY
