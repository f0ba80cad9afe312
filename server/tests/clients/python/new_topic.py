"""Creating a topic from a script's arguments, and waiting until the cluster's metadata gives
every partition a leader: shared by the scripts that create a replicated topic."""

import time

from confluent_kafka.admin import NewTopic

POLL_INTERVAL_S = 0.1


def add_arguments(parser):
    """The topic to create and where (`--timeout-s` bounds every wait of the script)."""
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--partitions", type=int, required=True)
    parser.add_argument("--replication-factor", type=int, required=True)
    parser.add_argument("--config", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--timeout-s", type=float, default=60.0)


def create(admin, args):
    """Creates the topic the arguments describe; a refusal raises KafkaException."""
    configs = dict(item.split("=", 1) for item in args.config)
    new_topic = NewTopic(args.topic, num_partitions=args.partitions,
                         replication_factor=args.replication_factor, config=configs)
    futures = admin.create_topics([new_topic], operation_timeout=args.timeout_s,
                                  request_timeout=args.timeout_s)
    futures[args.topic].result(timeout=args.timeout_s)


def wait_for_partitions(admin, topic, partitions, deadline):
    """Metadata of `topic` once every partition has a leader (any broker may answer, and a
    broker other than the one that created it may apply the change a moment later)."""
    while True:
        metadata = admin.list_topics(topic=topic, timeout=max(1.0, deadline - time.monotonic()))
        found = metadata.topics.get(topic)
        if (
            found is not None
            and found.error is None
            and len(found.partitions) == partitions
            and all(p.leader >= 0 for p in found.partitions.values())
        ):
            return found
        if time.monotonic() >= deadline:
            raise SystemExit(f"{topic} has no leader for every partition: {found}")
        # No request waits for metadata to change: the condition is polled, up to the deadline.
        time.sleep(POLL_INTERVAL_S)
