"""Commits offsets of one group many times (confluent-kafka, standalone commits), then exits.

    python offsets_commit_many.py BOOTSTRAP COMMITS PARTITIONS

Each commit names every partition of topic `loadtime` (created here), so the run appends
COMMITS * PARTITIONS offset records to the group's __consumer_offsets partition."""
import sys
import time

from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

bootstrap, commits, partitions = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
admin = AdminClient({"bootstrap.servers": bootstrap})
admin.create_topics([NewTopic("loadtime", partitions, 1)])["loadtime"].result(timeout=30)
consumer = Consumer(
    {"bootstrap.servers": bootstrap, "group.id": "loadtime-group", "enable.auto.commit": False}
)
started = time.monotonic()
for i in range(commits):
    offsets = [TopicPartition("loadtime", p, i + 1) for p in range(partitions)]
    consumer.commit(offsets=offsets, asynchronous=False)
elapsed = time.monotonic() - started
consumer.close()
print(f"{commits} commits of {partitions} partitions in {elapsed:.1f} s")
