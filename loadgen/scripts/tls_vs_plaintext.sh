#!/usr/bin/env bash
# What TLS costs (issue 17): produce and consume throughput over an SSL listener against the
# PLAINTEXT listener of the same broker, in the same run. One broker (--cores 1, pinned to
# CPU 0) with both listeners; loadgen pinned to CPU 1. ROUNDS rounds, each running, in an
# order that alternates per round:
#   produce: a fresh topic per run (PARTITIONS partitions, MESSAGE_BYTES values, acks=1);
#   consume: one topic filled once before the rounds (FILL_S seconds of producing in the clear,
#   unmeasured), then read from its start by every consume run. Size it for the run: a consume
#   run that reads the whole topic ends early (its MB/s is over the time it ran), and one that
#   drains it during its warm-up measures nothing.
# Certificates are made here with openssl: a CA and a broker certificate with SAN
# IP:127.0.0.1 (EC P-256), in OUT_DIR/pki.
#
#   loadgen/scripts/tls_vs_plaintext.sh BIN_DIR OUT_DIR [DATA_PARENT]
#
# BIN_DIR holds a release `sluice` and `sluice-loadgen`. Environment: ROUNDS (3), PARTITIONS
# (16), MESSAGE_BYTES (1024), ACKS (1), WARMUP_S (2), DURATION_S (8), CONSUMERS (1: loadgen
# consumer threads, each with its own connection and one Fetch in flight), FILL_S (30: seconds
# of producing into the consume topic before the rounds), FIRST_READ_S (5: an unmeasured
# consume run after the fill), MODES ("produce consume").
#
# Output in OUT_DIR: commands.txt, {produce,consume}-{plain,tls}-N.json (loadgen), broker.log,
# and summary.md (per-run MB/s, the median TLS/PLAINTEXT ratio per mode; goal >= 0.7).
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${1:?usage: tls_vs_plaintext.sh BIN_DIR OUT_DIR [DATA_PARENT]}
OUT=${2:?usage: tls_vs_plaintext.sh BIN_DIR OUT_DIR [DATA_PARENT]}
DATA_PARENT=${3:-/var/tmp}
ROUNDS=${ROUNDS:-3}
PARTITIONS=${PARTITIONS:-16}
MESSAGE_BYTES=${MESSAGE_BYTES:-1024}
ACKS=${ACKS:-1}
WARMUP_S=${WARMUP_S:-2}
DURATION_S=${DURATION_S:-8}
CONSUMERS=${CONSUMERS:-1}
FILL_S=${FILL_S:-30}
FIRST_READ_S=${FIRST_READ_S:-5}
MODES=${MODES:-produce consume}
CONSUME_TOPIC=tls-vs-plaintext-consume
BIN=$(cd "$BIN" && pwd)
mkdir -p "$OUT/pki"
OUT=$(cd "$OUT" && pwd)
PKI=$OUT/pki
: > "$OUT/commands.txt"

source loadgen/scripts/lib.sh

# --- certificates -------------------------------------------------------------------------
ossl() { echo "openssl $*" >> "$OUT/commands.txt"; openssl "$@" 2>> "$OUT/openssl.log"; }
EC=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes)
ossl req -x509 "${EC[@]}" -days 7 -subj "/CN=Sluice bench CA" \
  -keyout "$PKI/ca.key" -out "$PKI/ca.crt"
printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > "$PKI/server.ext"
ossl req "${EC[@]}" -subj "/CN=127.0.0.1" -keyout "$PKI/server.key" -out "$PKI/server.csr"
ossl x509 -req -in "$PKI/server.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial \
  -days 7 -extfile "$PKI/server.ext" -out "$PKI/server.crt"
cat "$PKI/server.key" "$PKI/server.crt" > "$PKI/server.pem"  # ssl.keystore.location: key + chain

# --- one broker, two listeners ----------------------------------------------------------------
PLAIN_PORT=$(free_port)
TLS_PORT=$(free_port)
DATA=$(mktemp -d "$DATA_PARENT/sluice-tls-XXXXXX")
cat > "$OUT/broker.toml" <<EOF
listeners = "PLAINTEXT://127.0.0.1:$PLAIN_PORT,SSL://127.0.0.1:$TLS_PORT"
"ssl.keystore.location" = "$PKI/server.pem"
EOF
broker=(taskset -c 0 "$BIN/sluice" start --config "$OUT/broker.toml" --data-dir "$DATA/d"
  --cores 1 --metrics-listen 127.0.0.1:0)
echo "${broker[*]}   # broker.toml: $(tr '\n' ' ' < "$OUT/broker.toml")" >> "$OUT/commands.txt"
"${broker[@]}" > "$OUT/broker.log" 2>&1 &
PID=$!
wait_port "$PLAIN_PORT"
wait_port "$TLS_PORT"

security() { # plain|tls
  if [ "$1" = tls ]; then
    echo "--bootstrap 127.0.0.1:$TLS_PORT --security-protocol SSL --ssl-ca-location $PKI/ca.crt"
  else
    echo "--bootstrap 127.0.0.1:$PLAIN_PORT"
  fi
}

