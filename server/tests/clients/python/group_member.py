"""One consumer-group member, driven by group_scenarios.py.

Subscribes to a topic with manual commits and reports on stdout, one JSON object a line:
  {"event": "assigned", "partitions": [...]}   after every (eager) assignment
  {"event": "ack", "p": P, "o": O}             after the commit of offset O+1 succeeded
  {"event": "commit_failed", "p": P, "o": O}   the message will be redelivered to its owner
A line "close" on stdin closes the consumer cleanly and exits (a dynamic member sends
LeaveGroup; a static one, --instance, does not, as in Kafka).
"""

import argparse
import json
import sys
import threading

closing = threading.Event()


def emit(**event):
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


def watch_stdin():
    for line in sys.stdin:
        if line.strip() == "close":
            break
    closing.set()


def run_confluent(args):
    from confluent_kafka import Consumer, KafkaException

    consumer = Consumer({
        "bootstrap.servers": args.bootstrap,
        "group.id": args.group,
        "client.id": args.name,
        "auto.offset.reset": args.reset,
        "enable.auto.commit": False,
        "session.timeout.ms": args.session_ms,
        "heartbeat.interval.ms": 1000,
        "partition.assignment.strategy": "range",
        **({"group.instance.id": args.instance} if args.instance else {}),
    })

    def on_assign(_consumer, partitions):
        emit(event="assigned", partitions=sorted(p.partition for p in partitions))

    def on_revoke(_consumer, _partitions):
        emit(event="assigned", partitions=[])

    consumer.subscribe([args.topic], on_assign=on_assign, on_revoke=on_revoke)
    while not closing.is_set():
        message = consumer.poll(0.2)
        if message is None or message.error():
            continue
        try:
            consumer.commit(message=message, asynchronous=False)
            emit(event="ack", p=message.partition(), o=message.offset())
        except KafkaException as e:
            emit(event="commit_failed", p=message.partition(), o=message.offset(), error=str(e))
    consumer.close()


def run_kafka_python(args):
    from kafka import KafkaConsumer
    from kafka.consumer.subscription_state import ConsumerRebalanceListener
    from kafka.errors import KafkaError
    from kafka.structs import OffsetAndMetadata

    consumer = KafkaConsumer(
        bootstrap_servers=args.bootstrap,
        group_id=args.group,
        client_id=args.name,
        auto_offset_reset=args.reset,
        enable_auto_commit=False,
        session_timeout_ms=args.session_ms,
        heartbeat_interval_ms=1000,
        **({"group_instance_id": args.instance} if args.instance else {}),
    )

    class Listener(ConsumerRebalanceListener):
        def on_partitions_revoked(self, revoked):
            emit(event="assigned", partitions=[])

        def on_partitions_assigned(self, assigned):
            emit(event="assigned", partitions=sorted(tp.partition for tp in assigned))

    consumer.subscribe([args.topic], listener=Listener())
    while not closing.is_set():
        batches = consumer.poll(timeout_ms=200)
        for tp, messages in batches.items():
            for m in messages:
                try:
                    consumer.commit({tp: OffsetAndMetadata(m.offset + 1, "", -1)})
                    emit(event="ack", p=m.partition, o=m.offset)
                except KafkaError as e:
                    emit(event="commit_failed", p=m.partition, o=m.offset, error=str(e))
    consumer.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--client", choices=["confluent", "kafka-python"], required=True)
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--group", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--session-ms", type=int, default=6000)
    parser.add_argument("--reset", default="earliest")
    parser.add_argument("--instance", help="group.instance.id: a static member")
    args = parser.parse_args()
    threading.Thread(target=watch_stdin, daemon=True).start()
    if args.client == "confluent":
        run_confluent(args)
    else:
        run_kafka_python(args)
    emit(event="closed")


if __name__ == "__main__":
    main()
