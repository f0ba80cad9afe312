#!/usr/bin/env bash
# The replication cost (issue 13, P7), measured in one run: a single node with acks=1 (A)
# against three local brokers with replication factor 3, min.insync.replicas 2 and acks=all
# (B), on one loadgen cell (16 partitions, 1 KiB values by default). PAIRS rounds, each running
# A once and B once, the order alternating every round, fresh processes and data dirs per run.
# The issue's bar (B/A >= 0.40) has all of it run on the machine's 2 cores. LAYOUT says how:
#
# - `pinned` (the default): every broker process (the single node, or all three replicas) runs
#   one shard pinned to CPU 0 and loadgen runs on CPU 1, as in cluster_vs_single.sh. The three
#   replicas get one core between them, and loadgen's core idles under acks=all.
# - `machine`: each side gets both cores as a user would run it. B is three brokers with their
#   default shards (one per CPU, so a partition's leader and followers share a CPU) and loadgen
#   unpinned. The single node runs twice per round, pinned as above (A) and with its default
#   shards and loadgen unpinned (C), and B is compared with the faster of the two.
# - `shared`: as `machine`, but each of B's three brokers runs one shard that is not pinned
#   (`--cores 1 --pin-shards false`), as README advises for several brokers on fewer cores:
#   the kernel spreads three shard threads over the two CPUs, and nothing crosses shards.
#
#   loadgen/scripts/replication_vs_single.sh BIN_DIR OUT_DIR [DATA_PARENT]
#
# BIN_DIR holds a release `sluice` and `sluice-loadgen` (cargo build --release -p sluice-server
# -p sluice-loadgen; target/release). Environment: PAIRS (3), PARTITIONS (16), MESSAGE_BYTES
# (1024), WARMUP_S (2), DURATION_S (8), LAYOUT (pinned), MAX_IN_FLIGHT (8, loadgen's default:
# requests in flight per connection, the same for every run; acks=all is latency-bound with
# few), INTER_BROKER_TLS (0; 1 adds run T each round: B with the brokers replicating over TLS,
# clients still in plaintext, reported against B).
#
# Output in OUT_DIR: commands.txt (every command run), A-N.json / B-N.json (loadgen), broker
# logs, B-N-nodeK.metrics (each replica's /metrics after the run: replication latency and
# follower lag, where the broker exports them), and summary.md (the per-round table, the
# median B/A ratios and the replication metrics found).
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${1:?usage: replication_vs_single.sh BIN_DIR OUT_DIR [DATA_PARENT]}
OUT=${2:?usage: replication_vs_single.sh BIN_DIR OUT_DIR [DATA_PARENT]}
DATA_PARENT=${3:-/var/tmp}
PAIRS=${PAIRS:-3}
PARTITIONS=${PARTITIONS:-16}
MESSAGE_BYTES=${MESSAGE_BYTES:-1024}
WARMUP_S=${WARMUP_S:-2}
DURATION_S=${DURATION_S:-8}
LAYOUT=${LAYOUT:-pinned}
MAX_IN_FLIGHT=${MAX_IN_FLIGHT:-8}
INTER_BROKER_TLS=${INTER_BROKER_TLS:-0}
case "$LAYOUT" in
  pinned) BASELINES=A ;;
  machine | shared) BASELINES=A,C ;;
  *) echo "LAYOUT is pinned, machine or shared, not $LAYOUT" >&2; exit 2 ;;
esac
GOAL=0.40
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

source loadgen/scripts/lib.sh

# A CA and a broker certificate for 127.0.0.1, for run T (openssl, as the tests make theirs).
make_pki() { # dir
  local dir=$1
  mkdir -p "$dir"
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=loadgen CA" \
    -keyout "$dir/ca.key" -out "$dir/ca.crt" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$dir/server.key" \
    -out "$dir/server.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n' \
    > "$dir/server.ext"
  openssl x509 -req -in "$dir/server.csr" -days 2 -CA "$dir/ca.crt" -CAkey "$dir/ca.key" \
    -CAcreateserial -extfile "$dir/server.ext" -out "$dir/server.crt" 2>/dev/null
  cat "$dir/server.key" "$dir/server.crt" > "$dir/server.pem"
}

