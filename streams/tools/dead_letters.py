"""``journey dead-letters list|export|replay``: repair rejected records (issue 18).

A record that breaks the contract is kept as a dead letter (the ``dead_letters`` table: where
it came from, its reason code and reason, its first 64 KiB redacted). Repair is three steps:

1. ``list``: the dead letters of a period by reason code, and how many a replay has repaired.
2. ``export``: those of a period and code as JSON Lines, one per dead letter, for an engineer
   to fix: ``{"dead_letter": {where it came from, code, reason, ...}, "record": {...}}``.
   ``record`` is the rejected record as kept, parsed where it is a JSON object (else null, and
   the kept text is under ``dead_letter.original``): the engineer edits ``record`` and leaves
   ``dead_letter`` as it is. A customer id kept in clear was redacted: put it back (in clear or
   as a pseudonym; the publisher pseudonymises it).
3. ``replay FILE``: each fixed record is decided by the publisher's own validation and
   published to the interactions topic with its provenance in Kafka headers
   (``journey-replay-of: topic:partition:offset``, ``journey-replay-code``); a row in
   ``dead_letter_replays`` then says which dead letter it repaired and where it went. A dead
   letter with such a row is skipped, however often the file is replayed: each original counts
   once. A line that is still wrong is refused with its line number and what is wrong; the
   other lines go on.

If a replay stops after publishing and before writing its rows, the next replay publishes
the same fixed events again: the worker counts each (journey_id, event_id) once, as it does
for any repeated record. Run one replay at a time.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from clickhouse_connect.driver.client import Client

from streams.clickhouse import queries
from streams.errors import JourneyError
from streams.events import ContractError
from streams.publish.api import decide, encode, not_after_now
from streams.publish.pseudonymise import Pseudonymiser

REPLAY_OF = "journey-replay-of"  # Kafka header: the dead letter a replayed record repairs
REPLAY_CODE = "journey-replay-code"  # Kafka header: the reason it was rejected for
LEDGER = "dead_letter_replays"
LEDGER_COLUMNS = (
    "kafka_topic", "kafka_partition", "kafka_offset", "code", "replay_topic",
    "replay_partition", "replay_offset", "journey_id", "event_id", "replayed_by",
)  # fmt: skip


@dataclass(frozen=True)
class Period:
    """Dead letters received from ``since`` to ``until`` (excluded), of one ``code`` or all."""

    since: datetime
    until: datetime
    code: str = ""

    @property
    def parameters(self) -> dict[str, Any]:
        return {"since": self.since, "until": self.until, "code": self.code}


def summary(client: Client, period: Period) -> list[dict[str, Any]]:
    """The period's dead letters by code: count, replayed, first and last received, an
    example reason."""
    query = _load("dead_letters_summary")
    return list(client.query(query.sql, parameters=period.parameters).named_results())


def export(client: Client, period: Period, out: IO[str], replayed_too: bool = False) -> int:
    """Write the period's dead letters (without those already repaired, unless
    ``replayed_too``) to ``out`` as JSON Lines for an engineer to fix; return how many."""
    query = _load("dead_letters_export")
    parameters = {**period.parameters, "replayed_too": int(replayed_too)}
    written = 0
    with client.query_rows_stream(query.sql, parameters=parameters) as rows:
        for row in rows:
            out.write(json.dumps(_exported(row), ensure_ascii=False) + "\n")
            written += 1
    return written


def _exported(row: tuple[Any, ...]) -> dict[str, Any]:
    topic, partition, offset, code, reason, received, original, size, sha256 = row
    text = original.decode("utf-8", "replace") if isinstance(original, bytes) else str(original)
    try:
        record = json.loads(text)
    except ValueError:
        record = None
    letter: dict[str, Any] = {
        "topic": topic,
        "partition": int(partition),
        "offset": int(offset),
        "code": code,
        "reason": reason,
        "received_at": received.isoformat(),
        "original_size": int(size),
        "original_sha256": sha256,
    }
    if not isinstance(record, dict):
        record = None
        letter["original"] = text  # not a JSON object (or cut at 64 KiB): write the record anew
    return {"dead_letter": letter, "record": record}


@dataclass(frozen=True)
class Origin:
    """Where a dead letter came from: the rejected record's topic, partition and offset."""

    topic: str
    partition: int
    offset: int

    def __str__(self) -> str:
        return f"{self.topic}:{self.partition}:{self.offset}"


@dataclass
class ReplayReport:
    """What a replay did, line by line."""

    lines: int = 0
    replayed: int = 0
    already: int = 0  # dead letters a replay had repaired before: skipped
    refused: list[str] = field(default_factory=list)  # "line N: what is wrong"

    def summary(self) -> str:
        return (
            f"{self.lines:,} lines: {self.replayed:,} replayed, {self.already:,} already "
            f"replayed before (skipped), {len(self.refused):,} refused"
        )


