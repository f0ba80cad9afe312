"""Consumer-group scenarios against a real broker, for confluent-kafka and kafka-python.

Members run as separate processes (group_member.py) so one can be SIGKILLed like a crashed
consumer. Messages are produced with confluent-kafka (the producer isn't what's under test).
Prints `VERIFIED scenario=... client=...` when every check passed; exits non-zero otherwise.

Scenarios:
  share-and-kill   3 members on 6 partitions get 2 each; one is SIGKILLed; after the session
                   timeout the other two own all 6; every message produced before and after
                   is acknowledged (committed) exactly once, and the group's committed offsets
                   reach the log end.
  clean-leave      a member that closes cleanly (LeaveGroup) hands its partitions over at once,
                   well before the (long) session timeout.
  restart-commit   phase 1 of the restart test: commit offset 20 (with metadata) on every
                   partition, then close. The topic gets --replication-factor replicas (1).
  restart-resume   phase 2, after the broker was SIGKILLed and restarted: the same group
                   resumes exactly at the committed offsets (auto.offset.reset=latest, so lost
                   commits would show), metadata kept; a new group with earliest reads all, a
                   new group with latest reads only what comes after it joined.
  two-groups       two groups on one topic each read every message, independently.
  static-restart   a static member (group.instance.id) restarts within its session timeout:
                   it gets its partitions back and the other member sees no rebalance.
"""

import argparse
import json
import os
import subprocess
import sys
import threading
import time

from confluent_kafka import Consumer, ConsumerGroupState, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

HERE = os.path.dirname(os.path.abspath(__file__))
WAIT_S = 90


class Failed(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failed(message)


class Member:
    """A group_member.py process and what it reported."""

    def __init__(self, args, name, group, topic, session_ms, reset="earliest", instance=None):
        self.name = name
        self.lock = threading.Lock()
        self.assigned = None
        self.acks = []
        self.failed = []
        self.events = []
        self.stderr_path = os.path.join(args.work_dir, f"{name}.stderr")
        self.stderr = open(self.stderr_path, "w")
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "group_member.py"), "--client", args.client,
             "--bootstrap", args.bootstrap, "--group", group, "--topic", topic, "--name", name,
             "--session-ms", str(session_ms), "--reset", reset]
            + (["--instance", instance] if instance else []),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr, text=True)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            with self.lock:
                self.events.append(event)
                if event["event"] == "assigned":
                    self.assigned = event["partitions"]
                elif event["event"] == "ack":
                    self.acks.append((event["p"], event["o"]))
                elif event["event"] == "commit_failed":
                    self.failed.append((event["p"], event["o"]))

    def partitions(self):
        with self.lock:
            return self.assigned

    def assignments_seen(self):
        with self.lock:
            return sum(1 for e in self.events if e["event"] == "assigned")

    def acked(self):
        with self.lock:
            return list(self.acks)

    def kill(self):
        self.proc.kill()
        self.proc.wait()

    def close(self):
        if self.proc.poll() is None:
            self.proc.stdin.write("close\n")
            self.proc.stdin.flush()
        self.proc.wait(timeout=WAIT_S)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.stderr.close()

    def describe(self):
        with self.lock:
            tail = self.events[-8:]
        with open(self.stderr_path) as f:
            err = f.read()[-2000:]
        return f"{self.name}: assigned={self.assigned} acks={len(self.acks)} " \
               f"failed={len(self.failed)} last={tail}\n  stderr: {err}"


def wait_until(what, predicate, members, timeout_s=WAIT_S):
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        if predicate():
            return time.time()
        time.sleep(0.1)
    raise Failed(f"timed out waiting until {what}\n" + "\n".join(m.describe() for m in members))


def described_group(admin, group):
    """(state, {group instance id: (member id, sorted partitions)}) as DescribeGroups says."""
    description = admin.describe_consumer_groups([group])[group].result(timeout=30)
    members = {m.group_instance_id: (m.member_id,
                                     sorted(tp.partition for tp in m.assignment.topic_partitions))
               for m in description.members}
    return description.state, members


