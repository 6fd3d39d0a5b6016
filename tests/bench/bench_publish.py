"""Publish throughput to the local broker, with where the time goes (not a test).

Run: `make bench-publish` (or `python -m tests.bench.bench_publish --events 200000`).
Starts its own broker on free ports, generates a calibrated JSON Lines file, then measures in
one run: decoding + validation alone, kafka-python sending pre-encoded records, the sender
`journey publish` uses sending them (its ceiling) and `journey publish` end to end (read,
decode, pseudonymise, validate, re-encode, send); the last two take turns, best of three each.
Prints events/s and ratios.
"""

from __future__ import annotations

import argparse
import io
import json
import platform
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from deploy.local.kafka_broker import KafkaBroker
from streams.kafka.admin import ensure_topics, project_topics
from streams.publish.api import decide, encode, not_after_now, publish_stream
from streams.publish.pseudonymise import Pseudonymiser
from streams.publish.sender import KafkaSender, Sender, open_sender
from streams.settings import Settings
from streams.simulate.generator import Simulator, to_contract
from tests.support import free_port

ROUNDS = 3


def timed_send(sender: Sender, records: list[tuple[bytes, bytes]]) -> float:
    """Seconds to send and flush pre-encoded records; closes the sender."""
    started = time.perf_counter()
    for key, value in records:
        sender.send(key, value)
    sender.flush()
    elapsed = time.perf_counter() - started
    sender.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=200_000)
    args = parser.parse_args()

    sim = Simulator(seed=1)
    records = sim.backfill(
        args.events, datetime(2021, 1, 1, tzinfo=UTC), datetime(2022, 1, 1, tzinfo=UTC)
    )
    lines = [json.dumps(to_contract(r.event)).encode() for r in records if r.event]
    del records  # `journey publish` holds only the file it reads
    data = b"\n".join(lines) + b"\n"
    n = len(lines)
    pseudo = Pseudonymiser(b"bench-key")

    with tempfile.TemporaryDirectory() as tmp:
        broker = KafkaBroker(
            Path(tmp),
            Path.home() / ".cache" / "journey-telemetry",
            port=free_port(),
            controller_port=free_port(),
            heap="1g",
        )
        broker.start()
        try:
            settings = Settings(
                kafka={"bootstrap": broker.bootstrap}, topic_partitions=6, _env_file=None
            )
            ensure_topics(settings.kafka.bootstrap, project_topics(settings))

            t0 = time.perf_counter()
            not_after = not_after_now()
            encoded = [encode(*decide(line, pseudo, not_after)) for line in lines]
            validate_s = time.perf_counter() - t0

            ceiling_s = timed_send(
                KafkaSender(settings.kafka.bootstrap, settings.topic_interactions), encoded
            )
            # The ceiling and the end-to-end run take turns, best of three each: one pass of
            # either varies by up to a fifth on this machine, and a single pair would measure
            # that more than the publisher.
            batch_s = publish_s = float("inf")
            for _ in range(ROUNDS):
                batch_s = min(
                    batch_s,
                    timed_send(
                        open_sender(settings.kafka.bootstrap, settings.topic_interactions),
                        encoded,
                    ),
                )
                sender = open_sender(settings.kafka.bootstrap, settings.topic_interactions)
                t0 = time.perf_counter()
                report = publish_stream(io.BytesIO(data), sender, pseudo)
                publish_s = min(publish_s, time.perf_counter() - t0)
                sender.close()
                assert report.sent == n and report.rejected == 0
        finally:
            broker.stop()

    rate = {
        name: n / s
        for name, s in [
            ("validate", validate_s),
            ("kafka_python", ceiling_s),
            ("ceiling", batch_s),
            ("publish", publish_s),
        ]
    }
    print(
        f"publish benchmark, {n:,} events ({len(data) / n:.0f} bytes each), "
        f"{datetime.now(UTC):%Y-%m-%d}, {platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()}"
    )
    print(f"  decode+pseudonymise+validate+encode only : {rate['validate']:>10,.0f} events/s")
    print(f"  kafka-python send of pre-encoded records : {rate['kafka_python']:>10,.0f} events/s")
    print(
        f"  aiokafka batches of pre-encoded records  : {rate['ceiling']:>10,.0f} events/s"
        f"  (ceiling: the sender journey publish uses; best of {ROUNDS})"
    )
    print(
        f"  journey publish end to end (best of {ROUNDS})  : {rate['publish']:>10,.0f} events/s"
        f"  = {rate['publish'] / rate['ceiling']:.2f} x ceiling"
    )
    share = validate_s / (validate_s + batch_s)
    print(f"  time split: {share:.0%} validation/encoding, {1 - share:.0%} producer")


if __name__ == "__main__":
    main()