scrape() { # port file
  python3 - "$1" "$2" <<'PY'
import sys, urllib.request
port, path = sys.argv[1], sys.argv[2]
try:
    body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read()
    open(path, "wb").write(body)
except Exception as e:  # a broker without metrics still leaves a note
    open(path, "w").write(f"# scrape failed: {e}\n")
PY
}

run_one() { # label round
  local label=$1 round=$2 bootstrap acks rf
  # What pins a broker (and its shards) and the loadgen, by label and layout.
  local broker_pin=() broker_cores=() loadgen_pin=()
  case "$label/$LAYOUT" in
    C/*) ;;
    A/* | */pinned) broker_pin=(taskset -c 0) broker_cores=(--cores 1) loadgen_pin=(taskset -c 1) ;;
    */shared) broker_cores=(--cores 1 --pin-shards false) ;;
  esac
  DATA=$(mktemp -d "$DATA_PARENT/sluice-repl-XXXXXX")
  local metrics_ports=()
  if [ "$label" = A ] || [ "$label" = C ]; then
    local port; port=$(free_port)
    local cmd=(${broker_pin[@]+"${broker_pin[@]}"} "$BIN/sluice" start --listen "127.0.0.1:$port"
      --data-dir "$DATA/single" ${broker_cores[@]+"${broker_cores[@]}"} --metrics-listen 127.0.0.1:0)
    echo "${cmd[*]}" >> "$OUT/commands.txt"
    "${cmd[@]}" > "$OUT/broker-$label-$round.log" 2>&1 &
    PIDS+=($!)
    wait_port "$port"
    bootstrap=127.0.0.1:$port acks=1 rf=1
  else
    local ports=() controllers=() voters=""
    for id in 1 2 3; do
      ports+=("$(free_port)"); controllers+=("$(free_port)"); metrics_ports+=("$(free_port)")
      voters+="${voters:+,}$id@127.0.0.1:${controllers[$((id - 1))]}"
    done
    for id in 1 2 3; do
      printf '"min.insync.replicas" = 2\n"default.replication.factor" = 3\n' > "$DATA/replicated-$id.toml"
      if [ "$label" = T ]; then
        printf 'listeners = "SSL://127.0.0.1:%s"\n"inter.broker.listener.name" = "SSL"\n"ssl.keystore.location" = "%s"\n"ssl.truststore.location" = "%s"\n' \
          "$(free_port)" "$PKI/server.pem" "$PKI/ca.crt" >> "$DATA/replicated-$id.toml"
      fi
      local cmd=(${broker_pin[@]+"${broker_pin[@]}"} "$BIN/sluice" start --node-id "$id"
        --listen "127.0.0.1:${ports[$((id - 1))]}"
        --controller-listen "127.0.0.1:${controllers[$((id - 1))]}" --controller-voters "$voters"
        --data-dir "$DATA/node$id" ${broker_cores[@]+"${broker_cores[@]}"} --config "$DATA/replicated-$id.toml"
        --metrics-listen "127.0.0.1:${metrics_ports[$((id - 1))]}")
      echo "${cmd[*]}   # with $(tr '\n' ' ' < "$DATA/replicated-$id.toml")" >> "$OUT/commands.txt"
      "${cmd[@]}" > "$OUT/broker-$label-$round-node$id.log" 2>&1 &
      PIDS+=($!)
    done
    for port in "${ports[@]}"; do wait_port "$port"; done
    bootstrap="127.0.0.1:${ports[0]}" acks=all rf=3
  fi
  local cmd=(${loadgen_pin[@]+"${loadgen_pin[@]}"} "$BIN/sluice-loadgen" produce --bootstrap "$bootstrap"
    --acks "$acks" --replication-factor "$rf" --partitions "$PARTITIONS"
    --message-bytes "$MESSAGE_BYTES" --max-in-flight "$MAX_IN_FLIGHT" --warmup-s "$WARMUP_S" --duration-s "$DURATION_S" --quiet
    --baseline-disk "$DATA" --label "$label round $round" --json "$OUT/$label-$round.json")
  echo "${cmd[*]}" >> "$OUT/commands.txt"
  "${cmd[@]}" > "$OUT/$label-$round.txt" 2>&1 || echo "   $label round $round: loadgen exited non-zero" | tee -a "$OUT/commands.txt"
  local id=1
  for port in "${metrics_ports[@]}"; do
    scrape "$port" "$OUT/$label-$round-node$id.metrics"
    id=$((id + 1))
  done
  stop
}

