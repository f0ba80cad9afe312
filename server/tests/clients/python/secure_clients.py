"""Security scenarios with confluent-kafka (librdkafka) and kafka-python, over TLS and SASL.

Usage: secure_clients.py MODE JSON_ARGS

The JSON object holds the connection ("bootstrap", "security_protocol", "mechanism", "user",
"password", "ca", optional "cert"/"key" for mTLS) and the mode's own fields. Every mode prints
one JSON line with what happened and exits 0 when the scenario behaved as asked; the Rust test
decides what that means. Every wait has a deadline.

Modes:
  admin        as the given (super) user, create SCRAM users ("users": [[name, password,
               mechanism]]) and ACLs ("acls": [[resource_type, name, pattern, principal,
               operation, permission]]) through AdminClient; print their results.
  round_trip   produce "count" records to "topic", then read them back in group "group";
               prints {"produced": n, "consumed": n} or the error that stopped it.
  kafka_python round_trip with kafka-python.
  expect_auth_failure  connect and expect an authentication error; prints its text.
  produce_acked  produce "count" records ("prefix"-i) to "topic" with acks=all; prints the
               delivered ones as [[partition, offset, value], ...] and any errors.
  read_all     read "topic" ("partitions" of them) from the beginning, without a group, until
               "count" records came; prints [[partition, offset, value], ...].
  transaction  one transaction producing to every partition of "topic", committed; prints
               {"committed": true} or the error.
  produce_payloads  produce "count" records of "value_bytes" pseudo-random bytes each (record
               i to partition i % "partitions", its value a function of i) to "topic" with
               acks=all; prints {"delivered": n, "failed": [...]}.
  read_payloads  read "topic" ("partitions" of them) from the beginning until "count" records
               came, in fetches of up to "partition_fetch_bytes" per partition, and check
               every value byte for byte against produce_payloads'; prints {"records": n,
               "mismatched": [...], "out_of_order": n, "errors": [...]}.
"""

import json
import sys
import time

DEADLINE_S = 60


def confluent_config(args):
    config = {
        "bootstrap.servers": args["bootstrap"],
        "security.protocol": args["security_protocol"],
    }
    if "SASL" in args["security_protocol"] and args.get("mechanism"):
        config["sasl.mechanism"] = args["mechanism"]
        config["sasl.username"] = args["user"]
        config["sasl.password"] = args["password"]
    if "SSL" in args["security_protocol"]:
        config["ssl.ca.location"] = args["ca"]
        # The test CA's broker certificate names 127.0.0.1 and localhost.
        config["ssl.endpoint.identification.algorithm"] = "https"
        if args.get("cert"):
            config["ssl.certificate.location"] = args["cert"]
            config["ssl.key.location"] = args["key"]
    return config


def admin(args):
    from confluent_kafka.admin import (
        AclBinding,
        AclOperation,
        AclPermissionType,
        AdminClient,
        ResourcePatternType,
        ResourceType,
        ScramCredentialInfo,
        ScramMechanism,
        UserScramCredentialUpsertion,
    )

    client = AdminClient(confluent_config(args))
    out = {"users": {}, "acls": []}
    upsertions = [
        UserScramCredentialUpsertion(
            name,
            ScramCredentialInfo(ScramMechanism[mechanism.replace("-", "_")], 8192),
            password.encode(),
        )
        for name, password, mechanism in args.get("users", [])
    ]
    if upsertions:
        for user, future in client.alter_user_scram_credentials(upsertions).items():
            try:
                future.result(timeout=DEADLINE_S)
                out["users"][user] = "ok"
            except Exception as err:  # the test reads the error text
                out["users"][user] = str(err)
    bindings = [
        AclBinding(
            ResourceType[resource_type],
            name,
            ResourcePatternType[pattern],
            principal,
            "*",
            AclOperation[operation],
            AclPermissionType[permission],
        )
        for resource_type, name, pattern, principal, operation, permission in args.get("acls", [])
    ]
    if bindings:
        for binding, future in client.create_acls(bindings).items():
            try:
                future.result(timeout=DEADLINE_S)
                out["acls"].append("ok")
            except Exception as err:
                out["acls"].append(str(err))
    print(json.dumps(out))


def reporting_producer(args, settings):
    """A confluent-kafka producer with `settings`, and where its reports go: (producer, errors
    from error_cb, delivered offsets, failed delivery errors, the on_delivery callback)."""
    from confluent_kafka import Producer

    errors = []
    config = confluent_config(args)
    config["error_cb"] = lambda err: errors.append(str(err))
    producer = Producer(dict(config, **settings))
    delivered = []
    failed = []

    def on_delivery(err, msg):
        (failed if err else delivered).append(str(err) if err else msg.offset())

    return producer, errors, delivered, failed, on_delivery


