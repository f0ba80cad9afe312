"""confluent-kafka AdminClient creates a topic with a replication factor and topic configs, then
reports what the cluster says about it, as one JSON object on stdout:

  {"created": true, "partitions": [{"id", "leader", "replicas", "isrs"}],
   "topic_configs": {name: {"value", "source"}}, "broker_configs": {name: {"value", "source"}}}

or, when the creation is refused, {"created": false, "error": NAME, "message": TEXT}.
The test asserts on it; this script only observes. Every wait polls a condition with a deadline.
"""

import argparse
import json
import sys
import time

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, ConfigResource, ConfigSource, ResourceType

import new_topic

# Configs whose value and source the test checks.
REPORTED = ["min.insync.replicas", "unclean.leader.election.enable"]


def parse_args():
    parser = argparse.ArgumentParser()
    new_topic.add_arguments(parser)
    parser.add_argument("--broker-id", default="1", help="broker whose configs to describe")
    return parser.parse_args()


def describe(admin, resource, timeout_s):
    futures = admin.describe_configs([resource], request_timeout=timeout_s)
    entries = futures[resource].result(timeout=timeout_s)
    return {
        # `source` is the protocol's number; its ConfigSource name is what Kafka's tools show.
        name: {"value": entries[name].value, "source": ConfigSource(entries[name].source).name}
        for name in REPORTED
        if name in entries
    }


def main():
    args = parse_args()
    deadline = time.monotonic() + args.timeout_s
    admin = AdminClient({"bootstrap.servers": args.bootstrap})
    try:
        new_topic.create(admin, args)
    except KafkaException as failure:
        error = failure.args[0]
        print(json.dumps({"created": False, "error": error.name(), "message": error.str()}))
        return 0
    topic = new_topic.wait_for_partitions(admin, args.topic, args.partitions, deadline)
    partitions = [
        {"id": p.id, "leader": p.leader, "replicas": list(p.replicas), "isrs": list(p.isrs)}
        for p in sorted(topic.partitions.values(), key=lambda p: p.id)
    ]
    topic_configs = describe(admin, ConfigResource(ResourceType.TOPIC, args.topic), args.timeout_s)
    broker_configs = describe(admin, ConfigResource(ResourceType.BROKER, args.broker_id),
                              args.timeout_s)
    print(json.dumps({
        "created": True,
        "partitions": partitions,
        "topic_configs": topic_configs,
        "broker_configs": broker_configs,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
