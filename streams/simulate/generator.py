"""Deterministic, calibrated interaction traffic: journeys, their events, receipts and disorder.

Same seed, same arguments: same events, byte for byte (tests and benchmarks rely on it). Clear
customer ids (``cust-<tenant>-<n>``) are generated here and pseudonymised when published.
"""

from __future__ import annotations

import bisect
import heapq
import json
import math
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import accumulate
from typing import Any

from streams.events import SCHEMA_VERSION, format_ms
from streams.logic import customers
from streams.simulate.calibration import Calibration, Cell

DAY_MS = 86_400_000
# How long a journey of each use case lasts, in days (onboarding runs 30-90 days after the
# first purchase; a notification or a service contact is over within hours or days).
SPAN_DAYS = {
    "smart_notification": (0.0, 2.0),
    "personalized_onboarding": (30.0, 90.0),
    "digital_customer_service": (0.0, 3.0),
    "smart_acquisition": (1.0, 30.0),
    "personalized_retention": (1.0, 14.0),
}
TENANT_NAMES = {
    "telecom": ("telco-north", "telco-south"),
    "financial_services": ("bank-alpha", "bank-beta"),
    "retail": ("shop-one", "shop-two", "shop-three"),
    "insurance": ("insure-co",),
    "healthcare": ("clinic-net",),
    "travel_hospitality": ("fly-away",),
    "quick_service_restaurant": ("burger-bar",),
    "utilities": ("power-grid",),
    "other": ("misc-brand",),
}
CUSTOMERS_PER_TENANT = 50_000


@dataclass(frozen=True)
class Disorder:
    """What realistic mess to add; all fractions are of interactions (receipts excluded)."""

    late_fraction: float = 0.0  # published minutes to days after the event happened
    late_max_s: float = 3 * 86_400.0
    duplicate_fraction: float = 0.0  # published twice with the same event_id
    receipt_first_fraction: float = 0.0  # a receipt published before its send
    malformed_fraction: float = 0.0  # records that break the contract
    # of read messages: a later signal too (a click or reply after the read) whose record
    # overtakes the earlier one's, so the worker first pairs the send with the wrong signal
    # and corrects it when the earlier one arrives (docs/exactly-once.md)
    overtaken_fraction: float = 0.0


@dataclass(frozen=True, slots=True)
class SimRecord:
    """One record to publish: when (for ordering), key, and either an event or raw bytes."""

    publish_ms: int
    key: bytes
    event: dict[str, Any] | None
    raw: bytes | None
    label: str  # "valid", "duplicate" or "malformed"


def _gamma_mean(rng: random.Random, mean: float, shape: float) -> float:
    return rng.gammavariate(shape, mean / shape)


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 30:  # normal approximation; exact enough for journey lengths
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _pick(rng: random.Random, weights: dict[str, float]) -> str:
    r = rng.random() * sum(weights.values())
    for key, w in weights.items():
        r -= w
        if r <= 0:
            return key
    return next(reversed(weights))