def create_topic(bootstrap, topic, partitions, replication_factor=1):
    admin = AdminClient({"bootstrap.servers": bootstrap})
    new = NewTopic(topic, partitions, replication_factor)
    for future in admin.create_topics([new]).values():
        future.result(timeout=30)
    # Wait until metadata shows every partition.
    deadline = time.time() + 30
    while time.time() < deadline:
        meta = admin.list_topics(topic, timeout=10)
        if topic in meta.topics and len(meta.topics[topic].partitions) == partitions:
            return
        time.sleep(0.1)
    raise Failed(f"topic {topic} never showed {partitions} partitions")


def produce(bootstrap, topic, partitions, count):
    """Produces `count` messages round-robin over partitions; returns their (p, o).

    Idempotent, so that a retry (a leader change, or NOT_ENOUGH_REPLICAS_AFTER_APPEND on a
    replicated topic) does not store a message twice: the scenarios count on each partition
    holding exactly what was produced to it."""
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 5,
                         "enable.idempotence": True})
    delivered = []
    errors = []

    def on_delivery(err, msg):
        if err is not None:
            errors.append(err)
        else:
            delivered.append((msg.partition(), msg.offset()))

    for i in range(count):
        producer.produce(topic, value=b"m%d" % i, key=b"k%d" % i, partition=i % partitions,
                         on_delivery=on_delivery)
    remaining = producer.flush(WAIT_S)
    check(remaining == 0 and not errors, f"produce failed: remaining={remaining} {errors[:3]}")
    check(len(delivered) == count, f"only {len(delivered)} of {count} delivered")
    return delivered


def committed_and_end(bootstrap, group, topic, partitions):
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
    try:
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        committed = {tp.partition: tp for tp in c.committed(tps, timeout=30)}
        ends = {p: c.get_watermark_offsets(TopicPartition(topic, p), timeout=30)[1]
                for p in range(partitions)}
        return committed, ends
    finally:
        c.close()


def exactly_once(members, produced, what):
    acks = [a for m in members for a in m.acked()]
    dups = len(acks) - len(set(acks))
    missing = set(produced) - set(acks)
    extra = set(acks) - set(produced)
    check(dups == 0, f"{what}: {dups} messages acknowledged twice")
    check(not missing, f"{what}: {len(missing)} messages never acknowledged, e.g. {sorted(missing)[:5]}")
    check(not extra, f"{what}: acknowledged messages never produced: {sorted(extra)[:5]}")


def all_acked(members, produced):
    wanted = set(produced)
    return lambda: wanted <= {a for m in members for a in m.acked()}


def share_and_kill(args):
    topic, group, partitions = f"{args.prefix}-share", f"{args.prefix}-share-group", 6
    create_topic(args.bootstrap, topic, partitions)
    before = produce(args.bootstrap, topic, partitions, 300)
    members = [Member(args, f"{args.prefix}-m{i}", group, topic, 6000) for i in range(3)]
    try:
        def two_each():
            owned = [m.partitions() for m in members]
            return all(o is not None and len(o) == 2 for o in owned) and \
                sorted(p for o in owned for p in o) == list(range(partitions))
        wait_until("3 members own 2 partitions each", two_each, members)
        wait_until("every message produced before the kill is acknowledged",
                   all_acked(members, before), members)
        victim, survivors = members[2], members[:2]
        victim.kill()
        killed_at = time.time()
        after = produce(args.bootstrap, topic, partitions, 300)

        def survivors_own_all():
            owned = [m.partitions() or [] for m in survivors]
            return sorted(p for o in owned for p in o) == list(range(partitions))
        took = wait_until("the 2 survivors own all 6 partitions", survivors_own_all, survivors) - killed_at
        wait_until("every message produced after the kill is acknowledged",
                   all_acked(survivors, after), survivors)
        exactly_once(members, before + after, "share-and-kill")
        committed, ends = committed_and_end(args.bootstrap, group, topic, partitions)
        for p in range(partitions):
            check(committed[p].offset == ends[p],
                  f"partition {p}: committed {committed[p].offset} != log end {ends[p]}")
        print(f"survivors took over {took:.1f}s after the kill (session timeout 6s)")
    finally:
        for m in members:
            m.stop()


