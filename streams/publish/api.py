"""Publishing for engineers: validate every event before it reaches Kafka, report every reject.

``journey publish FILE|-`` (JSON Lines or CSV) and ``publish(events)`` for code share this
module (reading files is ``readers``, sending ``sender``, pseudonymising ``pseudonymise``).
Each valid event is pseudonymised (``customer_id``), re-serialised in the contract's canonical
form (unknown extra fields are dropped here, so nothing unexpected, a clear e-mail
address say, rides along) and sent keyed by ``journey_id``, so a journey's events share a
partition and stay in order. A rejected line never stops the others.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol

from streams.decoder import Event, canonical, decode_input
from streams.errors import JourneyError
from streams.events import ContractError
from streams.publish.pseudonymise import Pseudonymiser, pseudonymiser
from streams.publish.readers import read_csv, read_jsonl
from streams.publish.sender import Sender, open_sender
from streams.settings import Settings


@dataclass(frozen=True)
class Rejection:
    """One input line that was not published, and why."""

    line: int
    reason: str
    field: str | None = None
    text: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "field": self.field,
            "reason": self.reason,
            "input": self.text[:1000],
        }


@dataclass
class PublishReport:
    """What one publish did: lines read, events sent, lines rejected, deliveries failed."""

    read: int = 0
    sent: int = 0
    rejected: int = 0
    failed: int = 0
    elapsed_s: float = 0.0
    rejections: list[Rejection] = field(default_factory=list)
    reasons: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.rejected == 0 and self.failed == 0

    def summary(self) -> str:
        rate = self.sent / self.elapsed_s if self.elapsed_s > 0 else 0.0
        text = (
            f"{self.read:,} read, {self.sent:,} sent, {self.rejected:,} rejected, "
            f"{self.failed:,} failed in {self.elapsed_s:.1f}s ({rate:,.0f} events/s)"
        )
        if self.reasons:
            top = sorted(self.reasons.items(), key=lambda kv: -kv[1])[:5]
            text += "\n  rejected by reason: " + ", ".join(f"{k} {v:,}" for k, v in top)
        return text


# How far ahead of now an event time may be (producer clock skew): one day.
FUTURE_TOLERANCE_MS = 86_400_000


def not_after_now() -> int:
    """The latest event time the publisher accepts, in milliseconds: now plus a day."""
    return int(time.time() * 1000) + FUTURE_TOLERANCE_MS


def encode(event: Event, ms: int) -> tuple[bytes, bytes]:
    """Kafka key and value of a validated event: journey_id, canonical compact JSON."""
    return event.journey_id.encode(), canonical(event, ms)


def decide(
    item: bytes | Mapping[str, Any], pseudonymise: Pseudonymiser, not_after_ms: int
) -> tuple[Event, int]:
    """One input (a JSON line's bytes, or a CSV row or an API event as a mapping) as a
    pseudonymised, validated event, or its ContractError: the contract's own decoder
    (``streams.decoder``), the very one the worker uses. Anything unforeseen about one input is
    its rejection: one line never stops the lines after it."""
    try:
        return decode_input(item, pseudonymise, not_after_ms)
    except ContractError:
        raise
    except Exception as exc:
        raise ContractError(f"could not be decided ({type(exc).__name__})") from None


class Progress:
    """A one-line progress display on stderr, redrawn at most five times a second."""

    def __init__(self, enabled: bool, total_bytes: int | None = None) -> None:
        self.enabled = enabled
        self.total_bytes = total_bytes
        self._last = 0.0
        self._start = time.monotonic()

    def update(
        self, report: PublishReport, position: int | None = None, final: bool = False
    ) -> None:
        now = time.monotonic()
        if not self.enabled or (not final and now - self._last < 0.2):
            return
        self._last = now
        rate = report.sent / max(now - self._start, 1e-9)
        pct = ""
        if self.total_bytes and position is not None:
            pct = f"{100 * position / self.total_bytes:5.1f}%  "
        sys.stderr.write(
            f"\r  {pct}{report.read:,} read  {report.sent:,} sent  "
            f"{report.rejected:,} rejected  {rate:,.0f}/s "
        )
        if final:
            sys.stderr.write("\n")
        sys.stderr.flush()


class Writable(Protocol):
    """Where rejects are written: a file, or :class:`RejectsFile`."""

    def write(self, text: str, /) -> Any: ...


class RejectsFile:
    """The rejects file, created only when the first line is rejected.

    It never replaces anything: a regular file already at the path is refused before anything
    is published (say another path, or remove it); a device or a pipe (``/dev/null``,
    ``/dev/stderr``) is written to as it is, never truncated or removed.
    """

    def __init__(self, path: Path) -> None:
        if path.is_file():
            raise JourneyError(
                f"{path} already exists: remove it or name another file with --rejects "
                "(journey publish never replaces a file)"
            )
        self.path = path
        self._file: IO[str] | None = None
        self.created = False

    def write(self, text: str) -> int:
        if self._file is None:
            if self.path.exists():  # a device or a FIFO the user named
                self._file = open(self.path, "a")  # noqa: SIM115 (closed by close())
            else:
                self._file = open(self.path, "x")  # noqa: SIM115 (never an existing file)
                self.created = True
        return self._file.write(text)

    @property
    def written(self) -> bool:
        """Whether any reject was written."""
        return self._file is not None

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


def _reject(report: PublishReport, rejects: Writable | None, rejection: Rejection) -> None:
    report.rejected += 1
    code = f"{rejection.field or 'event'}"
    report.reasons[code] = report.reasons.get(code, 0) + 1
    if len(report.rejections) < 1000:
        report.rejections.append(rejection)
    if rejects is not None:
        rejects.write(json.dumps(rejection.to_json(), ensure_ascii=False) + "\n")


def publish_stream(
    stream: IO[bytes],
    sender: Sender,
    pseudonymise: Pseudonymiser,
    *,
    fmt: str = "jsonl",
    rejects: Writable | None = None,
    progress: Progress | None = None,
) -> PublishReport:
    """Validate and send every line of ``stream``; reject bad lines with their number."""
    report = PublishReport()
    started = time.monotonic()
    not_after = not_after_now()
    rows: Iterator[tuple[int, Any]] = read_csv(stream) if fmt == "csv" else read_jsonl(stream)
    for number, item in rows:
        if fmt == "jsonl" and isinstance(item, bytes) and not item.strip():
            continue  # blank lines separate nothing in JSON Lines; skip them silently
        report.read += 1
        try:
            if isinstance(item, ContractError):
                raise item
            event, ms = decide(item, pseudonymise, not_after)
        except ContractError as exc:
            text = item.decode("utf-8", "replace") if isinstance(item, bytes) else ""
            _reject(report, rejects, Rejection(number, exc.reason, exc.field, text))
            continue
        key, value = encode(event, ms)
        sender.send(key, value, number)
        report.sent += 1
        if progress is not None and report.read % 1000 == 0:
            progress.update(report, _tell(stream))
    sender.flush()
    _account_failures(report, sender, rejects)
    report.elapsed_s = time.monotonic() - started
    if progress is not None:
        progress.update(report, _tell(stream), final=True)
    return report


def _tell(stream: IO[bytes]) -> int | None:
    try:
        return stream.tell()
    except (OSError, ValueError):
        return None


def _account_failures(report: PublishReport, sender: Sender, rejects: Writable | None) -> None:
    for line, reason in sender.failures:
        report.failed += 1
        report.sent -= 1
        if rejects is not None:
            rejects.write(
                json.dumps({"line": line, "field": None, "reason": f"delivery failed: {reason}"})
                + "\n"
            )
    sender.failures.clear()


def publish(
    events: Iterable[Mapping[str, Any]], settings: Settings, sender: Sender | None = None
) -> PublishReport:
    """Python API: validate, pseudonymise and send events (dicts in the contract's form).

    Invalid events are reported in ``PublishReport.rejections`` with their 1-based position;
    valid ones are all sent. Raises ServiceUnreachable if the broker does not answer.
    """
    own = sender is None
    if sender is None:
        sender = open_sender(settings.kafka.bootstrap, settings.topic_interactions, settings.kafka)
    pseudonymise = pseudonymiser(settings)
    report = PublishReport()
    started = time.monotonic()
    not_after = not_after_now()
    try:
        for number, obj in enumerate(events, start=1):
            report.read += 1
            try:
                event, ms = decide(
                    dict(obj) if isinstance(obj, Mapping) else obj, pseudonymise, not_after
                )
            except ContractError as exc:
                _reject(report, None, Rejection(number, exc.reason, exc.field))
                continue
            key, value = encode(event, ms)
            sender.send(key, value, number)
            report.sent += 1
        sender.flush()
        _account_failures(report, sender, None)
    finally:
        if own:
            sender.close()
    report.elapsed_s = time.monotonic() - started
    return report


def default_rejects_path(source: str) -> Path:
    """Where rejects go unless told: beside the input, or ./publish.rejects.jsonl for stdin."""
    return Path("publish.rejects.jsonl") if source == "-" else Path(f"{source}.rejects.jsonl")
