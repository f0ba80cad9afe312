"""The round-trip scenario shared by the Python client scripts.

A script produces `count` keyed messages with headers and explicit CreateTime
timestamps through one client, then reads every partition back from offset 0
through the same client and checks, byte for byte, that each (partition, offset)
holds exactly what the producer's delivery report said it would. It also checks
ListOffsets earliest, latest and by timestamp against the same model.

The messages are generated from a fixed seed, so a failure is reproducible.
Success prints one `VERIFIED codec=<codec> messages=<n> partitions=<p>` line per
codec: the Rust test requires that line, so a script that silently did nothing
cannot pass.
"""

import argparse
import random
import sys
import time

HOUR_MS = 3_600_000


class Message:
    """One produced message and, once acknowledged, where it landed."""

    __slots__ = ("index", "key", "value", "headers", "timestamp_ms", "partition", "offset")

    def __init__(self, index, key, value, headers, timestamp_ms):
        self.index = index
        self.key = key
        self.value = value
        self.headers = headers
        self.timestamp_ms = timestamp_ms
        self.partition = None
        self.offset = None


def parse_args(description):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--bootstrap", required=True, help="HOST:PORT of the broker")
    parser.add_argument("--topic-prefix", required=True)
    parser.add_argument("--codecs", default="none,gzip,snappy,lz4,zstd")
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--partitions", type=int, default=6)
    parser.add_argument("--seed", type=int, default=20261121)
    return parser.parse_args()


def generate_messages(count, seed):
    """Keyed messages with binary keys, values and headers.

    Timestamps start an hour in the past (well inside the default retention)
    and rise by 2 ms per message, so by-time lookups have exact answers.
    """
    rng = random.Random(seed)
    base_ts = int(time.time() * 1000) - HOUR_MS
    messages = []
    for i in range(count):
        key = b"key-%05d-" % i + rng.randbytes(rng.randint(0, 24))
        if i % 1000 == 999:
            value = None  # a tombstone-style null value must stay null
        elif i % 97 == 0:
            value = b""
        elif i % 500 == 0:
            value = rng.randbytes(20_000)
        else:
            value = rng.randbytes(rng.randint(1, 200)) + b"sluice" * rng.randint(0, 40)
        headers = [
            ("idx", str(i).encode()),
            ("bin", rng.randbytes(8) + b"\x00\xff"),
            ("dup", b"first"),
            ("dup", b"second"),
        ]
        messages.append(Message(i, key, value, headers, base_ts + 2 * i))
    return messages


class Mismatch(Exception):
    pass


def check(condition, what):
    if not condition:
        raise Mismatch(what)


def by_partition(messages):
    """{partition: [messages sorted by offset]} from acknowledged messages."""
    parts = {}
    for m in messages:
        check(m.partition is not None and m.offset is not None and m.offset >= 0,
              f"message {m.index} was never acknowledged with an offset")
        parts.setdefault(m.partition, []).append(m)
    for p, ms in parts.items():
        ms.sort(key=lambda m: m.offset)
        offsets = [m.offset for m in ms]
        check(offsets == list(range(len(ms))),
              f"partition {p}: acknowledged offsets are not 0..{len(ms) - 1}: "
              f"first few {offsets[:10]}")
    return parts


def compare_consumed(expected_parts, consumed):
    """`consumed` maps (partition, offset) -> (key, value, headers, ts_type_is_create, ts)."""
    expected_total = sum(len(ms) for ms in expected_parts.values())
    check(len(consumed) == expected_total,
          f"consumed {len(consumed)} distinct offsets, expected {expected_total}")
    for p, ms in expected_parts.items():
        for m in ms:
            got = consumed.get((p, m.offset))
            check(got is not None, f"partition {p} offset {m.offset} missing")
            key, value, headers, is_create_time, ts = got
            where = f"partition {p} offset {m.offset} (message {m.index})"
            check(key == m.key, f"{where}: key {key!r} != {m.key!r}")
            check(value == m.value, f"{where}: value differs ({len(value or b'')} bytes "
                                    f"vs {len(m.value or b'')} bytes, null={value is None})")
            check(list(headers) == m.headers, f"{where}: headers {headers!r} != {m.headers!r}")
            check(is_create_time, f"{where}: timestamp type is not CreateTime")
            check(ts == m.timestamp_ms, f"{where}: timestamp {ts} != {m.timestamp_ms}")


def expected_offset_for_time(ms, timestamp_ms):
    """First offset whose timestamp is >= timestamp_ms, or None when there is none."""
    for m in ms:
        if m.timestamp_ms >= timestamp_ms:
            return m.offset
    return None


def time_probes(ms):
    """Timestamps to look up in one partition: before all, exact hits, between, after all."""
    probes = [ms[0].timestamp_ms - 10_000, ms[0].timestamp_ms]
    for m in (ms[len(ms) // 3], ms[len(ms) // 2], ms[-1]):
        probes.append(m.timestamp_ms)
        probes.append(m.timestamp_ms - 1)
    probes.append(ms[-1].timestamp_ms + 1)
    return probes


def run(codecs, scenario):
    """Run scenario(codec) for each codec; exit 1 with a reason on the first mismatch."""
    for codec in codecs:
        started = time.monotonic()
        try:
            count, partitions = scenario(codec)
        except Mismatch as e:
            print(f"MISMATCH codec={codec}: {e}", flush=True)
            sys.exit(1)
        elapsed = time.monotonic() - started
        print(f"VERIFIED codec={codec} messages={count} partitions={partitions} "
              f"seconds={elapsed:.1f}", flush=True)