class Simulator:
    """Generates journeys and their events from a calibration and a seed."""

    def __init__(
        self,
        calibration: Calibration | None = None,
        seed: int = 1,
        disorder: Disorder | None = None,
        pseudonymise: Callable[[str, str], str] | None = None,
    ) -> None:
        self.cal = calibration or Calibration.load()
        # Applied as each journey is made, so no clear id ever leaves the generator when the
        # publisher's pseudonymiser is passed (malformed records included).
        self.pseudonymise = pseudonymise or (lambda _tenant, customer: customer)
        self.rng = random.Random(seed)
        # Contract 1.1's fields and events come from a stream of their own, so the 1.0 draws
        # are what they were before 1.1: the same journeys, events, channels and outcomes. (A
        # social conversation turns a touch into the customer's message and re-times the
        # brand's reply; see _conversations.)
        self.rng11 = random.Random(f"{seed}/contract-1.1")
        # The customer-level patterns (digital-to-call leakage, repeat contact) come from a
        # third stream, after the other two: the journeys and their 1.1 fields stay the same.
        self.rng_customers = random.Random(f"{seed}/customers")
        self.disorder = disorder or Disorder()
        self._ids = 0
        self._ids11 = 0
        self._ids_customers = 0
        self.ivr = self.cal.section("ivr")
        self.calls = self.cal.section("notification_calls")
        self.msg = self.cal.section("messaging")
        self.bot = self.cal.section("chatbot")
        self.escape = self.cal.section("ivr_escape")
        self.two_way = self.cal.section("two_way")
        self.delivery = self.cal.section("delivery")
        self.social = self.cal.section("social")
        self.reasons = self.cal.section("contact_reasons")
        self.customers = self.cal.section("customers")

    # ---- identifiers -------------------------------------------------------------------
    def _next_id(self, prefix: str) -> str:
        self._ids += 1
        return f"{prefix}-{self.rng.getrandbits(40):010x}-{self._ids}"

    def _next_id11(self, prefix: str) -> str:
        """An id for what contract 1.1 adds (its own stream and count, see ``rng11``)."""
        self._ids11 += 1
        return f"{prefix}-{self.rng11.getrandbits(40):010x}-{self._ids11}"

    def _next_id_customers(self, prefix: str) -> str:
        """An id for an event the customer-level patterns add (``rng_customers``)."""
        self._ids_customers += 1
        return f"{prefix}-{self.rng_customers.getrandbits(40):010x}-c{self._ids_customers}"

    # ---- one journey -------------------------------------------------------------------
    def journey(
        self, cell: Cell, start_ms: int, span_ms: int, limit_ms: int | None = None
    ) -> list[dict[str, Any]]:
        """The events of one journey (interactions and receipts), unordered. The customer's own
        follow-ups may come after the journey's span, never at or after ``limit_ms`` (the end of
        the backfill's range and of the cell's year)."""
        rng = self.rng
        tenant = rng.choice(TENANT_NAMES[cell.industry])
        customer = self.pseudonymise(tenant, f"cust-{tenant}-{rng.randrange(CUSTOMERS_PER_TENANT)}")
        journey_id = self._next_id("j")
        count = 1 + _poisson(rng, cell.extra_events)
        times = sorted(start_ms + int(rng.random() * span_ms) for _ in range(count))
        events: list[dict[str, Any]] = []
        for at in times:
            channel = _pick(rng, cell.mix)
            base = {
                "event_id": self._next_id("e"),
                "schema_version": SCHEMA_VERSION,
                "occurred_at": at,
                "tenant": tenant,
                "industry": cell.industry,
                "use_case": cell.use_case,
                "channel": channel,
                "journey_id": journey_id,
                "customer_id": customer,
            }
            events.extend(self._interaction(base, cell))
        events = self._contract_1_1(events, cell.year, start_ms + span_ms)
        limit = limit_ms if limit_ms is not None else start_ms + span_ms + 2 * DAY_MS
        return self._customer_patterns(events, cell, start_ms, limit)

    def _interaction(self, base: dict[str, Any], cell: Cell) -> list[dict[str, Any]]:
        rng, channel, use_case, year = self.rng, base["channel"], cell.use_case, cell.year
        if channel == "phone" and use_case == "digital_customer_service":
            return [self._ivr_call(base, year, rng)]
        if channel == "phone" and use_case == "smart_notification":
            mean = self.calls[f"mean_s_{year}"]
            duration = round(_gamma_mean(rng, mean, self.calls["gamma_shape"]), 3)
            return [
                {
                    **base,
                    "kind": "notification_call",
                    "direction": "outbound",
                    "duration_s": min(duration, 86_400.0),
                    "purpose": _pick(rng, self.calls["purpose_share"]),
                }
            ]
        if channel in ("sms", "messaging"):
            purposes = (
                self.msg["notification_purposes"]
                if use_case == "smart_notification"
                else self.msg["other_purposes"]
            )
            sent = {
                **base,
                "kind": "message_sent",
                "direction": "outbound",
                "message_id": self._next_id("m"),
                "purpose": _pick(rng, purposes),
            }
            return [sent, *self._receipts(sent)]
        if channel == "chat" or (channel == "messaging" and use_case == "digital_customer_service"):
            share = self.bot[f"handed_off_share_{year}"]
            return [
                {
                    **base,
                    "kind": "chatbot_session",
                    "direction": "inbound",
                    "handed_off": rng.random() < share,
                }
            ]
        direction = "inbound" if use_case == "digital_customer_service" else "outbound"
        return [{**base, "kind": "touch", "direction": direction}]

    def _ivr_call(self, base: dict[str, Any], year: int, rng: random.Random) -> dict[str, Any]:
        """A customer's call into the IVR: its outcome and length (``[ivr]``)."""
        outcome = _pick(rng, self.ivr[f"outcome_share_{year}"])
        mean = self.ivr[f"mean_s_{year}"][outcome]
        duration = round(_gamma_mean(rng, mean, self.ivr["gamma_shape"]), 3)
        return {
            **base,
            "kind": "ivr_call",
            "direction": "inbound",
            "duration_s": min(duration, 86_400.0),
            "outcome": outcome,
        }

    def _receipts(self, sent: dict[str, Any]) -> list[dict[str, Any]]:
        rng, msg = self.rng, self.msg
        out: list[dict[str, Any]] = []
        delivered_at = sent["occurred_at"] + int(
            rng.uniform(0.5, msg["delivery_delay_max_s"]) * 1000
        )
        common = {k: sent[k] for k in _RECEIPT_FIELDS}
        if rng.random() < msg["delivered_share"]:
            out.append(
                {
                    **common,
                    "event_id": self._next_id("r"),
                    "kind": "message_receipt",
                    "direction": "outbound",
                    "occurred_at": delivered_at,
                    "status": "delivered",
                }
            )
        shares = (
            msg["sms_signal_share"] if sent["channel"] == "sms" else msg["messaging_signal_share"]
        )
        r = rng.random()
        for signal, share in shares.items():
            r -= share
            if r < 0:
                if rng.random() < msg["read_within_3_min"]:
                    latency = 181.0
                    while latency > 180.0:
                        latency = rng.expovariate(1.0 / msg["fast_read_mean_s"])
                else:
                    latency = 0.0
                    while latency <= 180.0:
                        latency = rng.lognormvariate(math.log(msg["slow_read_median_s"]), 1.0)
                status = {
                    "read_receipt": "read",
                    "click_proxy": "clicked",
                    "reply_proxy": "replied",
                }[signal]
                out.append(
                    {
                        **common,
                        "event_id": self._next_id("r"),
                        "kind": "message_receipt",
                        "direction": "outbound",
                        "occurred_at": delivered_at + int(latency * 1000),
                        "status": status,
                        "read_signal": signal,
                    }
                )
                break
        return out

    # ---- contract 1.1 ---------------------------------------------------------------------
    def _contract_1_1(
        self, events: list[dict[str, Any]], year: int, end_ms: int
    ) -> list[dict[str, Any]]:
        """Contract 1.1's fields and events for one journey's 1.0 events (``rng11`` only).

        What they add (``[two_way]``, ``[delivery]``, ``[social]``... in calibration.toml):
        inbound contacts get a contact reason, IVR calls how the caller left and whether they
        asked for a person, chatbot sessions hand-off requests, resolution and length; sends
        whether the customer can answer, failed sends a failed or undelivered receipt, and
        messaging-app sends a customer's reply of their own. Some social touches become a
        conversation: the customer's message and the brand's reply. New events stay inside
        the journey (``end_ms``), so a backfill keeps to its range.
        """
        rng = self.rng11
        statuses: dict[str, set[str]] = {}
        for event in events:
            if event["kind"] == "message_receipt":
                statuses.setdefault(event["message_id"], set()).add(event["status"])
        added: list[dict[str, Any]] = []
        for event in events:
            kind = event["kind"]
            if event["direction"] == "inbound" and kind in ("touch", "ivr_call", "chatbot_session"):
                event["contact_reason"] = _pick(rng, self.reasons)
            if kind == "ivr_call":
                self._ivr_escape(event, year)
            elif kind == "chatbot_session":
                self._bot_session(event, year)
            elif kind == "message_sent":
                added.extend(
                    self._two_way_send(
                        event, statuses.get(event["message_id"], set()), year, end_ms
                    )
                )
        self._conversations(events, end_ms)
        return events + added

    def _ivr_escape(
        self, call: dict[str, Any], year: int, rng: random.Random | None = None
    ) -> None:
        rng, outcome = rng or self.rng11, call["outcome"]
        asked = self.escape[f"agent_requested_share_{year}"]
        call["agent_requested"] = outcome == "transferred_to_agent" or rng.random() < asked.get(
            outcome, 0.0
        )
        call["exit_reason"] = {
            "self_served": "completed",
            "transferred_to_agent": "agent_requested",
        }.get(outcome) or _pick(rng, self.escape["abandoned_exit"])

    def _bot_session(self, session: dict[str, Any], year: int) -> None:
        rng, bot = self.rng11, self.bot
        if session["handed_off"]:
            session["handoff_requested"], session["resolved"] = True, False
        else:
            denied = rng.random() < bot[f"handoff_denied_share_{year}"]
            share = bot["resolved_share_denied"] if denied else bot["resolved_share"]
            session["handoff_requested"], session["resolved"] = denied, rng.random() < share
        mean = bot["mean_duration_s"]["handed_off" if session["handed_off"] else "bot"]
        session["duration_s"] = round(_gamma_mean(rng, mean, bot["gamma_shape"]), 3)

    def _two_way_send(
        self, sent: dict[str, Any], statuses: set[str], year: int, end_ms: int
    ) -> list[dict[str, Any]]:
        """Whether ``sent`` can be answered; a failure receipt or the customer's reply for it."""
        rng, channel = self.rng11, sent["channel"]
        target = self.two_way[f"reply_enabled_share_{year}"][channel]
        # A reply proxy needs an answerable send: draw the rest so the channel meets its share.
        replied = self.msg["sms_signal_share"].get("reply_proxy", 0.0) if channel == "sms" else 0.0
        rest = max(0.0, (target - replied) / (1.0 - replied)) if replied < 1.0 else 0.0
        sent["reply_enabled"] = "replied" in statuses or rng.random() < rest
        out: list[dict[str, Any]] = []
        common = {k: sent[k] for k in _RECEIPT_FIELDS}
        if not statuses and rng.random() < self.delivery["failure_receipt_share"]:
            out.append(
                {
                    **common,
                    "event_id": self._next_id11("r"),
                    "kind": "message_receipt",
                    "direction": "outbound",
                    "occurred_at": sent["occurred_at"] + int(rng.uniform(0.5, 30.0) * 1000),
                    "status": _pick(rng, self.delivery["failure_status"]),
                    "error_code": _pick(rng, self.delivery["error_codes"]),
                }
            )
        if (
            channel == "messaging"
            and sent["reply_enabled"]
            and rng.random() < self.two_way["received_reply_share"]
        ):
            delay = rng.lognormvariate(math.log(self.two_way["received_reply_median_s"]), 1.0)
            at = sent["occurred_at"] + int(delay * 1000)
            if at < end_ms:
                out.append(
                    {
                        **{k: sent[k] for k in _JOURNEY_FIELDS},
                        "event_id": self._next_id11("e"),
                        "kind": "message_received",
                        "direction": "inbound",
                        "occurred_at": at,
                        "message_id": self._next_id11("m"),
                        "in_reply_to": sent["message_id"],
                    }
                )
        return out

    def _conversations(self, events: list[dict[str, Any]], end_ms: int) -> None:
        """Turn some social touches into a customer's message and the brand's reply to it."""
        rng, social = self.rng11, self.social
        touches = sorted(
            (e for e in events if e["kind"] == "touch" and e["channel"] == "social"),
            key=lambda e: e["occurred_at"],
        )
        i = 0
        while i < len(touches) - 1:  # a conversation needs a later touch to answer it
            message, reply = touches[i], touches[i + 1]
            i += 1
            if rng.random() >= social["conversation_share"]:
                continue
            response = _pick(rng, social["response"])
            delay = _response_delay(rng, response, social["after_1d_max_days"])
            if delay is not None and message["occurred_at"] + delay >= end_ms:
                continue  # the reply would fall outside the journey: no conversation here
            conversation = self._next_id11("c")
            message.update(
                kind="message_received",
                direction="inbound",
                message_id=self._next_id11("m"),
                conversation_id=conversation,
                contact_reason=_pick(rng, self.reasons),
            )
            if delay is not None:
                reply.update(
                    conversation_id=conversation, occurred_at=message["occurred_at"] + delay
                )
                i += 1  # the reply answers this conversation, it opens none

    # ---- customer-level patterns -----------------------------------------------------------
    def _customer_patterns(
        self, events: list[dict[str, Any]], cell: Cell, start_ms: int, limit_ms: int
    ) -> list[dict[str, Any]]:
        """Digital-to-call leakage and repeat contact within one journey (``[customers]``,
        ``rng_customers`` only; the definitions are the customers stage's own,
        ``streams.logic.customers``).

        Leakage is decided per web visit: with the industry's and year's share it is followed
        by a call or chat within the window (one added after it when none is), otherwise none
        follows it (a visit that a call would follow moves after the journey's last call).
        Where an industry's share of calls that came after a web visit is set instead
        (``after_web_share``), it is decided per call (a visit added before it), and no other
        visit precedes a call. Then each contact that repeats an earlier one within the repeat
        window gives that one's reason with ``same_reason_share``, else a reason none of them
        gave. Nothing moves before ``start_ms`` (the journey's start) or to ``limit_ms``."""
        rng, model = self.rng_customers, self.customers
        window = int(model["leakage_window_hours"] * HOUR_MS)
        visits = sorted((e for e in events if _customer(e, customers.is_digital)), key=_at)
        calls = [e for e in events if _customer(e, customers.is_assisted)]
        added: list[dict[str, Any]] = []
        after_web = model["after_web_share"].get(cell.industry)
        if after_web is not None:
            _after_calls(visits, calls, window, limit_ms, rng)
            added = [self._visit_before(c, start_ms) for c in calls if rng.random() < after_web]
        elif visits:
            shares = model[f"leakage_share_{cell.year}"]
            share = shares.get(cell.industry, shares["default"])
            unleaked = []
            for visit in visits:
                if rng.random() >= share:
                    unleaked.append(visit)
                elif not _followed(visit, calls, window):
                    call = self._call_after(visit, cell.year, limit_ms)
                    calls.append(call)
                    added.append(call)
            _after_calls(unleaked, calls, window, limit_ms, rng)
        events = events + added
        self._repeat_reasons(events)
        return events

    def _delay(self) -> int:
        """Milliseconds from a web visit to the call it leads to (log-uniform)."""
        lo = self.customers["follow_up_min_minutes"] * 60_000
        hi = self.customers["follow_up_max_hours"] * HOUR_MS
        return int(math.exp(self.rng_customers.uniform(math.log(lo), math.log(hi))))

    def _call_after(self, visit: dict[str, Any], year: int, limit_ms: int) -> dict[str, Any]:
        """The customer's call after a web visit that failed them, about the visit's reason."""
        rng = self.rng_customers
        base = {k: visit[k] for k in _JOURNEY_FIELDS}
        base["channel"] = "phone"
        base["event_id"] = self._next_id_customers("e")
        base["occurred_at"] = _after(visit["occurred_at"], self._delay(), limit_ms, rng)
        call = self._ivr_call(base, year, rng)
        call["contact_reason"] = visit.get("contact_reason") or _pick(rng, self.reasons)
        self._ivr_escape(call, year, rng)
        return call

    def _visit_before(self, call: dict[str, Any], start_ms: int) -> dict[str, Any]:
        """The web visit that failed the customer before a call or chat, about its reason."""
        return {
            **{k: call[k] for k in _JOURNEY_FIELDS},
            "event_id": self._next_id_customers("e"),
            "occurred_at": _before(
                call["occurred_at"], self._delay(), start_ms, self.rng_customers
            ),
            "channel": "web",
            "kind": "touch",
            "direction": "inbound",
            "contact_reason": call.get("contact_reason") or _pick(self.rng_customers, self.reasons),
        }

    def _repeat_reasons(self, events: list[dict[str, Any]]) -> None:
        """Give each repeat contact an earlier one's reason with ``same_reason_share``, else a
        reason none of the contacts it repeats gave (in event-time order); none at all when
        they gave every reason there is."""
        rng, model = self.rng_customers, self.customers
        window = int(model["repeat_window_days"] * DAY_MS)
        same = model["same_reason_share"]
        done: list[dict[str, Any]] = []
        for contact in sorted(
            (e for e in events if _customer(e, customers.is_contact) and e.get("contact_reason")),
            key=_at,
        ):
            earlier = [e for e in done if contact["occurred_at"] - e["occurred_at"] <= window]
            if earlier:
                given = {e["contact_reason"] for e in earlier}
                left = {r: w for r, w in self.reasons.items() if r not in given}
                if not left:
                    # Every reason given already (a dozen calls in a few days): no wrap-up
                    # code, rather than a forced same reason that would bias the share.
                    del contact["contact_reason"]
                    continue
                if rng.random() < same:
                    contact["contact_reason"] = earlier[-1]["contact_reason"]
                else:
                    contact["contact_reason"] = _pick(rng, left)
            done.append(contact)

    # ---- many journeys -----------------------------------------------------------------
    def _cells_between(self, start_ms: int, end_ms: int) -> tuple[list[Cell], list[float]]:
        cells, weights = [], []
        for cell in self.cal.cells:
            y0 = _ms(datetime(cell.year, 1, 1, tzinfo=UTC))
            y1 = _ms(datetime(cell.year + 1, 1, 1, tzinfo=UTC))
            overlap = max(0, min(end_ms, y1) - max(start_ms, y0))
            if overlap > 0:
                cells.append(cell)
                weights.append(cell.journey_weight * overlap / (y1 - y0))
        if not cells:
            raise ValueError(
                f"the date range covers no calibrated year ({', '.join(map(str, self.cal.years))})"
            )
        return cells, weights

    def _span(self, use_case: str) -> int:
        lo, hi = SPAN_DAYS[use_case]
        return int(self.rng.uniform(lo, hi) * DAY_MS)

    def backfill(self, count: int, start: datetime, end: datetime) -> list[SimRecord]:
        """``count`` interactions (plus receipts and disorder) between start and end, in
        publish order.

        Journeys are allocated to cells in proportion to their weight (stratified, not drawn
        at random), so a small sample still reproduces each cell's share closely.
        """
        start_ms, end_ms = _ms(start), _ms(end)
        cells, weights = self._cells_between(start_ms, end_ms)
        events_per_weight = sum(
            w * (1 + c.extra_events) for c, w in zip(cells, weights, strict=True)
        )
        wanted = [count * w / events_per_weight for w in weights]
        plan = [int(x) for x in wanted]
        by_remainder = sorted(range(len(cells)), key=lambda i: plan[i] - wanted[i])
        for i in by_remainder[: max(0, round(sum(wanted)) - sum(plan))]:
            plan[i] += 1
        order = [i for i, n in enumerate(plan) for _ in range(n)]
        self.rng.shuffle(order)
        events: list[dict[str, Any]] = []
        interactions = 0
        position = 0
        while interactions < count:
            if position < len(order):
                cell = cells[order[position]]
            else:  # journeys ran out before the count: top up at random
                cell = cells[
                    bisect.bisect_left(list(accumulate(weights)), self.rng.random() * sum(weights))
                ]
            position += 1
            y0 = max(start_ms, _ms(datetime(cell.year, 1, 1, tzinfo=UTC)))
            y1 = min(end_ms, _ms(datetime(cell.year + 1, 1, 1, tzinfo=UTC)))
            span = min(self._span(cell.use_case), y1 - y0 - 1)
            begin = y0 + int(self.rng.random() * (y1 - y0 - span))
            journey = self.journey(cell, begin, span, y1)
            for event in journey:
                if event["kind"] != "message_receipt":
                    interactions += 1
                    if interactions > count:
                        event["drop"] = True
            events.extend(e for e in journey if not e.pop("drop", False))
        return self._disorder(events)

    def _disorder(self, events: list[dict[str, Any]]) -> list[SimRecord]:
        rng, d = self.rng, self.disorder
        sends: dict[str, int] = {}
        records: list[SimRecord] = []
        for event in events:
            publish = event["occurred_at"] + int(rng.uniform(0, 2000))
            if event["kind"] != "message_receipt" and rng.random() < d.late_fraction:
                # Log-uniform between a minute and late_max_s: minutes to days.
                publish += int(math.exp(rng.uniform(math.log(60), math.log(d.late_max_s))) * 1000)
            if event["kind"] == "message_sent":
                sends[event["message_id"]] = publish
            records.append(SimRecord(publish, event["journey_id"].encode(), event, None, "valid"))
        fixed: list[SimRecord] = []
        for rec in records:
            ev = rec.event
            assert ev is not None
            publish = rec.publish_ms
            if ev["kind"] == "message_receipt":
                sent_at = sends.get(ev["message_id"], publish)
                if rng.random() < d.receipt_first_fraction:
                    publish = sent_at - int(rng.uniform(1, 5000))  # overtakes its send
                else:
                    publish = max(publish, sent_at + 1)
                if ev.get("read_signal") and rng.random() < d.overtaken_fraction:
                    later = self._later_signal(ev)
                    overtakes = publish - int(rng.uniform(1, 2000))
                    fixed.append(SimRecord(overtakes, rec.key, later, None, "valid"))
            fixed.append(SimRecord(publish, rec.key, ev, None, "valid"))
            if ev["kind"] != "message_receipt" and rng.random() < d.duplicate_fraction:
                again = publish + int(rng.uniform(1000, 3_600_000))
                fixed.append(SimRecord(again, rec.key, ev, None, "duplicate"))
            if ev["kind"] != "message_receipt" and rng.random() < d.malformed_fraction:
                fixed.append(SimRecord(publish + 1, rec.key, None, malformed(rng, ev), "malformed"))
        fixed.sort(key=lambda r: r.publish_ms)
        return fixed

    def _later_signal(self, receipt: dict[str, Any]) -> dict[str, Any]:
        """A second read signal of the message ``receipt`` is about, 5 s to 10 min after it:
        a click after a read receipt, a reply after a click or a read."""
        signal = "click_proxy" if receipt["read_signal"] == "read_receipt" else "reply_proxy"
        return {
            **receipt,
            "event_id": self._next_id("r"),
            "occurred_at": receipt["occurred_at"] + int(self.rng.uniform(5, 600) * 1000),
            "status": {"click_proxy": "clicked", "reply_proxy": "replied"}[signal],
            "read_signal": signal,
        }

    # ---- live ----------------------------------------------------------------------------
    def live(self, now_ms: int, rate: float, max_span_ms: int = 10 * 60_000) -> Iterator[SimRecord]:
        """An endless stream of about ``rate`` interactions/s starting at ``now_ms``, in
        event-time order (journeys compressed to ``max_span_ms``); the caller paces it by
        waiting until each record's event time.

        The disorder applies as in a backfill for late events, duplicates (the same event
        again 1-60 s later, so that a short run sees them) and malformed records (right after
        their event); receipts overtaking their sends are a backfill's only."""
        year = max(self.cal.years)
        cells = [c for c in self.cal.cells if c.year == year]
        weights = [c.journey_weight for c in cells]
        cumulative = list(accumulate(weights))
        events_per_journey = sum(
            w * (1 + c.extra_events) for c, w in zip(cells, weights, strict=True)
        ) / sum(weights)
        journeys_per_ms = rate / events_per_journey / 1000
        pending: list[tuple[int, int, dict[str, Any], str]] = []
        d = self.disorder
        seq = 0
        clock = now_ms
        while True:
            cell = cells[bisect.bisect_left(cumulative, self.rng.random() * cumulative[-1])]
            span = min(self._span(cell.use_case), max_span_ms)
            for event in self.journey(cell, clock, span):
                seq += 1
                heapq.heappush(pending, (event["occurred_at"], seq, event, "valid"))
            clock += max(1, int(self.rng.expovariate(journeys_per_ms)))
            while pending and pending[0][0] <= clock:
                at, _, event, label = heapq.heappop(pending)
                key = event["journey_id"].encode()
                disordered = label == "valid" and event["kind"] != "message_receipt"
                if disordered and self.rng.random() < d.late_fraction:
                    event["occurred_at"] -= int(self.rng.uniform(60, 3600) * 1000)
                yield SimRecord(at, key, event, None, label)
                if not disordered:
                    continue
                if self.rng.random() < d.duplicate_fraction:
                    seq += 1
                    again = at + int(self.rng.uniform(1_000, 60_000))
                    heapq.heappush(pending, (again, seq, event, "duplicate"))
                if self.rng.random() < d.malformed_fraction:
                    yield SimRecord(at, key, None, malformed(self.rng, event), "malformed")


