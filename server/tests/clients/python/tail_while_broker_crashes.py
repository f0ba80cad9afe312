"""A confluent-kafka producer (acks=1) and a tailing consumer in one process, while the test
kills the broker with SIGKILL and restarts it. Every record the consumer receives is written
to --seen as "partition offset value" and flushed at once, so the test can compare what
consumers saw with what the log holds after the crashes.

Usage: tail_while_broker_crashes.py --bootstrap HOST:PORT --topic T --partitions N
       --seconds S --seen FILE
Exit status 0 when it ran to the end (errors while the broker is down are expected and only
counted); the verdict is the test's.
"""

import argparse
import sys
import threading
import time
import uuid

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition

# Bounds the producer's queue so a broker that is down does not grow it without limit.
QUEUED_MESSAGES_MAX = 20_000
# Producer pacing: messages per second, in small bursts.
RATE_MSGS_PER_S = 4_000
BURST_MSGS = 40


def produce(args, stop, counts):
    producer = Producer(
        {
            "bootstrap.servers": args.bootstrap,
            "acks": 1,
            "linger.ms": 2,
            "enable.idempotence": False,
            "queue.buffering.max.messages": QUEUED_MESSAGES_MAX,
            "message.timeout.ms": 30_000,
            "reconnect.backoff.max.ms": 200,
        }
    )
    run = uuid.uuid4().hex[:8]
    seq = 0

    def delivered(err, _msg):
        counts["acked" if err is None else "failed"] += 1

    next_burst = time.monotonic()
    while not stop.is_set():
        for _ in range(BURST_MSGS):
            value = f"{run}-{seq}".encode()
            try:
                producer.produce(args.topic, value, partition=seq % args.partitions, on_delivery=delivered)
                seq += 1
            except BufferError:
                break
        producer.poll(0)
        next_burst += BURST_MSGS / RATE_MSGS_PER_S
        time.sleep(max(0.0, next_burst - time.monotonic()))
    producer.flush(10)
    counts["sent"] = seq


def consume(args, stop, counts):
    consumer = Consumer(
        {
            "bootstrap.servers": args.bootstrap,
            "group.id": "tail-" + uuid.uuid4().hex[:8],
            "enable.auto.commit": False,
            "fetch.wait.max.ms": 100,
            "reconnect.backoff.max.ms": 200,
            # A consumer ahead of the log after a crash would be reset; the test must see that
            # as a failure, not hide it: "error" surfaces it as an error event we count.
            "auto.offset.reset": "error",
        }
    )
    consumer.assign([TopicPartition(args.topic, p, 0) for p in range(args.partitions)])
    with open(args.seen, "w", encoding="utf-8") as seen:
        while not stop.is_set():
            msg = consumer.poll(0.2)
            if msg is None:
                continue
            if msg.error():
                code = msg.error().code()
                if code == KafkaError._AUTO_OFFSET_RESET:
                    counts["offset_resets"] += 1
                    print(f"consumer: {msg.error()}", file=sys.stderr)
                continue
            seen.write(f"{msg.partition()} {msg.offset()} {msg.value().decode()}\n")
            seen.flush()
            counts["seen"] += 1
    consumer.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--partitions", type=int, required=True)
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--seen", required=True)
    args = parser.parse_args()
    stop = threading.Event()
    counts = {"acked": 0, "failed": 0, "sent": 0, "seen": 0, "offset_resets": 0}
    threads = [
        threading.Thread(target=produce, args=(args, stop, counts)),
        threading.Thread(target=consume, args=(args, stop, counts)),
    ]
    for thread in threads:
        thread.start()
    time.sleep(args.seconds)
    stop.set()
    for thread in threads:
        thread.join(60)
    print(" ".join(f"{k}={v}" for k, v in sorted(counts.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