def clean_leave(args):
    topic, group, partitions = f"{args.prefix}-leave", f"{args.prefix}-leave-group", 6
    session_ms = 60_000
    create_topic(args.bootstrap, topic, partitions)
    members = [Member(args, f"{args.prefix}-l{i}", group, topic, session_ms) for i in range(2)]
    try:
        def three_each():
            owned = [m.partitions() for m in members]
            return all(o is not None and len(o) == 3 for o in owned)
        wait_until("2 members own 3 partitions each", three_each, members)
        leaver, stayer = members
        leaver.close()
        left_at = time.time()
        took = wait_until("the remaining member owns all 6 partitions",
                          lambda: stayer.partitions() == list(range(partitions)), [stayer]) - left_at
        # A timeout-driven takeover would need the 60 s session timeout to pass.
        check(took < session_ms / 1000 / 2, f"takeover took {took:.1f}s: not immediate")
        produced = produce(args.bootstrap, topic, partitions, 60)
        wait_until("the remaining member acknowledges everything", all_acked([stayer], produced), [stayer])
        exactly_once([stayer], produced, "clean-leave")
        print(f"takeover {took:.1f}s after a clean leave (session timeout {session_ms // 1000}s)")
    finally:
        for m in members:
            m.stop()


RESTART_PARTITIONS = 3
RESTART_PER_PARTITION = 30
RESTART_COMMITTED = 20


def restart_commit(args):
    topic, group = f"{args.prefix}-restart", f"{args.prefix}-restart-group"
    create_topic(args.bootstrap, topic, RESTART_PARTITIONS, args.replication_factor)
    produce(args.bootstrap, topic, RESTART_PARTITIONS, RESTART_PARTITIONS * RESTART_PER_PARTITION)
    client = CLIENTS[args.client](args.bootstrap)
    client.commit_after_reading(group, topic, RESTART_PARTITIONS, RESTART_COMMITTED)


def restart_resume(args):
    topic, group = f"{args.prefix}-restart", f"{args.prefix}-restart-group"
    client = CLIENTS[args.client](args.bootstrap)
    for p, (offset, metadata) in client.committed(group, topic, RESTART_PARTITIONS).items():
        check(offset == RESTART_COMMITTED, f"after restart partition {p} committed {offset}")
        check(metadata == f"meta-{p}", f"partition {p} metadata lost: {metadata!r}")
    # latest: if the committed offsets were lost, this group would read nothing.
    remaining = RESTART_PARTITIONS * (RESTART_PER_PARTITION - RESTART_COMMITTED)
    got = client.subscribe_and_read(group, topic, "latest", remaining)
    want = {(p, o) for p in range(RESTART_PARTITIONS)
            for o in range(RESTART_COMMITTED, RESTART_PER_PARTITION)}
    check(sorted(got) == sorted(want),
          f"resumed at the wrong place: {len(got)} read, missing {sorted(set(want) - set(got))}, "
          f"unexpected {sorted(set(got) - set(want))}, read twice "
          f"{sorted(x for x in set(got) if got.count(x) > 1)}")
    total = RESTART_PARTITIONS * RESTART_PER_PARTITION
    got = client.subscribe_and_read(f"{group}-earliest", topic, "earliest", total)
    check(len(got) == total and len(set(got)) == total, f"earliest read {len(got)} of {total}")
    got = client.subscribe_and_read(
        f"{group}-latest", topic, "latest", 9,
        when_assigned=lambda: produce(args.bootstrap, topic, RESTART_PARTITIONS, 9))
    new_offsets = {(p, RESTART_PER_PARTITION + i) for p in range(RESTART_PARTITIONS) for i in range(3)}
    check(set(got) == new_offsets, f"latest group read {sorted(got)} instead of {sorted(new_offsets)}")


