"""confluent-kafka transactions against a broker. Every mode prints one JSON object on its last
stdout line; the Rust tests under server/tests/transactions_*.rs assert on it.

commit_abort_commit <bootstrap> <topic> <partitions>: one transactional producer commits,
  aborts, then commits again (N records each, spread over the partitions); a read_committed
  and a read_uncommitted consumer then read every partition to its end.
open_blocks <bootstrap> <topic>: producer A opens a transaction and writes; producer B (not
  transactional) writes after it. A read_committed consumer sees nothing until A commits,
  then everything; prints what it saw before and after.
fencing <bootstrap> <topic>: two producers with the same transactional.id; the second fences
  the first, whose commit then fails; only the second's records are committed.
hang <bootstrap> <topic> <txn_timeout_ms> <ready_path>: opens a transaction, writes, writes
  "written" to ready_path, and waits to be killed (the test kills it with -9).
read <bootstrap> <topic> <partitions> <isolation>: reads every partition to its end.
ctp <bootstrap> <input> <output> <group> <transactional_id> <total>: a consume-transform-
  produce loop: reads `input` partition 0 read_committed from the group's committed offset,
  writes out-<value> to `output` and commits the consumed offsets in the same transaction
  (send_offsets_to_transaction). Exits 0 once the group has committed `total` offsets, 3 on any
  client error or a call stuck past its timeout (the test restarts it: a new instance fences
  the old one).
offsets_txn <bootstrap> <topic> <partition> <group> <transactional_id>: one transaction with a
  record to `topic` `partition` and the group's offset for it (send_offsets_to_transaction).
session <bootstrap> <topic> <transactional_id> <prefix> <partitions>: a new producer instance
  of `transactional_id` commits one transaction of RECORDS records named prefix-N.
"""

import json
import os
import signal
import sys
import threading
import time
import uuid

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition

DEADLINE_S = 60
RECORDS = 30
# A loop call stuck longer than this (e.g. across a broker restart) ends the instance.
LOOP_CALL_TIMEOUT_S = 15
# How much longer than its own timeout a loop call may take before the watchdog ends it.
WATCHDOG_GRACE_S = 5


def check(condition, message):
    if not condition:
        print(f"FAILED: {message}", file=sys.stderr)
        sys.exit(1)


def producer(bootstrap, transactional_id, extra=None):
    config = {
        "bootstrap.servers": bootstrap,
        "transactional.id": transactional_id,
        "linger.ms": 5,
    }
    config.update(extra or {})
    return Producer(config)


def write(p, topic, prefix, count, partitions):
    for i in range(count):
        p.produce(topic, value=f"{prefix}-{i}", partition=i % partitions)
    p.poll(0)


def read(bootstrap, topic, partitions, isolation, deadline_s=DEADLINE_S):
    """Every record of every partition up to its end (the LSO for read_committed)."""
    consumer = Consumer({
        "bootstrap.servers": bootstrap,
        "group.id": f"reader-{uuid.uuid4()}",
        "enable.auto.commit": False,
        "isolation.level": isolation,
        "enable.partition.eof": True,
    })
    consumer.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
    values = []
    at_end = set()
    deadline = time.time() + deadline_s
    while len(at_end) < partitions and time.time() < deadline:
        msg = consumer.poll(0.5)
        if msg is None:
            continue
        if msg.error():
            if msg.error().code() == KafkaError._PARTITION_EOF:
                at_end.add(msg.partition())
                continue
            check(False, f"consume error: {msg.error()}")
        at_end.discard(msg.partition())
        values.append({"partition": msg.partition(), "offset": msg.offset(),
                       "value": msg.value().decode()})
    consumer.close()
    check(len(at_end) == partitions, f"{isolation} reader did not reach the end in time")
    return values


