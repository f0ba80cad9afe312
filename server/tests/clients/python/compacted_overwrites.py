"""confluent-kafka against a compacted topic.

produce <bootstrap> <topic> <rounds> <keys> <codec>: writes `rounds` overwrites of each key
(not idempotent: the broker has no InitProducerId yet), prints one JSON line per
delivered record: {"offset", "key", "value"}.
roll <bootstrap> <topic>: writes one record with key "roll" (starts a new segment once the
active one is older than segment.ms).
consume <bootstrap> <topic>: reads partition 0 from the beginning to the end, prints one JSON
line per record.
"""

import json
import sys
import time

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition

DEADLINE_S = 60


def check(condition, message):
    if not condition:
        print(f"FAILED: {message}", file=sys.stderr)
        sys.exit(1)


def produce(bootstrap, topic, rounds, keys, codec):
    producer = Producer({
        "bootstrap.servers": bootstrap,
        "compression.type": codec,
        "acks": "all",
        "enable.idempotence": False,
        "linger.ms": 5,
    })
    delivered = []

    def report(err, msg):
        check(err is None, f"delivery failed: {err}")
        delivered.append({"offset": msg.offset(), "key": msg.key().decode(),
                          "value": msg.value().decode()})

    for round_ in range(rounds):
        for key in range(keys):
            producer.produce(topic, key=f"k{key}", value=f"r{round_}-k{key}", partition=0,
                             on_delivery=report)
        producer.poll(0)
    check(producer.flush(DEADLINE_S) == 0, "flush timed out")
    for record in sorted(delivered, key=lambda r: r["offset"]):
        print(json.dumps(record))


def roll(bootstrap, topic):
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all"})
    producer.produce(topic, key="roll", value="roll", partition=0)
    check(producer.flush(DEADLINE_S) == 0, "flush timed out")


def consume(bootstrap, topic):
    consumer = Consumer({
        "bootstrap.servers": bootstrap,
        "group.id": "compacted-reader",
        "enable.auto.commit": False,
        "enable.partition.eof": True,
        "check.crcs": True,
    })
    consumer.assign([TopicPartition(topic, 0, 0)])
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        msg = consumer.poll(1.0)
        if msg is None:
            continue
        if msg.error():
            if msg.error().code() == KafkaError._PARTITION_EOF:
                consumer.close()
                return
            check(False, f"consume error: {msg.error()}")
        value = msg.value()
        print(json.dumps({"offset": msg.offset(), "key": msg.key().decode(),
                          "value": None if value is None else value.decode()}))
    check(False, "did not reach the end of the partition in time")


if __name__ == "__main__":
    command, bootstrap, topic = sys.argv[1:4]
    if command == "produce":
        produce(bootstrap, topic, int(sys.argv[4]), int(sys.argv[5]), sys.argv[6])
    elif command == "roll":
        roll(bootstrap, topic)
    elif command == "consume":
        consume(bootstrap, topic)
    else:
        check(False, f"unknown command {command}")
