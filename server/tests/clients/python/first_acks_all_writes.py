"""confluent-kafka creates a replicated topic and at once writes one message with acks=all to
each of its partitions, then reports as one JSON object on stdout:

  {"delivered": N, "errors": [TEXT], "slowest_ms": MS}

`--message-timeout-ms` bounds each delivery (librdkafka's message.timeout.ms): a message whose
high watermark does not pass in that time fails with _MSG_TIMED_OUT. The test asserts on the
report; this script only observes. Every wait polls a condition with a deadline.
"""

import argparse
import json
import sys
import time

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient

import new_topic

def parse_args():
    parser = argparse.ArgumentParser()
    new_topic.add_arguments(parser)
    parser.add_argument("--message-timeout-ms", type=int, required=True)
    return parser.parse_args()


def main():
    args = parse_args()
    deadline = time.monotonic() + args.timeout_s
    admin = AdminClient({"bootstrap.servers": args.bootstrap})
    new_topic.create(admin, args)
    # The producer would otherwise queue the first messages behind its own metadata refresh,
    # which is not what is measured.
    new_topic.wait_for_partitions(admin, args.topic, args.partitions, deadline)

    producer = Producer({
        "bootstrap.servers": args.bootstrap,
        "acks": "all",
        "linger.ms": 0,
        "message.timeout.ms": args.message_timeout_ms,
    })
    errors = []
    delivered = []
    sent_at = {}

    def on_delivery(err, msg):
        if err is not None:
            errors.append(f"partition {msg.partition()}: {err}")
            return
        delivered.append((time.monotonic() - sent_at[msg.partition()]) * 1000.0)

    for partition in range(args.partitions):
        sent_at[partition] = time.monotonic()
        producer.produce(args.topic, value=f"first-{partition}".encode(), partition=partition,
                         on_delivery=on_delivery)
    producer.poll(0)
    remaining = producer.flush(max(1.0, deadline - time.monotonic()))
    if remaining:
        errors.append(f"{remaining} messages neither delivered nor failed by the deadline")
    print(json.dumps({
        "delivered": len(delivered),
        "errors": errors,
        "slowest_ms": round(max(delivered, default=0.0), 1),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