def round_trip(args):
    from confluent_kafka import Consumer, KafkaException

    producer, errors, delivered, failed, on_delivery = reporting_producer(
        args, {"acks": "all"}
    )

    for i in range(args["count"]):
        producer.produce(args["topic"], value=f"secure-{i}".encode(), on_delivery=on_delivery)
    left = producer.flush(DEADLINE_S)
    if failed or left:
        print(json.dumps({"produced": len(delivered), "error": (failed + errors)[:3]}))
        return
    # The consumer's errors go where the producer's do.
    config = dict(confluent_config(args), error_cb=lambda err: errors.append(str(err)))
    consumer = Consumer(
        dict(
            config,
            **{
                "group.id": args["group"],
                "auto.offset.reset": "earliest",
                "enable.auto.commit": False,
            },
        )
    )
    consumer.subscribe([args["topic"]])
    consumed = []
    deadline = time.monotonic() + DEADLINE_S
    try:
        while len(consumed) < args["count"] and time.monotonic() < deadline:
            msg = consumer.poll(0.5)
            if msg is None:
                continue
            if msg.error():
                print(json.dumps({"produced": len(delivered), "error": [str(msg.error())]}))
                return
            consumed.append(msg.value().decode())
        consumer.commit(asynchronous=False)
    except KafkaException as err:
        print(json.dumps({"produced": len(delivered), "error": [str(err)]}))
        return
    finally:
        consumer.close()
    print(json.dumps({"produced": len(delivered), "consumed": len(consumed),
                      "in_order": consumed == [f"secure-{i}" for i in range(args["count"])]}))


def kafka_python(args):
    from kafka import KafkaConsumer, KafkaProducer

    common = {
        "bootstrap_servers": args["bootstrap"],
        "security_protocol": args["security_protocol"],
        "sasl_mechanism": args["mechanism"],
        "sasl_plain_username": args["user"],
        "sasl_plain_password": args["password"],
        "ssl_cafile": args["ca"],
        "ssl_check_hostname": True,
    }
    producer = KafkaProducer(acks="all", **common)
    futures = [producer.send(args["topic"], f"kp-{i}".encode()) for i in range(args["count"])]
    produced = sum(1 for f in futures if f.get(timeout=DEADLINE_S) is not None)
    producer.close(timeout=DEADLINE_S)
    consumer = KafkaConsumer(
        args["topic"],
        group_id=args["group"],
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        consumer_timeout_ms=DEADLINE_S * 1000,
        **common,
    )
    consumed = []
    for message in consumer:
        consumed.append(message.value.decode())
        if len(consumed) == args["count"]:
            break
    consumer.commit()
    consumer.close()
    print(json.dumps({"produced": produced, "consumed": len(consumed),
                      "in_order": consumed == [f"kp-{i}" for i in range(args["count"])]}))


def expect_auth_failure(args):
    from confluent_kafka import Producer

    errors = []
    config = confluent_config(args)
    config["error_cb"] = lambda err: errors.append(str(err))
    producer = Producer(config)
    producer.produce("auth-failure-probe", value=b"x")
    deadline = time.monotonic() + DEADLINE_S
    while not errors and time.monotonic() < deadline:
        producer.poll(0.2)
    print(json.dumps({"errors": errors[:3]}))


def stream(args):
    """One record every 100 ms for args["seconds"]: what a long-lived producer sees."""
    producer, errors, delivered, failed, on_delivery = reporting_producer(
        args, {"acks": "all", "linger.ms": 0}
    )

    sent = 0
    end = time.monotonic() + args["seconds"]
    while time.monotonic() < end:
        producer.produce(args["topic"], value=f"tick-{sent}".encode(), on_delivery=on_delivery)
        sent += 1
        producer.poll(0.1)
    left = producer.flush(DEADLINE_S)
    print(json.dumps({"sent": sent, "delivered": len(delivered), "failed": failed[:3],
                      "left": left, "errors": errors[:3]}))


def produce_acked(args):
    from confluent_kafka import Producer

    errors = []
    config = confluent_config(args)
    config["error_cb"] = lambda err: errors.append(str(err))
    producer = Producer(dict(config, **{"acks": "all"}))
    delivered = []
    failed = []

    def on_delivery(err, msg):
        if err:
            failed.append(str(err))
        else:
            delivered.append([msg.partition(), msg.offset(), msg.value().decode()])

    for i in range(args["count"]):
        producer.produce(args["topic"], value=f'{args["prefix"]}-{i}'.encode(),
                         on_delivery=on_delivery)
        producer.poll(0)
    left = producer.flush(DEADLINE_S)
    print(json.dumps({"delivered": delivered, "failed": failed[:3], "left": left,
                      "errors": errors[:3]}))


