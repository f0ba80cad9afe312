"""kafka-python 3.x transactions with its default producer settings (idempotent): commit,
abort, commit; a read_committed consumer then sees exactly the committed records, a
read_uncommitted one every data record. Prints one JSON object:
{"committed": [...], "uncommitted": [...]}.

usage: kafka_python_transactions.py <bootstrap> <topic> <partitions>
"""

import json
import sys
import time
import uuid

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

RECORDS = 30
DEADLINE_S = 60


def read(bootstrap, topic, partitions, isolation):
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, isolation_level=isolation,
                             enable_auto_commit=False, group_id=None)
    tps = [TopicPartition(topic, p) for p in range(partitions)]
    consumer.assign(tps)
    consumer.seek_to_beginning(*tps)
    # end_offsets answers the LSO for read_committed consumers (ListOffsets isolation).
    ends = consumer.end_offsets(tps)
    values = []
    deadline = time.time() + DEADLINE_S
    while any(consumer.position(tp) < ends[tp] for tp in tps):
        if time.time() > deadline:
            print(f"FAILED: {isolation} reader stuck below {ends}", file=sys.stderr)
            sys.exit(1)
        for records in consumer.poll(timeout_ms=500).values():
            values.extend(r.value.decode() for r in records)
    consumer.close()
    return values


def main():
    bootstrap, topic, partitions = sys.argv[1], sys.argv[2], int(sys.argv[3])
    producer = KafkaProducer(bootstrap_servers=bootstrap,
                             transactional_id=f"kafka-python-{uuid.uuid4()}")
    producer.init_transactions()
    for prefix, commit in (("first", True), ("aborted", False), ("second", True)):
        producer.begin_transaction()
        for i in range(RECORDS):
            producer.send(topic, value=f"{prefix}-{i}".encode(), partition=i % partitions)
        producer.flush()
        if commit:
            producer.commit_transaction()
        else:
            producer.abort_transaction()
    producer.close()
    print(json.dumps({"committed": read(bootstrap, topic, partitions, "read_committed"),
                      "uncommitted": read(bootstrap, topic, partitions, "read_uncommitted")}))


if __name__ == "__main__":
    main()