{
  echo "# replication_vs_single.sh $*"
  echo "# LAYOUT=$LAYOUT: A=single node acks=1 (pinned), C=single node acks=1 (both cores; machine and shared layouts), B=3 brokers RF 3 min.insync 2 acks=all, T=B replicating over TLS (INTER_BROKER_TLS=$INTER_BROKER_TLS); PAIRS=$PAIRS MAX_IN_FLIGHT=$MAX_IN_FLIGHT PARTITIONS=$PARTITIONS MESSAGE_BYTES=$MESSAGE_BYTES WARMUP_S=$WARMUP_S DURATION_S=$DURATION_S"
  echo "# $(git rev-parse HEAD 2>/dev/null || echo unknown-commit) on $(uname -srm), $(nproc) CPUs"
} > "$OUT/commands.txt"
PKI="$OUT/pki"
[ "$INTER_BROKER_TLS" = 1 ] && make_pki "$PKI"
for round in $(seq "$PAIRS"); do
  echo "== round $round: $(uptime)" | tee -a "$OUT/commands.txt"
  singles=(A)
  [ "$LAYOUT" != pinned ] && singles=(A C)
  replicated=(B)
  [ "$INTER_BROKER_TLS" = 1 ] && replicated=(B T)
  if [ $((round % 2)) = 1 ]; then
    for label in "${singles[@]}" "${replicated[@]}"; do run_one "$label" "$round"; done
  else
    for label in "${replicated[@]}" "${singles[@]}"; do run_one "$label" "$round"; done
  fi
done
{
  python3 "$(dirname "$0")/summarize_ab.py" "$OUT" "$PAIRS" "$BASELINES"
  if [ "$INTER_BROKER_TLS" = 1 ]; then
    echo
    echo "T (B with replication over TLS) against B, same rounds:"
    echo
    python3 "$(dirname "$0")/summarize_ab.py" "$OUT" "$PAIRS" B T
  fi
  echo
  echo "Goal (issue 13, P7): B/A mb_per_s >= $GOAL."
  echo
  echo "Replication latency (acks=all, append to high watermark; sluice_replication_latency_seconds,"
  echo "stage since_append, every B run and replica summed; a quantile is the upper bound of its bucket):"
  echo
  python3 - "$OUT" <<'PY'
import glob, re, sys
series = re.compile(r'^sluice_replication_latency_seconds_bucket\{([^}]*)\} (\S+)$')
buckets = {}
for path in glob.glob(f"{sys.argv[1]}/B-*-node*.metrics"):
    for line in open(path):
        m = series.match(line.strip())
        if not m:
            continue
        labels = dict(kv.split("=", 1) for kv in m.group(1).split(","))
        labels = {k: v.strip('"') for k, v in labels.items()}
        if labels.get("stage") != "since_append":
            continue
        le = float("inf") if labels["le"] == "+Inf" else float(labels["le"])
        buckets[le] = buckets.get(le, 0) + float(m.group(2))
if not buckets or max(buckets.values()) == 0:
    print("- not exported by this build (no sluice_replication_latency_seconds samples)")
else:
    total = buckets[max(buckets)]
    for name, q in (("p50", 0.5), ("p99", 0.99), ("p99.9", 0.999)):
        bound = next(le for le in sorted(buckets) if buckets[le] >= q * total)
        shown = "+Inf" if bound == float("inf") else f"<= {bound * 1000:g} ms"
        print(f"- {name}: {shown} ({int(total)} batches)")
PY
  echo
  echo "Replication metrics after each B run (families matching replica|replication|isr|under_replicated|offline):"
  echo
  echo '```'
  grep -HiE '^sluice_[a-z_]*(replica|replication|isr|under_replicated|offline)' "$OUT"/B-*-node*.metrics \
    | grep -v '_bucket{' | sed "s|$OUT/||" || echo "(none exported)"
  echo '```'
} | tee "$OUT/summary.md"