def commit_abort_commit(bootstrap, topic, partitions):
    p = producer(bootstrap, f"cac-{uuid.uuid4()}")
    p.init_transactions(DEADLINE_S)
    p.begin_transaction()
    write(p, topic, "first", RECORDS, partitions)
    p.commit_transaction(DEADLINE_S)
    p.begin_transaction()
    write(p, topic, "aborted", RECORDS, partitions)
    p.flush(DEADLINE_S)
    p.abort_transaction(DEADLINE_S)
    p.begin_transaction()
    write(p, topic, "second", RECORDS, partitions)
    p.commit_transaction(DEADLINE_S)
    committed = read(bootstrap, topic, partitions, "read_committed")
    uncommitted = read(bootstrap, topic, partitions, "read_uncommitted")
    print(json.dumps({"committed": committed, "uncommitted": uncommitted}))


def open_blocks(bootstrap, topic):
    a = producer(bootstrap, f"open-{uuid.uuid4()}")
    a.init_transactions(DEADLINE_S)
    a.begin_transaction()
    write(a, topic, "txn", 5, 1)
    check(a.flush(DEADLINE_S) == 0, "flush of the open transaction timed out")
    b = Producer({"bootstrap.servers": bootstrap, "acks": "all"})
    for i in range(5):
        b.produce(topic, value=f"plain-{i}", partition=0)
    check(b.flush(DEADLINE_S) == 0, "plain flush timed out")
    # The open transaction's first offset bounds what read_committed readers get.
    before = read(bootstrap, topic, 1, "read_committed")
    uncommitted = read(bootstrap, topic, 1, "read_uncommitted")
    a.commit_transaction(DEADLINE_S)
    after = read(bootstrap, topic, 1, "read_committed")
    print(json.dumps({"before": [r["value"] for r in before],
                      "uncommitted": [r["value"] for r in uncommitted],
                      "after": [r["value"] for r in after]}))


def fencing(bootstrap, topic):
    transactional_id = f"fence-{uuid.uuid4()}"
    first = producer(bootstrap, transactional_id)
    first.init_transactions(DEADLINE_S)
    first.begin_transaction()
    write(first, topic, "zombie", 5, 1)
    check(first.flush(DEADLINE_S) == 0, "zombie flush timed out")
    second = producer(bootstrap, transactional_id)
    second.init_transactions(DEADLINE_S)
    fenced = None
    try:
        first.commit_transaction(DEADLINE_S)
    except KafkaException as e:
        err = e.args[0]
        fenced = {"name": err.name(), "fatal": err.fatal()}
    second.begin_transaction()
    write(second, topic, "successor", 5, 1)
    second.commit_transaction(DEADLINE_S)
    committed = read(bootstrap, topic, 1, "read_committed")
    print(json.dumps({"fenced": fenced, "committed": [r["value"] for r in committed]}))


def hang(bootstrap, topic, timeout_ms, ready_path):
    p = producer(bootstrap, f"hang-{uuid.uuid4()}", {"transaction.timeout.ms": int(timeout_ms)})
    p.init_transactions(DEADLINE_S)
    p.begin_transaction()
    write(p, topic, "abandoned", 5, 1)
    check(p.flush(DEADLINE_S) == 0, "flush timed out")
    with open(ready_path, "w") as ready:
        ready.write("written\n")
    # Until the test kills it (kill -9): no transaction end, ever.
    signal.pause()


def session(bootstrap, topic, transactional_id, prefix, partitions):
    p = producer(bootstrap, transactional_id)
    p.init_transactions(DEADLINE_S)
    p.begin_transaction()
    write(p, topic, prefix, RECORDS, partitions)
    p.commit_transaction(DEADLINE_S)
    print(json.dumps({"committed": RECORDS}))


