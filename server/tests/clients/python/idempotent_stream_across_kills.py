"""An idempotent confluent-kafka producer (enable.idempotence=true: acks=all, 5 requests in
flight, unbounded retries) streaming keyed records while the test kills the broker with
SIGKILL and restarts it. Each partition gets its own numbered stream: the value of the n-th
record sent to partition p is "<run>-<p>-<n>". Every delivery report is written to --acked
as "partition offset value" and flushed at once.

With --idempotence default the producer leaves enable.idempotence at librdkafka's default
(false) and asks for acks=all: a retry may then store a record twice, and the test checks only
that every delivered record is at its delivered offset (the replication tests).

Usage: idempotent_stream_across_kills.py --bootstrap HOST:PORT --topic T --partitions N
       --seconds S --acked FILE [--idempotence true|default]
Prints "sent=N acked=N failed=N fatal=N errors=[...]" and exits 0 when it ran to the end; the
verdict is the test's.
"""

import argparse
import sys
import time
import uuid

from confluent_kafka import KafkaException, Producer

# Bounds the producer's queue while the broker is down.
QUEUED_MESSAGES_MAX = 20_000
RATE_MSGS_PER_S = 3_000
BURST_MSGS = 30
# How long the final flush may take (the broker is up by then).
FLUSH_S = 120
KEYS_PER_PARTITION = 16


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--partitions", type=int, required=True)
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--acked", required=True)
    parser.add_argument("--idempotence", choices=["true", "default"], default="true")
    args = parser.parse_args()

    errors = []
    fatal = []

    def on_error(err):
        errors.append(err.str())
        if err.fatal():
            fatal.append(err.str())

    idempotence = {"enable.idempotence": True} if args.idempotence == "true" else {}
    producer = Producer(
        {
            "bootstrap.servers": args.bootstrap,
            **idempotence,
            "acks": "all",
            "linger.ms": 5,
            "queue.buffering.max.messages": QUEUED_MESSAGES_MAX,
            "message.timeout.ms": 120_000,
            "reconnect.backoff.max.ms": 200,
            "error_cb": on_error,
        }
    )
    run = uuid.uuid4().hex[:8]
    counts = {"acked": 0, "failed": 0}
    next_seq = [0] * args.partitions
    with open(args.acked, "w", encoding="utf-8") as acked:

        def delivered(err, msg):
            if err is not None:
                counts["failed"] += 1
                errors.append(f"delivery: {err}")
                return
            counts["acked"] += 1
            acked.write(f"{msg.partition()} {msg.offset()} {msg.value().decode()}\n")
            acked.flush()

        deadline = time.monotonic() + args.seconds
        next_burst = time.monotonic()
        partition = 0
        while time.monotonic() < deadline and not fatal:
            for _ in range(BURST_MSGS):
                seq = next_seq[partition]
                value = f"{run}-{partition}-{seq}".encode()
                key = f"k-{partition}-{seq % KEYS_PER_PARTITION}".encode()
                try:
                    producer.produce(
                        args.topic, value, key=key, partition=partition, on_delivery=delivered
                    )
                except BufferError:
                    break
                except KafkaException as exc:
                    fatal.append(str(exc))
                    break
                next_seq[partition] += 1
                partition = (partition + 1) % args.partitions
            next_burst += BURST_MSGS / RATE_MSGS_PER_S
            # Pacing, not synchronisation: serve delivery reports until the next burst is due.
            producer.poll(max(0.0, next_burst - time.monotonic()))
        left = producer.flush(FLUSH_S)
    sent = sum(next_seq)
    print(
        f"sent={sent} acked={counts['acked']} failed={counts['failed']} "
        f"unflushed={left} fatal={len(fatal)} errors={errors[:20]!r} fatal_errors={fatal!r}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