# What a receipt, and a customer's message in a journey, copy from the journey's events.
_JOURNEY_FIELDS = (
    "schema_version",
    "tenant",
    "industry",
    "use_case",
    "channel",
    "journey_id",
    "customer_id",
)
_RECEIPT_FIELDS = (*_JOURNEY_FIELDS, "message_id")
HOUR_MS = 3_600_000


class EventView:
    """An event dict read as the decoder's event (attributes; None for a field it lacks), for
    the customers stage's own definitions (``streams.logic.customers``, and the plain-way
    counts of ``streams.tools.verify``): one definition of a visit, a call, a contact."""

    __slots__ = ("event",)

    def __init__(self, event: dict[str, Any]) -> None:
        self.event = event

    def __getattr__(self, name: str) -> Any:
        return self.event.get(name)


def _customer(event: dict[str, Any], test: Callable[[Any], bool]) -> bool:
    return event["kind"] != "message_receipt" and test(EventView(event))


def _at(event: dict[str, Any]) -> tuple[int, str]:
    return event["occurred_at"], event["event_id"]


def _after(at: int, delay: int, limit_ms: int, rng: random.Random) -> int:
    """``delay`` after ``at``, or, with no room for it before ``limit_ms``, any time between."""
    return at + delay if at + delay < limit_ms else at + int(rng.random() * (limit_ms - at))


