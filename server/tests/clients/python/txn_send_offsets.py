"""A consume-transform-produce step with confluent-kafka: a transactional producer sends the
consumer's offsets with send_offsets_to_transaction, once aborted and once committed. Prints
`VERIFIED` when the group's committed offsets are exactly those of the committed transaction
(the aborted one's never show) and a read_committed consumer of the output sees only the
committed records."""

import argparse
import sys

from confluent_kafka import Consumer, Producer, TopicPartition

WAIT_S = 30


def fail(why):
    print(f"FAILED {why}", flush=True)
    sys.exit(1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--input", required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--group", required=True)
    args = parser.parse_args()

    seed = Producer({"bootstrap.servers": args.bootstrap})
    for i in range(10):
        seed.produce(args.input, value=f"in-{i}".encode(), partition=0)
    if seed.flush(WAIT_S) != 0:
        fail("seeding the input")

    consumer = Consumer({
        "bootstrap.servers": args.bootstrap,
        "group.id": args.group,
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
        "isolation.level": "read_committed",
    })
    consumer.assign([TopicPartition(args.input, 0, 0)])
    producer = Producer({
        "bootstrap.servers": args.bootstrap,
        "transactional.id": f"{args.group}-tx",
    })
    producer.init_transactions(WAIT_S)

    def step(count, commit):
        records = consumer.consume(count, WAIT_S)
        if len(records) != count:
            fail(f"consumed {len(records)} of {count}")
        producer.begin_transaction()
        for r in records:
            producer.produce(args.output, value=b"out-" + r.value(), partition=0)
        position = [TopicPartition(args.input, 0, records[-1].offset() + 1)]
        producer.send_offsets_to_transaction(position, consumer.consumer_group_metadata(), WAIT_S)
        if commit:
            producer.commit_transaction(WAIT_S)
        else:
            producer.abort_transaction(WAIT_S)
        return records[-1].offset() + 1

    aborted_at = step(4, commit=False)
    committed = consumer.committed([TopicPartition(args.input, 0)], WAIT_S)[0].offset
    if committed >= 0:
        fail(f"the aborted transaction's offset {aborted_at} shows as {committed}")
    committed_at = step(3, commit=True)
    committed = consumer.committed([TopicPartition(args.input, 0)], WAIT_S)[0].offset
    if committed != committed_at:
        fail(f"committed offset {committed}, wanted {committed_at}")

    reader = Consumer({
        "bootstrap.servers": args.bootstrap,
        "group.id": f"{args.group}-reader",
        "auto.offset.reset": "earliest",
        "isolation.level": "read_committed",
    })
    reader.assign([TopicPartition(args.output, 0, 0)])
    seen = [r.value() for r in reader.consume(10, 10) if r.error() is None]
    wanted = [f"out-in-{i}".encode() for i in range(4, 7)]
    if seen != wanted:
        fail(f"read_committed output {seen}, wanted {wanted}")
    print(f"VERIFIED committed={committed}", flush=True)


if __name__ == "__main__":
    main()