@dataclass(frozen=True)
class Fixed:
    """One line of a fixed file, decided: its dead letter and the event to publish."""

    line: int
    origin: Origin
    code: str
    key: bytes
    value: bytes
    journey_id: str
    event_id: str


def read_fixed(
    lines: Iterable[str], pseudonymise: Pseudonymiser, report: ReplayReport
) -> Iterator[Fixed]:
    """Each line of a fixed file decided by the publisher's validation; a line that is not
    an exported dead letter, or whose record still breaks the contract, is refused with its
    number and the reason (the others go on)."""
    not_after = not_after_now()
    seen: set[Origin] = set()
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        report.lines += 1
        try:
            origin, code, record = _line(text)
        except ValueError as exc:
            report.refused.append(f"line {number}: {exc}")
            continue
        if origin in seen:
            report.refused.append(f"line {number}: dead letter {origin} is in the file twice")
            continue
        seen.add(origin)
        try:
            event, ms = decide(record, pseudonymise, not_after)
        except ContractError as exc:
            where = f" (field {exc.field})" if exc.field else ""
            report.refused.append(f"line {number}: {origin}: still invalid{where}: {exc.reason}")
            continue
        key, value = encode(event, ms)
        yield Fixed(number, origin, code, key, value, event.journey_id, event.event_id)


def _line(text: str) -> tuple[Origin, str, dict[str, Any]]:
    """(origin, code, record) of one exported line, or ValueError saying what is missing."""
    try:
        item = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"not JSON ({exc})") from None
    letter = item.get("dead_letter") if isinstance(item, dict) else None
    if not isinstance(letter, dict):
        raise ValueError('no "dead_letter" object: keep each exported line\'s "dead_letter"')
    try:
        origin = Origin(str(letter["topic"]), int(letter["partition"]), int(letter["offset"]))
    except (KeyError, TypeError, ValueError):
        raise ValueError('"dead_letter" needs its topic, partition and offset') from None
    record = item.get("record")
    if not isinstance(record, dict):
        raise ValueError(f'{origin}: "record" is not a JSON object: write the fixed event there')
    return origin, str(letter.get("code", "")), record


def already_replayed(client: Client, origins: list[Origin]) -> set[Origin]:
    """Which of ``origins`` a replay has repaired before."""
    from clickhouse_connect.driver.external import ExternalData

    if not origins:
        return set()
    lines = (
        json.dumps(
            {"kafka_topic": o.topic, "kafka_partition": o.partition, "kafka_offset": o.offset}
        )
        for o in origins
    )
    data = ExternalData(
        file_name="replay_keys",
        data="\n".join(lines).encode(),
        fmt="JSONEachRow",
        structure="kafka_topic String, kafka_partition UInt16, kafka_offset UInt64",
    )
    rows = client.query(_load("replayed_dead_letters").sql, external_data=data).result_rows
    return {Origin(str(t), int(p), int(o)) for t, p, o, _ in rows}


def replay(
    client: Client,
    producer: Any,
    topic: str,
    fixed: list[Fixed],
    report: ReplayReport,
    replayed_by: str,
) -> None:
    """Publish each fixed record not replayed before, with its provenance, then record which
    dead letter each repaired (``producer``: a kafka-python producer, acks from all)."""
    from kafka.errors import KafkaError

    done = already_replayed(client, [f.origin for f in fixed])
    todo = [f for f in fixed if f.origin not in done]
    report.already += len(fixed) - len(todo)
    sent = []
    for f in todo:
        headers = [(REPLAY_OF, str(f.origin).encode()), (REPLAY_CODE, f.code.encode())]
        sent.append((f, producer.send(topic, key=f.key, value=f.value, headers=headers)))
    producer.flush()
    rows = []
    for f, future in sent:
        try:
            where = future.get(timeout=60)
        except KafkaError as exc:  # a delivery failure is reported with its line, not raised
            report.refused.append(f"line {f.line}: {f.origin}: not published: {exc}")
            continue
        rows.append(
            [
                f.origin.topic, f.origin.partition, f.origin.offset, f.code, topic,
                where.partition, where.offset, f.journey_id, f.event_id, replayed_by,
            ]
        )  # fmt: skip
    if rows:
        client.insert(LEDGER, rows, column_names=list(LEDGER_COLUMNS))
    report.replayed += len(rows)


def read_file(path: Path) -> list[str]:
    """The fixed file's lines (``-``: standard input); a missing file is a clear error."""
    import sys

    if str(path) == "-":
        return sys.stdin.read().splitlines()
    if not path.is_file():
        raise JourneyError(f"journey dead-letters replay: {path} is not a file")
    return path.read_text(encoding="utf-8").splitlines()


def _load(name: str) -> queries.NamedQuery:
    return queries.load(name, queries.OPERATIONS_DIR)
