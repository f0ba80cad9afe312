"""Round trip through kafka-python (pure Python): see round_trip_model.py."""

import time

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition

import round_trip_model as model

DEADLINE_S = 120
CREATE_TIME = 0


def create_topic(bootstrap, topic, partitions):
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        admin.create_topics({topic: {"num_partitions": partitions, "replication_factor": 1}},
                            timeout_ms=30_000, wait_for_metadata=True)
    finally:
        admin.close()


def produce(bootstrap, topic, codec, messages):
    # kafka-python 3's defaults: the idempotent producer (InitProducerId, acks=all).
    producer = KafkaProducer(
        bootstrap_servers=bootstrap,
        compression_type=None if codec == "none" else codec,
        linger_ms=5,
        batch_size=64 * 1024,
    )
    model.check(producer.config["enable_idempotence"], "kafka-python >= 3 is idempotent by default")
    try:
        futures = [(m, producer.send(topic, value=m.value, key=m.key, headers=m.headers,
                                     timestamp_ms=m.timestamp_ms)) for m in messages]
        producer.flush(timeout=DEADLINE_S)
        for m, future in futures:
            meta = future.get(timeout=DEADLINE_S)
            m.partition = meta.partition
            m.offset = meta.offset
        producer_id = producer._transaction_manager.producer_id_and_epoch.producer_id
        model.check(producer_id >= 0, f"no producer id from InitProducerId: {producer_id}")
    finally:
        producer.close(timeout=10)


def consume(bootstrap, topic, parts):
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None,
                             enable_auto_commit=False, auto_offset_reset="earliest")
    try:
        tps = [TopicPartition(topic, p) for p in parts]
        consumer.assign(tps)
        for tp in tps:
            consumer.seek(tp, 0)
        expected = sum(len(ms) for ms in parts.values())
        consumed = {}
        deadline = time.monotonic() + DEADLINE_S
        while len(consumed) < expected and time.monotonic() < deadline:
            for tp, records in consumer.poll(timeout_ms=1000, max_records=2000).items():
                for r in records:
                    where = (r.partition, r.offset)
                    model.check(where not in consumed, f"offset {where} delivered twice")
                    consumed[where] = (r.key, r.value, list(r.headers or []),
                                       r.timestamp_type == CREATE_TIME, r.timestamp)
        model.compare_consumed(parts, consumed)
        check_list_offsets(consumer, topic, parts)
    finally:
        consumer.close()


def check_list_offsets(consumer, topic, parts):
    tps = {p: TopicPartition(topic, p) for p in parts}
    earliest = consumer.beginning_offsets(list(tps.values()))
    latest = consumer.end_offsets(list(tps.values()))
    for p, ms in parts.items():
        model.check(earliest[tps[p]] == 0, f"partition {p}: earliest {earliest[tps[p]]} != 0")
        model.check(latest[tps[p]] == len(ms),
                    f"partition {p}: latest {latest[tps[p]]} != {len(ms)}")
        for t in model.time_probes(ms):
            answer = consumer.offsets_for_times({tps[p]: t})[tps[p]]
            want = model.expected_offset_for_time(ms, t)
            got = None if answer is None else answer.offset
            model.check(got == want, f"partition {p}: offset for time {t} is {got}, "
                                     f"expected {want}")


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
