#!/usr/bin/env bash
# One run of three local brokers (default shards: one per CPU; RF 3, min.insync.replicas 2)
# under `sluice-loadgen produce --acks all` (16 partitions, 1 KiB), loadgen unpinned: the
# machine layout of replication_vs_single.sh's B side, with what it costs the machine.
# Seconds 3-7 of the run are sampled: /proc/stat (user, sys, idle, iowait), each broker's
# minor page faults per second (/proc/PID/stat), `ps` of the busiest threads, and `$PERF` if
# set (e.g. PERF="perf record -a -g -F 2000 -o perf.data -- sleep 4"; default: sleep 4).
# BROKER_ENV adds environment to the brokers (e.g. GLIBC_TUNABLES=...). Fixed ports 29xxx.
# CORES adds flags to each broker (e.g. "--cores 1 --pin-shards false"), PIN and LPIN prefix the
# brokers' and loadgen's commands (e.g. "taskset -c 0").
#
#   three-brokers-cpu.sh BIN_DIR OUT_DIR [more loadgen flags, e.g. --max-in-flight 32]
set -u
BIN=$1; OUT=$2; shift 2
mkdir -p $OUT; D=$(mktemp -d /var/tmp/p7x-XXXX)
printf '"min.insync.replicas" = 2\n"default.replication.factor" = 3\n' > $D/r.toml
V=1@127.0.0.1:29093,2@127.0.0.1:29193,3@127.0.0.1:29293
for i in 1 2 3; do
  env ${BROKER_ENV:-X=1} ${PIN:-} $BIN/sluice start --node-id $i --listen 127.0.0.1:29${i}92 --controller-listen 127.0.0.1:29$((i-1))93 --controller-voters $V --data-dir $D/n$i --config $D/r.toml --metrics-listen 127.0.0.1:29${i}44 ${CORES:-} > $OUT/node$i.log 2>&1 &
done
V=1@127.0.0.1:29093,2@127.0.0.1:29193,3@127.0.0.1:29293
for p in 29192 29292 29392; do for t in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null && break; sleep 0.1; done; done
head -1 /proc/stat > $OUT/stat0
${LPIN:-} $BIN/sluice-loadgen produce --bootstrap 127.0.0.1:29192 --acks all --replication-factor 3 --partitions 16 --message-bytes 1024 --warmup-s 2 --duration-s ${DURATION:-8} --quiet --json $OUT/lg.json "$@" > $OUT/lg.txt 2>&1 &
LG=$!
sleep 3; head -1 /proc/stat > $OUT/statA; for p in $(pgrep -f "$BIN/sluice start"); do echo "$p $(cut -d" " -f10 /proc/$p/stat)"; done > $OUT/fltA; ps -eLo comm,pcpu,psr --sort=-pcpu | head -25 > $OUT/ps.txt; ${PERF:-sleep 4}; head -1 /proc/stat > $OUT/statB; for p in $(pgrep -f "$BIN/sluice start"); do echo "$p $(cut -d" " -f10 /proc/$p/stat)"; done > $OUT/fltB
wait $LG
for i in 1 2 3; do curl -s 127.0.0.1:29${i}44/metrics > $OUT/node$i.metrics; done
pkill -f "$BIN/sluice start"; wait
rm -rf $D
python3 - $OUT <<'PY'
import sys,json
o=sys.argv[1]
a=list(map(int,open(o+'/statA').read().split()[1:])); b=list(map(int,open(o+'/statB').read().split()[1:]))
d=[y-x for x,y in zip(a,b)]; tot=sum(d)
print("cpu: user %.0f%% sys %.0f%% idle %.0f%% iowait %.0f%%"%(100*d[0]/tot,100*d[2]/tot,100*d[3]/tot,100*d[4]/tot))
r=json.load(open(o+'/lg.json'))['cells'][0]
fa=dict(l.split() for l in open(o+"/fltA")); fb=dict(l.split() for l in open(o+"/fltB"))
print("minflt/s per broker:", [ (int(fb[k])-int(fa[k]))//4 for k in fb if k in fa])
print("MB/s %.1f p50 %s p99 %s"%(r['produce']['mb_per_s'], r['produce_latency']['p50_us'], r['produce_latency']['p99_us']))
PY
