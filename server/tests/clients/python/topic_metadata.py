"""What the cluster's metadata says about a topic, for the scripts that create one."""

import time

POLL_INTERVAL_S = 0.1


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
        time.sleep(POLL_INTERVAL_S)