def _before(at: int, delay: int, start_ms: int, rng: random.Random) -> int:
    """``delay`` before ``at``, or, with no room for it after ``start_ms``, any time between."""
    return at - delay if at - delay >= start_ms else start_ms + int(rng.random() * (at - start_ms))


def _followed(visit: dict[str, Any], calls: list[dict[str, Any]], window: int) -> bool:
    """Whether a call or chat comes within ``window`` after ``visit``."""
    return any(0 <= c["occurred_at"] - visit["occurred_at"] <= window for c in calls)


def _after_calls(
    visits: list[dict[str, Any]],
    calls: list[dict[str, Any]],
    window: int,
    limit_ms: int,
    rng: random.Random,
) -> None:
    """Move each visit a call follows to within a window after the journey's last call (never
    to ``limit_ms``), so no call follows it: a visit that served the customer."""
    if not calls:
        return
    last = max(c["occurred_at"] for c in calls)
    room = min(window, limit_ms - last - 1)
    for visit in visits:
        if room > 0 and _followed(visit, calls, window):
            visit["occurred_at"] = last + 1 + int(rng.random() * room)


def _response_delay(rng: random.Random, response: str, max_days: float) -> int | None:
    """Milliseconds from a customer's social message to the brand's reply (None: never),
    log-uniform within the response's band."""
    bands = {
        "within_1h": (60_000, HOUR_MS),
        "within_1d": (HOUR_MS, DAY_MS),
        "after_1d": (DAY_MS, int(max_days * DAY_MS)),
    }
    if response not in bands:
        return None
    lo, hi = bands[response]
    return int(math.exp(rng.uniform(math.log(lo + 1), math.log(hi))))