class ConfluentClient:
    def __init__(self, bootstrap):
        self.bootstrap = bootstrap

    def consumer(self, group, reset="earliest", **extra):
        return Consumer({"bootstrap.servers": self.bootstrap, "group.id": group,
                         "auto.offset.reset": reset, "enable.auto.commit": False, **extra})

    def commit_after_reading(self, group, topic, partitions, upto):
        c = self.consumer(group)
        try:
            c.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
            seen = {p: 0 for p in range(partitions)}
            deadline = time.time() + WAIT_S
            while min(seen.values()) < upto and time.time() < deadline:
                m = c.poll(0.5)
                if m is not None and not m.error():
                    seen[m.partition()] = max(seen[m.partition()], m.offset() + 1)
            check(min(seen.values()) >= upto, f"consumed only {seen}")
            offsets = [TopicPartition(topic, p, upto, f"meta-{p}") for p in range(partitions)]
            for tp in c.commit(offsets=offsets, asynchronous=False):
                check(tp.error is None, f"commit failed: {tp}")
        finally:
            c.close()

    def committed(self, group, topic, partitions):
        c = self.consumer(group)
        try:
            tps = c.committed([TopicPartition(topic, p) for p in range(partitions)], timeout=30)
            return {tp.partition: (tp.offset, tp.metadata) for tp in tps}
        finally:
            c.close()

    def subscribe_and_read(self, group, topic, reset, want, when_assigned=None):
        # Partition -> the offset librdkafka fetches from once it resolved `reset` (its
        # statistics: position() stays unset until a message arrives).
        fetching = {}

        def on_stats(text):
            partitions = json.loads(text).get("topics", {}).get(topic, {}).get("partitions", {})
            for p, stats in partitions.items():
                if p != "-1":
                    active = stats["fetch_state"] == "active" and stats["next_offset"] >= 0
                    fetching[int(p)] = stats["next_offset"] if active else None

        def resolved():
            owned = [tp.partition for tp in c.assignment()]
            return bool(owned) and all(fetching.get(p) is not None for p in owned)

        c = self.consumer(group, reset, **{"statistics.interval.ms": 100, "stats_cb": on_stats})
        assigned = threading.Event()
        c.subscribe([topic], on_assign=lambda _c, _ps: assigned.set())
        got = []
        deadline = time.time() + WAIT_S
        try:
            if when_assigned is not None:
                while not assigned.is_set() and time.time() < deadline:
                    got += self._poll(c)
                check(assigned.is_set(), f"group {group} never got an assignment")
                # "latest" must be a position before anything new is produced.
                while not resolved() and time.time() < deadline:
                    got += self._poll(c)
                check(resolved(), f"group {group} never resolved its start offsets: {fetching}")
                when_assigned()
            while len(got) < want and time.time() < deadline:
                got += self._poll(c)
            return got
        finally:
            c.close()

    @staticmethod
    def _poll(c):
        m = c.poll(0.2)
        if m is None or m.error():
            return []
        return [(m.partition(), m.offset())]


class KafkaPythonClient:
    def __init__(self, bootstrap):
        self.bootstrap = bootstrap

    def consumer(self, group, reset="earliest"):
        from kafka import KafkaConsumer
        return KafkaConsumer(bootstrap_servers=self.bootstrap, group_id=group,
                             auto_offset_reset=reset, enable_auto_commit=False)

    def commit_after_reading(self, group, topic, partitions, upto):
        from kafka import TopicPartition as KTP
        from kafka.structs import OffsetAndMetadata
        c = self.consumer(group)
        try:
            tps = [KTP(topic, p) for p in range(partitions)]
            c.assign(tps)
            c.seek_to_beginning()
            seen = {p: 0 for p in range(partitions)}
            deadline = time.time() + WAIT_S
            while min(seen.values()) < upto and time.time() < deadline:
                for tp, msgs in c.poll(timeout_ms=500).items():
                    for m in msgs:
                        seen[tp.partition] = max(seen[tp.partition], m.offset + 1)
            check(min(seen.values()) >= upto, f"consumed only {seen}")
            c.commit({tp: OffsetAndMetadata(upto, f"meta-{tp.partition}", -1) for tp in tps})
        finally:
            c.close()

    def committed(self, group, topic, partitions):
        from kafka import TopicPartition as KTP
        c = self.consumer(group)
        try:
            out = {}
            for p in range(partitions):
                om = c.committed(KTP(topic, p), metadata=True)
                out[p] = (om.offset, om.metadata) if om is not None else (None, None)
            return out
        finally:
            c.close()

    def subscribe_and_read(self, group, topic, reset, want, when_assigned=None):
        c = self.consumer(group, reset)
        c.subscribe([topic])
        got = []
        deadline = time.time() + WAIT_S
        try:
            if when_assigned is not None:
                while not c.assignment() and time.time() < deadline:
                    got += self._poll(c)
                check(bool(c.assignment()), f"group {group} never got an assignment")
                for tp in c.assignment():
                    c.position(tp)  # resolves "latest" now, before anything new arrives
                when_assigned()
            while len(got) < want and time.time() < deadline:
                got += self._poll(c)
            return got
        finally:
            c.close()

    @staticmethod
    def _poll(c):
        return [(tp.partition, m.offset) for tp, msgs in c.poll(timeout_ms=200).items() for m in msgs]