def read_all(args):
    from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

    config = confluent_config(args)
    consumer = Consumer(dict(config, **{"group.id": "read-all-unused",
                                        "enable.auto.commit": False}))
    consumer.assign([TopicPartition(args["topic"], p, OFFSET_BEGINNING)
                     for p in range(args["partitions"])])
    records = []
    errors = []
    deadline = time.monotonic() + DEADLINE_S
    while len(records) < args["count"] and time.monotonic() < deadline:
        msg = consumer.poll(0.5)
        if msg is None:
            continue
        if msg.error():
            errors.append(str(msg.error()))
            continue
        records.append([msg.partition(), msg.offset(), msg.value().decode()])
    consumer.close()
    print(json.dumps({"records": records, "errors": errors[:3]}))


def payload(i, value_bytes):
    """Record i's value: its index, then bytes no two records share (a misplaced or corrupted
    range of a TLS record shows as a mismatch)."""
    import hashlib

    head = f"{i}:".encode()
    return head + hashlib.shake_256(head).digest(value_bytes - len(head))


def produce_payloads(args):
    producer, errors, delivered, failed, on_delivery = reporting_producer(
        args, {"acks": "all", "linger.ms": 5}
    )

    for i in range(args["count"]):
        while True:
            try:
                producer.produce(args["topic"], value=payload(i, args["value_bytes"]),
                                 partition=i % args["partitions"], on_delivery=on_delivery)
                break
            except BufferError:
                producer.poll(0.1)
        producer.poll(0)
    left = producer.flush(DEADLINE_S)
    print(json.dumps({"delivered": len(delivered), "failed": failed[:3], "left": left,
                      "errors": errors[:3]}))


def read_payloads(args):
    from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

    fetch_bytes = args["partition_fetch_bytes"]
    config = confluent_config(args)
    consumer = Consumer(dict(config, **{
        "group.id": "read-payloads-unused",
        "enable.auto.commit": False,
        "max.partition.fetch.bytes": fetch_bytes,
        "fetch.max.bytes": fetch_bytes * args["partitions"],
        "receive.message.max.bytes": fetch_bytes * args["partitions"] + 1024 * 1024,
    }))
    consumer.assign([TopicPartition(args["topic"], p, OFFSET_BEGINNING)
                     for p in range(args["partitions"])])
    records = 0
    mismatched = []
    out_of_order = 0
    last_index = {}
    errors = []
    deadline = time.monotonic() + DEADLINE_S
    while records < args["count"] and time.monotonic() < deadline:
        msg = consumer.poll(0.5)
        if msg is None:
            continue
        if msg.error():
            errors.append(str(msg.error()))
            continue
        records += 1
        value = msg.value()
        try:
            i = int(value.split(b":", 1)[0])
        except ValueError:
            mismatched.append([msg.partition(), msg.offset(), None])
            continue
        if value != payload(i, args["value_bytes"]) or i % args["partitions"] != msg.partition():
            mismatched.append([msg.partition(), msg.offset(), i])
        if i <= last_index.get(msg.partition(), -1):
            out_of_order += 1
        last_index[msg.partition()] = i
    consumer.close()
    print(json.dumps({"records": records, "mismatched": mismatched[:5],
                      "out_of_order": out_of_order, "errors": errors[:3]}))


def transaction(args):
    from confluent_kafka import KafkaException, Producer

    config = confluent_config(args)
    producer = Producer(dict(config, **{"transactional.id": args["transactional_id"]}))
    try:
        producer.init_transactions(DEADLINE_S)
        producer.begin_transaction()
        for p in range(args["partitions"]):
            producer.produce(args["topic"], value=f"txn-{p}".encode(), partition=p)
        producer.commit_transaction(DEADLINE_S)
        print(json.dumps({"committed": True}))
    except KafkaException as err:
        print(json.dumps({"committed": False, "error": str(err)}))


MODES = {
    "produce_payloads": produce_payloads,
    "read_payloads": read_payloads,
    "produce_acked": produce_acked,
    "read_all": read_all,
    "transaction": transaction,
    "stream": stream,
    "admin": admin,
    "round_trip": round_trip,
    "kafka_python": kafka_python,
    "expect_auth_failure": expect_auth_failure,
}

if __name__ == "__main__":
    MODES[sys.argv[1]](json.loads(sys.argv[2]))