def _ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)


def to_contract(event: dict[str, Any]) -> dict[str, Any]:
    """The event in the contract's canonical JSON form, as ``journey publish`` writes it:
    ``kind`` first (the decoder reads the kind before the fields that depend on it), the time
    in UTC with milliseconds."""
    return {"kind": event["kind"], **event, "occurred_at": format_ms(event["occurred_at"])}


MALFORMATIONS = (
    "not_json",
    "truncated",
    "missing_field",
    "wrong_type",
    "bad_enum",
    "newer_schema",
    "not_utf8",
    "naive_time",
    "wrong_channel",
)


def malformed(rng: random.Random, event: dict[str, Any]) -> bytes:
    """A record that breaks the contract in one of several realistic ways."""
    good = to_contract(event)
    good["event_id"] = f"bad-{good['event_id']}"
    how = rng.choice(MALFORMATIONS)
    if how == "not_json":
        return b"event_id=" + good["event_id"].encode() + b"; this is not JSON"
    if how == "truncated":
        text = json.dumps(good).encode()
        return text[: len(text) // 2]
    if how == "missing_field":
        good.pop(rng.choice(["tenant", "channel", "occurred_at", "event_id", "journey_id"]))
    elif how == "wrong_type":
        good["schema_version"] = "one"
    elif how == "bad_enum":
        good["channel"] = "carrier_pigeon"
    elif how == "newer_schema":
        good["schema_version"] = SCHEMA_VERSION + 1
    elif how == "not_utf8":
        return json.dumps(good).encode()[:-2] + b'\xff\xfe"}'
    elif how == "naive_time":
        good["occurred_at"] = good["occurred_at"].rstrip("Z")
    elif how == "wrong_channel":
        good["kind"], good["channel"], good["duration_s"] = "ivr_call", "email", 10.0
        good["outcome"], good["direction"] = "self_served", "inbound"
    return json.dumps(good).encode()
