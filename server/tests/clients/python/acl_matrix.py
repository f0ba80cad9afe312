"""ACL matrix steps with confluent-kafka (librdkafka) over SASL_PLAINTEXT with PLAIN.

Usage: acl_matrix.py JSON_ARGS

The JSON object holds the connection ("bootstrap", "user", "password"), optionally "acls"
(bindings the user creates through AdminClient.create_acls: [resource_type, name, pattern,
principal, operation, permission]) and "steps": a list of [step, {params}] run in order. Each
step's outcome is "ok" or the name of the Kafka error that refused it (as librdkafka names it,
e.g. TOPIC_AUTHORIZATION_FAILED); "errors" lists every error seen on the way ("NAME: text").
Prints one JSON line {"acls": [...], "results": [{"step", "outcome", "errors", ...}]} and
exits 0; the Rust test decides what the outcomes mean. Every wait has a deadline.
"""

import json
import sys
import time

from confluent_kafka import (
    Consumer,
    KafkaError,
    KafkaException,
    Producer,
    TopicPartition,
)
from confluent_kafka.admin import (
    AclBinding,
    AclOperation,
    AclPermissionType,
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    NewPartitions,
    NewTopic,
    OffsetSpec,
    ResourcePatternType,
    ResourceType,
)

# Bounds every client call: a step never waits longer than this.
STEP_TIMEOUT_S = 20
# Consumers poll at most this long for their records (or a refusal).
CONSUME_TIMEOUT_S = 30


def client_config(args):
    return {
        "bootstrap.servers": args["bootstrap"],
        "security.protocol": "SASL_PLAINTEXT",
        "sasl.mechanism": "PLAIN",
        "sasl.username": args["user"],
        "sasl.password": args["password"],
    }


def name_of(err):
    """The Kafka error name of an exception or KafkaError, or its type and text."""
    if isinstance(err, KafkaException) and err.args and isinstance(err.args[0], KafkaError):
        err = err.args[0]
    if isinstance(err, KafkaError):
        return err.name()
    return f"{type(err).__name__}: {err}"


def describe(err):
    if isinstance(err, KafkaException) and err.args and isinstance(err.args[0], KafkaError):
        err = err.args[0]
    if isinstance(err, KafkaError):
        return f"{err.name()}: {err.str()}"
    return f"{type(err).__name__}: {err}"


class Step:
    """What one step saw: its outcome, every error on the way, and extra facts."""

    def __init__(self, name):
        self.out = {"step": name, "outcome": "ok", "errors": []}
        self.fatal = False

    def error(self, err):
        self.out["errors"].append(describe(err))
        if isinstance(err, KafkaException) and err.args and isinstance(err.args[0], KafkaError):
            err = err.args[0]
        if isinstance(err, KafkaError) and err.fatal():
            self.fatal = True

    def refuse(self, err):
        self.error(err)
        if self.out["outcome"] == "ok":
            self.out["outcome"] = name_of(err)


def admin_client(args):
    return AdminClient(client_config(args))


def create_acls(args):
    client = admin_client(args)
    bindings = [
        AclBinding(
            # confluent-kafka names Kafka's CLUSTER resource type BROKER.
            ResourceType["BROKER" if resource_type == "CLUSTER" else resource_type],
            name,
            ResourcePatternType[pattern],
            principal,
            "*",
            AclOperation[operation],
            AclPermissionType[permission],
        )
        for resource_type, name, pattern, principal, operation, permission in args["acls"]
    ]
    results = []
    for _, future in client.create_acls(bindings, request_timeout=STEP_TIMEOUT_S).items():
        try:
            future.result(timeout=STEP_TIMEOUT_S)
            results.append("ok")
        except Exception as err:
            results.append(describe(err))
    return results


def first_broker_id(client):
    return next(iter(client.list_topics(timeout=STEP_TIMEOUT_S).brokers))


