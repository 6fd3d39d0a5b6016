"""Readers see labels, not slugs, one colour per channel and whole-number count axes."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from dashboard import charts, labels
from dashboard.context import altair_spec


def guides(spec: Any, found: list[tuple[str, str, dict[str, Any]]] | None = None) -> list[Any]:
    """(encoding channel, field, encoding) of every encoding in a spec, facets included."""
    found = [] if found is None else found
    if isinstance(spec, dict):
        for channel, enc in (spec.get("encoding") or {}).items():
            if isinstance(enc, dict) and "field" in enc:
                found.append((channel, enc["field"], enc))
        if isinstance(spec.get("facet"), dict):
            found.append(("facet", spec["facet"]["field"], spec["facet"]))
        for key, value in spec.items():
            if key not in ("encoding", "datasets"):
                guides(value, found)
    elif isinstance(spec, list):
        for item in spec:
            guides(item, found)
    return found


def label_map(expr: str) -> dict[str, str]:
    return dict(json.loads(expr.split("[datum.label]")[0]))


def test_every_slug_on_an_axis_a_legend_or_a_header_reads_as_its_label() -> None:
    mix = pd.DataFrame(
        {"industry": ["retail"], "year": [2021], "channel": ["sms"], "interactions": [3],
         "share": [1.0]}
    )  # fmt: skip
    spec = altair_spec(charts.channel_mix_stacked(mix))
    found = guides(spec)
    where = {(channel, field): enc for channel, field, enc in found}
    colour = where[("color", "channel")]
    assert label_map(colour["legend"]["labelExpr"])["sms"] == "SMS"
    assert colour["scale"]["domain"][:3] == ["email", "phone", "sms"]  # every chart: same order
    assert colour["scale"]["range"][2] == labels.CHANNEL_COLOURS["sms"]
    # Panels are named by their label (a header's label expression is not drawn there).
    assert where[("facet", "panel")]["field"] == "panel"
    assert list(charts.channel_mix_stacked(mix).data["panel"]) == ["Retail"]


def test_count_axes_show_whole_numbers_and_shares_keep_their_percent() -> None:
    bars = altair_spec(charts.channel_bars(pd.DataFrame({"channel": ["web"], "interactions": [1]})))
    x, y = bars["encoding"]["x"], bars["encoding"]["y"]
    assert x["axis"]["format"] == ",d" and x["axis"]["tickMinStep"] == 1
    assert label_map(y["axis"]["labelExpr"])["web"] == "Web"
    mix = pd.DataFrame(
        {"industry": ["retail"], "year": [2021], "channel": ["sms"], "interactions": [3],
         "share": [1.0]}
    )  # fmt: skip
    stacked = [enc for ch, f, enc in guides(altair_spec(charts.channel_mix_stacked(mix)))
               if f == "interactions" and ch == "y"]  # fmt: skip
    assert stacked[0]["axis"]["format"] == "%"


def test_a_switched_off_axis_stays_off() -> None:
    spec = {"encoding": {"y": {"field": "channel", "type": "nominal", "axis": None}}}
    assert labels.readable(spec)["encoding"]["y"]["axis"] is None


def test_labels_and_the_filters_read_the_same() -> None:
    assert labels.label("use_case", "personalized_onboarding") == "Onboarding"
    assert labels.label("tenant", "acme") == "acme"  # no vocabulary: as it is
    assert labels.label("channel", "carrier_pigeon") == "carrier_pigeon"