run_one() { # mode(produce|consume) transport(plain|tls) round
  local mode=$1 transport=$2 round=$3 topic=()
  if [ "$mode" = consume ]; then
    topic=(--topic "$CONSUME_TOPIC" --consumers "$CONSUMERS")
  fi
  # shellcheck disable=SC2046
  local cmd=(taskset -c 1 "$BIN/sluice-loadgen" "$mode" $(security "$transport") "${topic[@]}"
    --acks "$ACKS" --partitions "$PARTITIONS" --message-bytes "$MESSAGE_BYTES"
    --warmup-s "$WARMUP_S" --duration-s "$DURATION_S" --quiet
    --label "$mode $transport round $round" --json "$OUT/$mode-$transport-$round.json")
  echo "${cmd[*]}" >> "$OUT/commands.txt"
  "${cmd[@]}" > "$OUT/$mode-$transport-$round.txt" 2>&1 \
    || echo "   $mode $transport round $round: loadgen exited non-zero" | tee -a "$OUT/commands.txt"
}

if [[ " $MODES " == *" consume "* ]]; then
  echo "filling $CONSUME_TOPIC for ${FILL_S}s"
  # shellcheck disable=SC2046
  fill=(taskset -c 1 "$BIN/sluice-loadgen" produce $(security plain) --topic "$CONSUME_TOPIC"
    --acks "$ACKS" --partitions "$PARTITIONS" --message-bytes "$MESSAGE_BYTES"
    --warmup-s 0 --duration-s "$FILL_S" --quiet --label "fill" --json "$OUT/fill.json")
  echo "${fill[*]}" >> "$OUT/commands.txt"
  "${fill[@]}" > "$OUT/fill.txt" 2>&1
  # The fill leaves gigabytes of dirty pages: written back now, not during round 1. The broker
  # writes with O_DIRECT, so the topic is not in the page cache yet: without reading it once
  # here, round 1's first run would read it from the disk and the second from memory.
  sync
  find "$DATA" -type f -name '*.log' -exec cat {} + > /dev/null
  # Even then the first consume run after the fill is slower than the next ones (cause not
  # found: security-tls-2026-12-03.md): one unmeasured consume in the clear takes that hit.
  # shellcheck disable=SC2046
  first=(taskset -c 1 "$BIN/sluice-loadgen" consume $(security plain) --topic "$CONSUME_TOPIC"
    --consumers "$CONSUMERS" --acks "$ACKS" --partitions "$PARTITIONS"
    --message-bytes "$MESSAGE_BYTES" --warmup-s 0 --duration-s "$FIRST_READ_S" --quiet
    --label "first read" --json "$OUT/first-read.json")
  echo "${first[*]}" >> "$OUT/commands.txt"
  "${first[@]}" > "$OUT/first-read.txt" 2>&1
fi

for round in $(seq "$ROUNDS"); do
  if [ $((round % 2)) = 1 ]; then order="plain tls"; else order="tls plain"; fi
  for mode in $MODES; do
    for transport in $order; do
      echo "round $round: $mode $transport"
      run_one "$mode" "$transport" "$round"
    done
  done
done
stop

python3 - "$OUT" "$ROUNDS" <<'PY'
import json, os, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
def figures(mode, transport, r):
    """(MB/s, measured seconds) of one run, or (None, None)."""
    try:
        cell = json.load(open(os.path.join(out, f"{mode}-{transport}-{r}.json")))["cells"][0]
        t = cell.get(mode) or {}
        return t.get("mb_per_s"), t.get("seconds")
    except Exception:
        return None, None
lines = ["| round | produce PLAINTEXT MB/s | produce SSL MB/s | SSL/PLAINTEXT | "
         "consume PLAINTEXT MB/s | consume SSL MB/s | SSL/PLAINTEXT | consume s (PLAIN/SSL) |",
         "|---|---|---|---|---|---|---|---|"]
ratios = {"produce": [], "consume": []}
for r in range(1, rounds + 1):
    row = [str(r)]
    for mode in ("produce", "consume"):
        (p, ps), (t, ts) = figures(mode, "plain", r), figures(mode, "tls", r)
        ratio = t / p if p and t else None
        if ratio is not None:
            ratios[mode].append(ratio)
        row += [f"{p:.1f}" if p else "-", f"{t:.1f}" if t else "-",
                f"{ratio:.3f}" if ratio else "-"]
        if mode == "consume":
            # Shorter than DURATION_S: the run read the whole topic before its end.
            row.append(f"{ps or 0:.1f}/{ts or 0:.1f}")
    lines.append("| " + " | ".join(row) + " |")
lines.append("")
for mode, values in ratios.items():
    if values:
        lines.append(f"median {mode} SSL/PLAINTEXT = {statistics.median(values):.3f} (goal >= 0.7)")
text = "\n".join(lines) + "\n"
open(os.path.join(out, "summary.md"), "w").write(text)
print(text)
PY