def admin_step(step, args, params):
    """Steps that are one AdminClient call."""
    client = admin_client(args)
    name = step.out["step"]
    topic = params.get("topic")
    if name == "create_topic":
        new = NewTopic(topic, num_partitions=params.get("partitions", 1), replication_factor=1)
        client.create_topics([new], request_timeout=STEP_TIMEOUT_S)[topic].result(STEP_TIMEOUT_S)
    elif name == "create_partitions":
        grow = NewPartitions(topic, params["count"])
        client.create_partitions([grow], request_timeout=STEP_TIMEOUT_S)[topic].result(
            STEP_TIMEOUT_S
        )
    elif name == "describe_configs":
        resource = ConfigResource(ResourceType.TOPIC, topic)
        configs = client.describe_configs([resource], request_timeout=STEP_TIMEOUT_S)
        step.out["configs"] = sorted(configs[resource].result(STEP_TIMEOUT_S))
    elif name == "describe_broker_configs":
        resource = ConfigResource(ResourceType.BROKER, str(first_broker_id(client)))
        configs = client.describe_configs([resource], request_timeout=STEP_TIMEOUT_S)
        step.out["configs"] = sorted(configs[resource].result(STEP_TIMEOUT_S))
    elif name == "alter_configs":
        entry = ConfigEntry(
            "retention.ms", "3600000", incremental_operation=AlterConfigOpType.SET
        )
        resource = ConfigResource(ResourceType.TOPIC, topic, incremental_configs=[entry])
        futures = client.incremental_alter_configs([resource], request_timeout=STEP_TIMEOUT_S)
        futures[resource].result(STEP_TIMEOUT_S)
    elif name == "metadata":
        listed = client.list_topics(topic=topic, timeout=STEP_TIMEOUT_S).topics.get(topic)
        if listed is None:
            step.out["outcome"] = "MISSING"
        elif listed.error is not None:
            step.refuse(listed.error)
        every = client.list_topics(timeout=STEP_TIMEOUT_S).topics
        step.out["in_all_topics"] = topic in every
    elif name == "list_offsets":
        tp = TopicPartition(topic, 0)
        futures = client.list_offsets({tp: OffsetSpec.latest()}, request_timeout=STEP_TIMEOUT_S)
        step.out["offset"] = futures[tp].result(STEP_TIMEOUT_S).offset
    elif name == "list_groups":
        listed = client.list_consumer_groups(request_timeout=STEP_TIMEOUT_S).result(
            STEP_TIMEOUT_S
        )
        for err in listed.errors:
            step.error(err)
        step.out["groups"] = sorted(g.group_id for g in listed.valid)
    elif name == "describe_group":
        group = params["group"]
        futures = client.describe_consumer_groups([group], request_timeout=STEP_TIMEOUT_S)
        step.out["state"] = str(futures[group].result(STEP_TIMEOUT_S).state)
    elif name == "delete_group":
        group = params["group"]
        futures = client.delete_consumer_groups([group], request_timeout=STEP_TIMEOUT_S)
        futures[group].result(STEP_TIMEOUT_S)
    elif name == "describe_cluster":
        described = client.describe_cluster(
            include_authorized_operations=True, request_timeout=STEP_TIMEOUT_S
        ).result(STEP_TIMEOUT_S)
        operations = described.authorized_operations
        step.out["operations"] = None if operations is None else sorted(o.name for o in operations)
    elif name == "delete_topic":
        client.delete_topics([topic], request_timeout=STEP_TIMEOUT_S)[topic].result(
            STEP_TIMEOUT_S
        )
    else:
        raise ValueError(f"unknown step {name}")


def produce(step, args, params, idempotent):
    config = client_config(args)
    config.update(
        {
            "acks": "all",
            "enable.idempotence": idempotent,
            "message.timeout.ms": STEP_TIMEOUT_S * 1000,
            "error_cb": step.error,
        }
    )
    producer = Producer(config)
    delivered = []

    def on_delivery(err, _msg):
        if err is not None:
            step.refuse(err)
        else:
            delivered.append(1)

    count = params.get("count", 10)
    for i in range(count):
        try:
            producer.produce(
                params["topic"], value=f"{args['user']}-{i}", on_delivery=on_delivery
            )
        except KafkaException as err:
            # librdkafka refuses at once a topic its metadata already names unauthorized
            # ("Unable to produce message"): a refusal like a failed delivery, and the
            # producer's own errors (a refused InitProducerId) are still to be awaited below.
            step.refuse(err)
    left = producer.flush(STEP_TIMEOUT_S + 5)
    step.out["delivered"] = len(delivered)
    if idempotent and len(delivered) != count:
        # A refused InitProducerId is a fatal error of the producer, which may come after its
        # records already failed on their topic: wait for it, or for the deadline.
        deadline = time.monotonic() + STEP_TIMEOUT_S
        while not step.fatal and time.monotonic() < deadline:
            try:
                producer.poll(0.2)
            except KafkaException as err:
                step.error(err)
                break
    if step.out["outcome"] == "ok" and (left or len(delivered) != count):
        step.out["outcome"] = "NOT_DELIVERED"


