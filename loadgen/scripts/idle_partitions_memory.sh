#!/usr/bin/env bash
# Memory of idle partitions, for the whole broker process (P5: 10,000 idle partitions at most
# 32 KiB each). One release broker (--cores 1); its memory with no partition, then TOPICS topics
# of PARTITIONS partitions created by confluent-kafka's admin client with one small record
# produced to each partition (so every partition has an open segment with data), then idle.
# Per partition: (memory with the partitions - memory without) / partitions, for VmRSS and for
# Pss (smaps_rollup), each read once the process's RSS has stopped moving.
#
#   loadgen/scripts/idle_partitions_memory.sh OUT_DIR PYTHON [BIN_DIR]
#
# BIN_DIR defaults to target/release. Environment: TOPICS (100), PARTITIONS (100), PRODUCE
# (1; 0 creates the partitions without writing to them), EXTRA_CONFIG (TOML lines added to the broker's config). Writes OUT_DIR/summary.txt, the
# broker's smaps before and after (smaps-*.txt), and its metrics after (metrics.txt).
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${1:?usage: OUT_DIR PYTHON [BIN_DIR]}
PY=${2:?usage: OUT_DIR PYTHON [BIN_DIR]}
BIN=${3:-target/release}
TOPICS=${TOPICS:-100}
PARTITIONS=${PARTITIONS:-100}
PRODUCE=${PRODUCE:-1}
source loadgen/scripts/lib.sh
mkdir -p "$OUT"; OUT=$(cd "$OUT" && pwd)

DATA=$(mktemp -d /var/tmp/sluice-idle-XXXXXX)
PORT=$(free_port); MPORT=$(free_port)
printf '%s\n' "${EXTRA_CONFIG:-}" > "$DATA/broker.toml"
cmd=("$BIN/sluice" start --listen "127.0.0.1:$PORT" --data-dir "$DATA/d" --cores 1
  --metrics-listen "127.0.0.1:$MPORT" --config "$DATA/broker.toml")
echo "${cmd[*]}  (config: ${EXTRA_CONFIG:-none})" > "$OUT/commands.txt"
"${cmd[@]}" > "$OUT/broker.log" 2>&1 &
PID=$!
wait_port "$PORT"

kib() { awk -v key="$1:" '$1 == key { print $2 }' "$2"; }
# Waits until VmRSS has moved by less than 64 KiB over 3 s (at most 120 s), then prints
# "VmRSS_KiB Pss_KiB" and keeps the smaps as OUT/smaps-LABEL.txt.
settled() {
  local last=-1 now
  for _ in $(seq 40); do
    now=$(kib VmRSS "/proc/$PID/status")
    if [ "$last" -ge 0 ] && [ $((now > last ? now - last : last - now)) -lt 64 ]; then
      cp "/proc/$PID/smaps" "$OUT/smaps-$1.txt"
      echo "$now $(kib Pss "/proc/$PID/smaps_rollup")"
      return 0
    fi
    last=$now
    sleep 3
  done
  echo "RSS never settled" >&2
  return 1
}

read -r rss0 pss0 < <(settled before)
echo "$PY - 127.0.0.1:$PORT $TOPICS $PARTITIONS $PRODUCE  (create topics, PRODUCE records per partition)" >> "$OUT/commands.txt"
"$PY" - "127.0.0.1:$PORT" "$TOPICS" "$PARTITIONS" "$PRODUCE" <<'EOF'
import sys, time
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

bootstrap, topics, partitions = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
records = int(sys.argv[4])
names = [f"idle-{i:04d}" for i in range(topics)]
admin = AdminClient({"bootstrap.servers": bootstrap})
# In groups of 10 topics: one CreateTopics request each, bounded by its own timeout.
for start in range(0, topics, 10):
    futures = admin.create_topics(
        [NewTopic(name, num_partitions=partitions, replication_factor=1)
         for name in names[start:start + 10]], request_timeout=120)
    for name, future in futures.items():
        future.result(timeout=180)
producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5, "acks": 1})
failed = []
def delivered(err, msg):
    if err is not None:
        failed.append(err)
for name in names if records else []:
    for p in range(partitions):
        while True:
            try:
                producer.produce(name, value=b"x" * 100, partition=p, on_delivery=delivered)
                break
            except BufferError:
                producer.poll(0.1)
    producer.poll(0)
left = producer.flush(300)
assert left == 0, f"{left} records not delivered"
assert not failed, f"{len(failed)} records failed: {failed[:3]}"
print(f"{topics * partitions} partitions created, {records} record(s) each")
EOF
read -r rss1 pss1 < <(settled after)
curl -s "http://127.0.0.1:$MPORT/metrics" > "$OUT/metrics.txt" || true
n=$((TOPICS * PARTITIONS))
{
  echo "partitions: $n (topics $TOPICS x $PARTITIONS), $PRODUCE 100-byte record(s) each, --cores 1"
  echo "before: VmRSS $rss0 KiB, Pss $pss0 KiB"
  echo "after:  VmRSS $rss1 KiB, Pss $pss1 KiB"
  awk -v r0="$rss0" -v r1="$rss1" -v p0="$pss0" -v p1="$pss1" -v n="$n" 'BEGIN {
    printf "per partition: VmRSS %.2f KiB, Pss %.2f KiB\n", (r1 - r0) / n, (p1 - p0) / n }'
  echo "largest growth by mapping (Rss KiB after - before):"
  for label in before after; do
    awk '/^[0-9a-f]+-[0-9a-f]+ / { name = (NF >= 6 ? $6 : "[anon]") }
         $1 == "Rss:" { rss[name] += $2 }
         END { for (n in rss) print n, rss[n] }' "$OUT/smaps-$label.txt" | sort > "$OUT/by-mapping-$label.txt"
  done
  join -a1 -a2 -e0 -o 0,1.2,2.2 "$OUT/by-mapping-before.txt" "$OUT/by-mapping-after.txt" |
    awk '{ printf "  %-60s %10d\n", $1, $3 - $2 }' | sort -k2 -n -r | head -8
  echo "mappings: $(grep -c '^[0-9a-f]*-[0-9a-f]* ' "$OUT/smaps-before.txt") before, $(grep -c '^[0-9a-f]*-[0-9a-f]* ' "$OUT/smaps-after.txt") after"
  echo "open fds: $(ls "/proc/$PID/fd" | wc -l)"
} | tee "$OUT/summary.txt"
