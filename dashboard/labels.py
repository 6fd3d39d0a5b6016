"""What readers see instead of the data's slugs, and one colour per channel, in one table.

The data keeps its slugs (CSV downloads, named queries and analysts use them); every chart's
axes, legends and facet headers show the label instead, and every chart that colours by
channel uses the same colour for it (:func:`readable`, applied to each chart's Vega-Lite spec
where the dashboard draws it).
"""

from __future__ import annotations

import json
from typing import Any

from streams import vocabulary as v

LABELS: dict[str, dict[str, str]] = {
    "channel": {
        "email": "E-mail",
        "phone": "Phone",
        "sms": "SMS",
        "web": "Web",
        "social": "Social",
        "in_store": "In store",
        "mail": "Mail",
        "app_push": "App push",
        "messaging": "Messaging apps",
        "chat": "Chat",
    },
    "industry": {
        "telecom": "Telecom",
        "financial_services": "Financial services",
        "retail": "Retail",
        "insurance": "Insurance",
        "healthcare": "Healthcare",
        "travel_hospitality": "Travel and hospitality",
        "quick_service_restaurant": "Quick-service restaurants",
        "utilities": "Utilities",
        "other": "Other",
    },
    "use_case": {
        "smart_notification": "Smart notifications",
        "personalized_onboarding": "Onboarding",
        "digital_customer_service": "Digital customer service",
        "smart_acquisition": "Acquisition",
        "personalized_retention": "Retention",
    },
    "kind": {
        "touch": "Touch",
        "ivr_call": "IVR call",
        "notification_call": "Notification call",
        "message_sent": "Message sent",
        "message_receipt": "Message receipt",
        "chatbot_session": "Chatbot session",
        "message_received": "Message received",
    },
    "outcome": {
        "self_served": "Self-served",
        "transferred_to_agent": "Transferred to an agent",
        "abandoned": "Abandoned",
    },
    "purpose": {
        "appointment": "Appointment",
        "delivery": "Delivery",
        "order": "Order",
        "payment": "Payment",
        "workflow": "Workflow",
        "compliance": "Compliance",
        "marketing": "Marketing",
        "conversation": "Conversation",
        "other": "Other",
    },
    "status": {
        "delivered": "Delivered",
        "read": "Read",
        "clicked": "Clicked",
        "replied": "Replied",
        "failed": "Failed",
        "undelivered": "Undelivered",
    },
    "exit_reason": {
        "completed": "Completed in the menus",
        "agent_requested": "Asked for an agent",
        "hung_up": "Hung up",
        "no_input": "No input",
        "retries_exhausted": "Not understood",
        "system_error": "System error",
    },
    "read_signal": {
        "read_receipt": "Read receipt",
        "click_proxy": "Click (proxy)",
        "reply_proxy": "Reply (proxy)",
    },
}
# Every value of the contract's vocabularies has its label (a new value fails here, at import).
_VOCABULARIES = {
    "channel": v.CHANNELS,
    "industry": v.INDUSTRIES,
    "use_case": v.USE_CASES,
    "kind": v.KINDS,
    "outcome": v.IVR_OUTCOMES,
    "purpose": v.MESSAGE_PURPOSES,
    "status": v.RECEIPT_STATUSES,
    "read_signal": v.READ_SIGNALS,
    "exit_reason": v.IVR_EXIT_REASONS,
}
_MISSING = {f: set(vals) - set(LABELS[f]) for f, vals in _VOCABULARIES.items()}
if any(_MISSING.values()):
    raise RuntimeError(f"values without a label: {_MISSING}")

# One colour per channel, the same on every page (Tableau 10, in the vocabulary's order).
CHANNEL_COLOURS: dict[str, str] = dict(
    zip(
        v.CHANNELS,
        ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
         "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"),
        strict=True,
    )
)  # fmt: skip
# Quantities that are counts: their axes show whole numbers only.
COUNTS = frozenset(
    {"interactions", "sends", "calls", "notification_calls", "journeys", "read_pairs",
     "chatbot_sessions", "handed_off_sessions", "replied_sends", "dead_letters"}
)  # fmt: skip


def label(field: str, value: str) -> str:
    """The reader's word for ``value`` of ``field`` (the value itself if it has none)."""
    return LABELS.get(field, {}).get(value, value)


def _label_expr(field: str) -> str:
    """A Vega expression showing the label of the axis, legend or header value."""
    return f"{json.dumps(LABELS[field])}[datum.label] || datum.label"


def readable(spec: dict[str, Any]) -> dict[str, Any]:
    """``spec`` (a Vega-Lite chart) with labels for slugs, the channel colours and whole-number
    count axes, wherever they appear in it (layers and facets included). Changes it in place."""
    _walk(spec)
    return spec


def _walk(node: Any) -> None:
    if isinstance(node, list):
        for item in node:
            _walk(item)
        return
    if not isinstance(node, dict):
        return
    facet = node.get("facet")
    if isinstance(facet, dict) and facet.get("field") in LABELS:
        header = facet.setdefault("header", {})
        header.setdefault("labelExpr", _label_expr(facet["field"]))
    encoding = node.get("encoding")
    if isinstance(encoding, dict):
        for channel, enc in encoding.items():
            if isinstance(enc, dict):
                _encode(channel, enc)
    for key, value in node.items():
        if key not in ("encoding", "datasets", "data"):
            _walk(value)


def _guide(enc: dict[str, Any], key: str) -> dict[str, Any] | None:
    """The encoding's axis, legend or header to add to; None where it is switched off."""
    if key in enc and enc[key] is None:
        return None
    guide: dict[str, Any] = enc.get(key) or {}
    enc[key] = guide
    return guide


def _encode(channel: str, enc: dict[str, Any]) -> None:
    field = enc.get("field")
    if field in LABELS:
        if channel in ("x", "y"):
            axis = _guide(enc, "axis")
            if axis is not None:
                axis.setdefault("labelExpr", _label_expr(field))
                axis.setdefault("labelLimit", 240)  # "Digital customer service" in full
        elif channel in ("color", "fill", "stroke"):
            legend = _guide(enc, "legend")
            if legend is not None:
                legend.setdefault("labelExpr", _label_expr(field))
            if field == "channel":
                enc["scale"] = {
                    "domain": list(CHANNEL_COLOURS),
                    "range": list(CHANNEL_COLOURS.values()),
                }
        elif channel in ("row", "column", "facet"):
            header = _guide(enc, "header")
            if header is not None:
                header.setdefault("labelExpr", _label_expr(field))
    elif (
        field in COUNTS
        and enc.get("type") == "quantitative"
        and channel in ("x", "y")
        and enc.get("stack") != "normalize"  # a share, shown as one
    ):
        axis = _guide(enc, "axis")
        if axis is not None and "%" not in axis.get("format", ""):
            axis.update({"format": ",d", "tickMinStep": 1})
