#!/usr/bin/env bash
# Where an acks=all produce's fdatasync time goes, from kernel tracepoints: one broker
# (`--cores 1`, CPU 0) and loadgen (CPU 1) on the acks=all cell (16 partitions, 1 KiB), and
# `perf record` of ext4 fsync entry/exit and block requests for TRACE_S seconds mid-run. Prints
# the fdatasyncs per second, their kernel-side duration and how many ran at once, the block
# requests by kind (WS data writes, WSM inode writes, FF cache flushes) with their device
# latency, and the broker's flush-round figures from /metrics.
#
#   loadgen/scripts/trace_fdatasync.sh BIN_DIR OUT_DIR [DATA_PARENT]
#
# Needs perf and root (tracepoints). Environment: ACKS (all), PARTITIONS (16), TRACE_S (2).
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${1:?usage: trace_fdatasync.sh BIN_DIR OUT_DIR [DATA_PARENT]}
OUT=${2:?usage: trace_fdatasync.sh BIN_DIR OUT_DIR [DATA_PARENT]}
DATA_PARENT=${3:-/var/tmp}
ACKS=${ACKS:-all}
PARTITIONS=${PARTITIONS:-16}
TRACE_S=${TRACE_S:-2}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
source loadgen/scripts/lib.sh

DATA=$(mktemp -d "$DATA_PARENT/sluice-trace-XXXXXX")
PORT=$(free_port)
MPORT=$(free_port)
taskset -c 0 "$BIN/sluice" start --listen "127.0.0.1:$PORT" --metrics-listen "127.0.0.1:$MPORT" \
  --data-dir "$DATA/data" --cores 1 > "$OUT/broker.log" 2>&1 &
PID=$!
wait_port "$PORT"
cmd=(taskset -c 1 "$BIN/sluice-loadgen" produce --bootstrap "127.0.0.1:$PORT" --acks "$ACKS"
  --partitions "$PARTITIONS" --message-bytes 1024 --warmup-s 2 --duration-s $((TRACE_S + 4))
  --delete-topics --quiet --json "$OUT/loadgen.json")
echo "${cmd[*]}" > "$OUT/commands.txt"
"${cmd[@]}" > "$OUT/loadgen.txt" 2>&1 &
LOADGEN=$!
# Trace the middle of the measured part: past the warm-up, before the end.
for _ in $(seq 40); do sleep 0.1; done
perf_cmd=(perf record -q -a -o "$OUT/trace.data" -e ext4:ext4_sync_file_enter -e ext4:ext4_sync_file_exit
  -e block:block_rq_issue -e block:block_rq_complete -- sleep "$TRACE_S")
echo "${perf_cmd[*]}" >> "$OUT/commands.txt"
"${perf_cmd[@]}" > /dev/null 2>&1
curl -s "127.0.0.1:$MPORT/metrics" > "$OUT/metrics.txt" || true
wait "$LOADGEN" || echo "loadgen exited non-zero"
stop

perf script -i "$OUT/trace.data" -F tid,time,event,trace 2>/dev/null > "$OUT/trace.txt"
python3 - "$OUT" "$TRACE_S" <<'PY' | tee "$OUT/summary.md"
import collections, re, sys
out, seconds = sys.argv[1], float(sys.argv[2])
def pct(values, q):
    return values[min(len(values) - 1, int(len(values) * q))]
syncs_open, sync_us, running, at_enter = {}, [], 0, collections.Counter()
issued, device_us, kinds = {}, collections.defaultdict(list), collections.Counter()
for line in open(f"{out}/trace.txt"):
    m = re.match(r"\s*(\d+)\s+([\d.]+):\s+(\S+):\s*(.*)", line)
    if not m:
        continue
    tid, t, event, rest = m.group(1), float(m.group(2)), m.group(3), m.group(4)
    if event == "ext4:ext4_sync_file_enter":
        syncs_open[tid] = t
        running += 1
        at_enter[running] += 1
    elif event == "ext4:ext4_sync_file_exit" and tid in syncs_open:
        sync_us.append((t - syncs_open.pop(tid)) * 1e6)
        running -= 1
    elif event.startswith("block:block_rq_"):
        parts = rest.split()
        kind = parts[1]
        sector = re.search(r"\(\)\s+(\d+)\s+\+", rest)
        key = (kind, sector.group(1) if sector else None)
        if event.endswith("issue"):
            kinds[kind] += 1
            issued[key] = t
        elif key in issued and kind != "FF":
            device_us[kind].append((t - issued.pop(key)) * 1e6)
print("| fdatasyncs/s | kernel-side p50 | p90 | p99 | mean | most at once |")
print("|---|---|---|---|---|---|")
sync_us.sort()
if sync_us:
    print(f"| {len(sync_us) / seconds:.0f} | {pct(sync_us, .5):.0f} us | {pct(sync_us, .9):.0f} us | "
          f"{pct(sync_us, .99):.0f} us | {sum(sync_us) / len(sync_us):.0f} us | {max(at_enter)} |")
print()
print("| block requests | per s | device p50 | p90 | mean |")
print("|---|---|---|---|---|")
for kind, count in kinds.most_common():
    lat = sorted(device_us.get(kind, []))
    if lat:
        print(f"| {kind} | {count / seconds:.0f} | {pct(lat, .5):.0f} us | {pct(lat, .9):.0f} us | {sum(lat) / len(lat):.0f} us |")
    else:
        print(f"| {kind} | {count / seconds:.0f} | - | - | - |")
print()
rows = {}
for line in open(f"{out}/metrics.txt"):
    m = re.match(r'sluice_(\w+)_latency_seconds_(sum|count)\{shard="0",stage="(\w+)"\} (\S+)', line)
    if m:
        rows[(m.group(1), m.group(3), m.group(2))] = float(m.group(4))
for family, stage, what in [("storage_stage", "flush_round", "flush round"), ("produce_stage", "flush", "acks=all wait for its round")]:
    count = rows.get((family, stage, "count"), 0)
    if count:
        print(f"- {what}: {count:.0f} in the run, mean {rows[(family, stage, 'sum')] / count * 1e3:.2f} ms")
print()
print("loadgen: " + [l for l in open(f"{out}/loadgen.txt") if l.startswith(("all", "1 ", "0 "))][0].strip()
      if any(l.startswith(("all", "1 ", "0 ")) for l in open(f"{out}/loadgen.txt")) else "loadgen: no result line")
PY