CLIENTS = {"confluent": ConfluentClient, "kafka-python": KafkaPythonClient}


def two_groups(args):
    topic, partitions = f"{args.prefix}-two", 4
    create_topic(args.bootstrap, topic, partitions)
    produced = produce(args.bootstrap, topic, partitions, 200)
    groups = {g: [Member(args, f"{args.prefix}-{g}{i}", f"{args.prefix}-{g}", topic, 6000)
                  for i in range(2)] for g in ("a", "b")}
    everyone = [m for ms in groups.values() for m in ms]
    try:
        for g, ms in groups.items():
            wait_until(f"group {g} acknowledges every message", all_acked(ms, produced), everyone)
        for g, ms in groups.items():
            exactly_once(ms, produced, f"group {g}")
    finally:
        for m in everyone:
            m.stop()


def static_restart(args):
    topic, group, partitions = f"{args.prefix}-static", f"{args.prefix}-static-group", 4
    session_ms = 30_000
    create_topic(args.bootstrap, topic, partitions)
    a = Member(args, f"{args.prefix}-sa", group, topic, session_ms, instance="static-a")
    b = Member(args, f"{args.prefix}-sb", group, topic, session_ms, instance="static-b")
    members = [a, b]
    try:
        def two_each():
            owned = [m.partitions() for m in (a, b)]
            return all(o is not None and len(o) == 2 for o in owned)
        wait_until("2 static members own 2 partitions each", two_each, members)
        b_partitions = b.partitions()
        a_events = a.assignments_seen()
        admin = AdminClient({"bootstrap.servers": args.bootstrap})
        state, before = described_group(admin, group)
        check(state == ConsumerGroupState.STABLE and set(before) == {"static-a", "static-b"},
              f"before the restart the group is {state} with {before}")
        b.close()
        b2 = Member(args, f"{args.prefix}-sb2", group, topic, session_ms, instance="static-b")
        members.append(b2)
        wait_until("the restarted static member gets its old partitions back",
                   lambda: b2.partitions() == b_partitions, members)
        # A rebalance would leave the group PreparingRebalance until `a` rejoined, and `a`
        # reports the revocation before it rejoins: once the group is Stable with `a` as it was
        # and static-b under a new member id (the restarted member's), `a`'s events tell.
        last = []

        def settled():
            last[:] = [described_group(admin, group)]
            state, now = last[0]
            return (state == ConsumerGroupState.STABLE and set(now) == {"static-a", "static-b"}
                    and now["static-a"] == before["static-a"]
                    and now["static-b"][0] != before["static-b"][0]
                    and now["static-b"][1] == b_partitions)
        try:
            wait_until("the group is Stable with a as it was and static-b rejoined", settled,
                       members)
        except Failed as e:
            raise Failed(f"{e}\nlast described: {last}, before the restart: {before}") from None
        check(a.assignments_seen() == a_events,
              "the other member saw a rebalance: a static restart must not cause one\n"
              + "\n".join(m.describe() for m in members))
        check(b2.partitions() == b_partitions, f"restarted member moved to {b2.partitions()}")
        produced = produce(args.bootstrap, topic, partitions, 40)
        wait_until("both members acknowledge everything", all_acked([a, b2], produced), members)
        exactly_once([a, b2], produced, "static-restart")
    finally:
        for m in members:
            m.stop()


SCENARIOS = {
    "static-restart": static_restart,
    "share-and-kill": share_and_kill,
    "clean-leave": clean_leave,
    "restart-commit": restart_commit,
    "restart-resume": restart_resume,
    "two-groups": two_groups,
}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--client", choices=["confluent", "kafka-python"], required=True)
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), required=True)
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--work-dir", required=True)
    # Replicas of the topic restart-commit creates (the replication tests use 3).
    parser.add_argument("--replication-factor", type=int, default=1)
    args = parser.parse_args()
    try:
        SCENARIOS[args.scenario](args)
    except Failed as e:
        print(f"FAILED scenario={args.scenario} client={args.client}: {e}", file=sys.stderr)
        sys.exit(1)
    print(f"VERIFIED scenario={args.scenario} client={args.client}")


if __name__ == "__main__":
    main()