def consumer(args, params, step, extra=None):
    config = client_config(args)
    config.update(
        {
            "group.id": params.get("group", "matrix-unused"),
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
            "session.timeout.ms": 6000,
            "error_cb": step.error,
        }
    )
    config.update(extra or {})
    return Consumer(config)


def poll_records(step, consumer_client, count, ignored=()):
    """Polls until `count` records, a refusal, or the deadline. Errors named in `ignored` are
    recorded but refuse nothing."""
    records = 0
    deadline = time.monotonic() + CONSUME_TIMEOUT_S
    while records < count and time.monotonic() < deadline:
        msg = consumer_client.poll(0.5)
        if msg is None:
            continue
        if msg.error() is not None:
            if msg.error().code() == KafkaError._PARTITION_EOF:
                continue
            if msg.error().name() in ignored:
                step.error(msg.error())
                continue
            step.refuse(msg.error())
            if "AUTHORIZATION" in msg.error().name():
                break
            continue
        records += 1
    step.out["consumed"] = records
    return records


def consume_group(step, args, params):
    """Subscribes in a group, reads `count` records and commits them."""
    count = params.get("count", 10)
    client = consumer(args, params, step)
    try:
        client.subscribe([params["topic"]])
        records = poll_records(step, client, count)
        if records:
            for tp in client.commit(asynchronous=False) or []:
                if tp.error is not None:
                    step.refuse(tp.error)
        if step.out["outcome"] == "ok" and records != count:
            step.out["outcome"] = "NOT_CONSUMED"
    finally:
        client.close()


def fetch_assigned(step, args, params):
    """Reads partition 0 from offset 0, assigned: a plain fetch. librdkafka still looks up the
    coordinator of its (mandatory) group.id, whose refusal says nothing about the fetch."""
    client = consumer(args, params, step)
    try:
        client.assign([TopicPartition(params["topic"], 0, 0)])
        ignored = ("GROUP_AUTHORIZATION_FAILED",)
        if poll_records(step, client, 1, ignored) != 1 and step.out["outcome"] == "ok":
            step.out["outcome"] = "NOT_CONSUMED"
    finally:
        client.close()


def commit(step, args, params):
    """Commits offset 1 of partition 0 for the group, without joining it."""
    client = consumer(args, params, step)
    try:
        offsets = [TopicPartition(params["topic"], 0, 1)]
        for tp in client.commit(offsets=offsets, asynchronous=False) or []:
            if tp.error is not None:
                step.refuse(tp.error)
    finally:
        client.close()


def transaction(step, args, params):
    """A transaction that writes records and the group's offsets (send_offsets_to_transaction)."""
    config = client_config(args)
    config.update(
        {
            "transactional.id": params["transactional_id"],
            "transaction.timeout.ms": 30000,
            "message.timeout.ms": STEP_TIMEOUT_S * 1000,
            "error_cb": step.error,
        }
    )
    producer = Producer(config)
    group_member = consumer(args, params, step)
    try:
        producer.init_transactions(STEP_TIMEOUT_S)
        producer.begin_transaction()
        for i in range(params.get("count", 5)):
            producer.produce(params["topic"], value=f"txn-{i}")
        offsets = [TopicPartition(params["topic"], 0, 1)]
        metadata = group_member.consumer_group_metadata()
        producer.send_offsets_to_transaction(offsets, metadata, STEP_TIMEOUT_S)
        producer.commit_transaction(STEP_TIMEOUT_S)
    finally:
        group_member.close()


def idempotent_produce(step, args, params):
    produce(step, args, params, True)


def plain_produce(step, args, params):
    produce(step, args, params, False)


CLIENT_STEPS = {
    "produce": plain_produce,
    "idempotent_produce": idempotent_produce,
    "consume_group": consume_group,
    "fetch_assigned": fetch_assigned,
    "commit": commit,
    "transaction": transaction,
}


def run_step(args, name, params):
    step = Step(name)
    try:
        runner = CLIENT_STEPS.get(name, admin_step)
        runner(step, args, params)
    except Exception as err:  # the outcome names the error; the Rust test judges it
        step.refuse(err)
    return step.out


def main():
    args = json.loads(sys.argv[1])
    out = {"acls": [], "results": []}
    if args.get("acls"):
        out["acls"] = create_acls(args)
    for name, params in args.get("steps", []):
        out["results"].append(run_step(args, name, params))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
