"""Round trip through confluent-kafka (librdkafka): see round_trip_model.py."""

import time

from confluent_kafka import (
    TIMESTAMP_CREATE_TIME,
    Consumer,
    KafkaError,
    KafkaException,
    Producer,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient, NewTopic

import round_trip_model as model

DEADLINE_S = 120


def create_topic(bootstrap, topic, partitions):
    admin = AdminClient({"bootstrap.servers": bootstrap})
    futures = admin.create_topics([NewTopic(topic, num_partitions=partitions,
                                            replication_factor=1)], operation_timeout=30)
    futures[topic].result(timeout=30)
    metadata = admin.list_topics(topic, timeout=30)
    model.check(len(metadata.topics[topic].partitions) == partitions,
                f"metadata shows {len(metadata.topics[topic].partitions)} partitions")


def produce(bootstrap, topic, codec, messages):
    producer = Producer({
        "bootstrap.servers": bootstrap,
        "compression.type": codec,
        "acks": "all",
        "enable.idempotence": False,
        "linger.ms": 5,
        "message.max.bytes": 1_000_000,
    })
    errors = []

    def on_delivery(err, msg, m):
        if err is not None:
            errors.append(f"message {m.index}: {err}")
            return
        m.partition = msg.partition()
        m.offset = msg.offset()

    for m in messages:
        while True:
            try:
                producer.produce(topic, value=m.value, key=m.key, headers=m.headers,
                                 timestamp=m.timestamp_ms,
                                 on_delivery=lambda err, msg, m=m: on_delivery(err, msg, m))
                break
            except BufferError:
                producer.poll(0.1)
        producer.poll(0)
    remaining = producer.flush(DEADLINE_S)
    model.check(remaining == 0, f"{remaining} messages still unacknowledged after flush")
    model.check(not errors, f"delivery errors: {errors[:5]}")


def consume(bootstrap, topic, parts):
    # librdkafka insists on a group.id; assign() never talks to a coordinator.
    consumer = Consumer({
        "bootstrap.servers": bootstrap,
        "group.id": "sluice-tests-unused",
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
    })
    try:
        consumer.assign([TopicPartition(topic, p, 0) for p in parts])
        expected = sum(len(ms) for ms in parts.values())
        consumed = {}
        deadline = time.monotonic() + DEADLINE_S
        while len(consumed) < expected and time.monotonic() < deadline:
            for msg in consumer.consume(num_messages=1000, timeout=1.0):
                if msg.error() is not None:
                    if msg.error().code() == KafkaError._PARTITION_EOF:
                        continue
                    raise KafkaException(msg.error())
                ts_type, ts = msg.timestamp()
                where = (msg.partition(), msg.offset())
                model.check(where not in consumed, f"offset {where} delivered twice")
                consumed[where] = (msg.key(), msg.value(), msg.headers() or [],
                                   ts_type == TIMESTAMP_CREATE_TIME, ts)
        model.compare_consumed(parts, consumed)
        # While partitions are assigned, each ListOffsets queues behind the consumer's fetch
        # long poll on the same connection (responses go in request order): unassign first.
        consumer.unassign()
        check_list_offsets(consumer, topic, parts)
    finally:
        consumer.close()


def check_list_offsets(consumer, topic, parts):
    for p, ms in parts.items():
        low, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=30,
                                                   cached=False)
        model.check(low == 0, f"partition {p}: earliest offset {low} != 0")
        model.check(high == len(ms), f"partition {p}: latest offset {high} != {len(ms)}")
        # One lookup per request: a partition may appear only once in a ListOffsets request.
        for t in model.time_probes(ms):
            [answer] = consumer.offsets_for_times([TopicPartition(topic, p, t)], timeout=30)
            model.check(answer.error is None, f"partition {p}: offsets_for_times({t}) "
                                              f"failed: {answer.error}")
            want = model.expected_offset_for_time(ms, t)
            # librdkafka reports "no such offset" as -1 (OFFSET_END).
            want = -1 if want is None else want
            model.check(answer.offset == want, f"partition {p}: offset for time {t} is "
                                                f"{answer.offset}, expected {want}")


def main():
    args = model.parse_args(__doc__)

    def scenario(codec):
        topic = f"{args.topic_prefix}-{codec}"
        create_topic(args.bootstrap, topic, args.partitions)
        messages = model.generate_messages(args.messages, args.seed)
        produce(args.bootstrap, topic, codec, messages)
        parts = model.by_partition(messages)
        model.check(len(parts) == args.partitions,
                    f"keys spread over {len(parts)} partitions, expected {args.partitions}")
        consume(args.bootstrap, topic, parts)
        return len(messages), len(parts)

    model.run(args.codecs.split(","), scenario)


if __name__ == "__main__":
    main()