class watchdog:
    """Ends the process (exit 3, as for a client error) when a call outlives
    LOOP_CALL_TIMEOUT_S by WATCHDOG_GRACE_S. librdkafka 2.16 does not always honour the timeout
    of send_offsets_to_transaction (librdkafka#5456), and after a single broker's restart it
    can wait forever for a group coordinator whose broker handle the re-bootstrap decommissioned
    (librdkafka#5511): nothing the broker answers can wake it."""

    def __init__(self, call):
        self.call = call
        self.timer = None

    def __enter__(self):
        def expire():
            print(f"client stuck in {self.call}, restart", file=sys.stderr, flush=True)
            os._exit(3)

        self.timer = threading.Timer(LOOP_CALL_TIMEOUT_S + WATCHDOG_GRACE_S, expire)
        self.timer.daemon = True
        self.timer.start()
        return self

    def __exit__(self, *exc):
        self.timer.cancel()
        return False


def ctp(bootstrap, input_topic, output_topic, group, transactional_id, total):
    consumer = Consumer({
        "bootstrap.servers": bootstrap,
        "group.id": group,
        "enable.auto.commit": False,
        "isolation.level": "read_committed",
        "auto.offset.reset": "earliest",
    })
    source = TopicPartition(input_topic, 0)
    consumer.assign([source])
    p = producer(bootstrap, transactional_id)
    try:
        p.init_transactions(DEADLINE_S)
        while True:
            msgs = [m for m in consumer.consume(num_messages=20, timeout=1.0) if not m.error()]
            if not msgs:
                committed = consumer.committed([source], timeout=10)[0].offset
                if committed >= total:
                    print(json.dumps({"committed_offset": committed}))
                    return
                continue
            p.begin_transaction()
            for m in msgs:
                p.produce(output_topic, value=b"out-" + m.value(), partition=0)
            positions = consumer.position([source])
            with watchdog("send_offsets_to_transaction"):
                p.send_offsets_to_transaction(positions, consumer.consumer_group_metadata(),
                                              LOOP_CALL_TIMEOUT_S)
            with watchdog("commit_transaction"):
                p.commit_transaction(LOOP_CALL_TIMEOUT_S)
    except KafkaException as e:
        print(f"client error, restart: {e}", file=sys.stderr, flush=True)
        # librdkafka 2.0's destructor can wait forever on a transaction stuck across a broker
        # restart; the test starts a new instance, which fences this one anyway.
        os._exit(3)


def offsets_txn(bootstrap, topic, partition, group, transactional_id):
    """One transaction: a record to `topic` `partition` and offset 1 of it for `group`."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group,
                         "enable.auto.commit": False})
    p = producer(bootstrap, transactional_id)
    p.init_transactions(DEADLINE_S)
    p.begin_transaction()
    p.produce(topic, value=b"offsets-txn", partition=partition)
    offsets = [TopicPartition(topic, partition, 1)]
    p.send_offsets_to_transaction(offsets, consumer.consumer_group_metadata(), DEADLINE_S)
    p.commit_transaction(DEADLINE_S)
    consumer.close()
    print(json.dumps({"committed": True}))


def main():
    mode, bootstrap, topic = sys.argv[1], sys.argv[2], sys.argv[3]
    if mode == "commit_abort_commit":
        commit_abort_commit(bootstrap, topic, int(sys.argv[4]))
    elif mode == "open_blocks":
        open_blocks(bootstrap, topic)
    elif mode == "fencing":
        fencing(bootstrap, topic)
    elif mode == "hang":
        hang(bootstrap, topic, sys.argv[4], sys.argv[5])
    elif mode == "ctp":
        ctp(bootstrap, topic, sys.argv[4], sys.argv[5], sys.argv[6], int(sys.argv[7]))
    elif mode == "offsets_txn":
        offsets_txn(bootstrap, topic, int(sys.argv[4]), sys.argv[5], sys.argv[6])
    elif mode == "session":
        session(bootstrap, topic, sys.argv[4], sys.argv[5], int(sys.argv[6]))
    elif mode == "read":
        values = read(bootstrap, topic, int(sys.argv[4]), sys.argv[5])
        print(json.dumps({"values": [r["value"] for r in values]}))
    else:
        check(False, f"unknown mode {mode}")


if __name__ == "__main__":
    main()
