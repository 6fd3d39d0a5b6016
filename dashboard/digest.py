"""The digest: one self-contained HTML file an executive can be mailed, and optionally a PDF.

What it holds, for one period against its comparison: the written headlines
(``dashboard/headlines.py``), the six Overview cards with their change, and the main charts
(channel mix, IVR call time, reads within 3 minutes) as PNG images embedded in the file,
rendered server-side from the dashboard's own Altair builders (vl-convert: no browser, no
network). Every figure comes from a named query through the same runner the CLI uses, and the
file ends with what it was drawn from: the filters, the as-of time and each figure's
definition.

The PDF is the HTML printed by headless Chromium (``JOURNEY_CHROMIUM``, else ``chromium`` on
the PATH), the browser ``make test`` installs from Debian's packages.
"""

from __future__ import annotations

import base64
import html
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import altair as alt
import pandas as pd

from dashboard import cards, charts, filters, headlines, labels
from streams.clickhouse import queries

Runner = headlines.Runner
CHROMIUM_ARGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking")


@dataclass(frozen=True)
class Figure:
    """One chart of the digest: its title, the named query and how to draw its answer."""

    title: str
    query: str
    draw: Callable[[pd.DataFrame], alt.Chart | alt.FacetChart]


FIGURES = (
    Figure(
        "Channel mix per year",
        "channel_mix",
        lambda f: charts.share_bars(f, "channel", "Channel mix per year"),
    ),
    Figure(
        "IVR call time per month",
        "ivr_duration_by_month",
        lambda f: charts.duration_lines(f, "month"),
    ),
    Figure(
        "Messages read within 3 minutes of the send",
        "read_within_3_minutes",
        lambda f: charts.grouped_bars(
            f.dropna(subset=["read_within_3_min_share"]),
            "channel",
            "read_within_3_min_share",
            "year",
            "Share read within 3 minutes",
        ),
    ),
)


def render_html(run: Runner, chosen: filters.Filters, as_of: datetime) -> str:
    """The digest of ``chosen`` (period, comparison, filters) as one HTML document."""
    now = run("overview_kpis", chosen.params())
    before = run("overview_kpis", chosen.params(comparison=True))
    written = headlines.gather(run, chosen.params(), chosen.params(comparison=True))
    context = chosen.context()
    parts = [
        f"<h1>Customer journeys: {html.escape(context['period'])}</h1>",
        f"<p class=meta>Compared with {html.escape(context['comparison_period'])}. "
        f"{html.escape(_scope(context))}. Data as of {as_of:%Y-%m-%d %H:%M} UTC.</p>",
        "<h2>What changed</h2>",
        "<ul>" + "".join(f"<li>{html.escape(h.text)}</li>" for h in written) + "</ul>"
        if written
        else "<p>Nothing changed by enough, on enough events, to be stated.</p>",
        "<h2>Key figures</h2>",
        _cards_table(now, before),
    ]
    both = chosen.both_params()
    for figure in FIGURES:
        frame = run(figure.query, _applicable(figure.query, both))
        parts.append(f"<h2>{html.escape(figure.title)}</h2>")
        ignored = [k for k, v in both.items() if v and k not in _applicable(figure.query, both)]
        if ignored:
            parts.append(
                f"<p class=meta>Not filtered by {html.escape(', '.join(ignored))}: this figure "
                "compares what that filter would pick.</p>"
            )
        if frame.empty:
            parts.append("<p>Nothing in this period for these filters.</p>")
        else:
            png = png_of(figure.draw(frame))
            parts.append(
                f'<img alt="{html.escape(figure.title)}" width="680" '
                f'src="data:image/png;base64,{base64.b64encode(png).decode()}">'
            )
    parts.append(_sources(chosen, as_of))
    return _PAGE.format(title=html.escape(f"Digest {context['period']}"), body="\n".join(parts))


def png_of(chart: alt.Chart | alt.FacetChart) -> bytes:
    """The chart as a PNG, with the dashboard's labels and channel colours."""
    import vl_convert

    spec = labels.readable(chart.properties(width=600).to_dict())
    png: bytes = vl_convert.vegalite_to_png(spec, scale=2)
    return png


def print_pdf(html_path: Path, pdf_path: Path) -> None:
    """Print ``html_path`` to ``pdf_path`` with headless Chromium; a readable error if none."""
    browser = os.environ.get("JOURNEY_CHROMIUM") or shutil.which("chromium")
    browser = browser or shutil.which("chromium-browser")
    if not browser:
        raise RuntimeError(
            "a PDF needs Chromium: apt-get install chromium (make test installs it), or set "
            "JOURNEY_CHROMIUM to its path"
        )
    with tempfile.TemporaryDirectory() as profile:
        result = subprocess.run(
            [
                browser,
                *CHROMIUM_ARGS,
                f"--user-data-dir={profile}",
                "--no-pdf-header-footer",
                f"--print-to-pdf={pdf_path}",
                html_path.resolve().as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    if result.returncode != 0 or not pdf_path.exists():
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"Chromium could not print {html_path} to PDF: {last}")


def _applicable(name: str, params: dict[str, object]) -> dict[str, object]:
    """Only the parameters the named query declares (the mix has no channel filter)."""
    declared = set(queries.load(name).parameters)
    return {k: v for k, v in params.items() if k in declared}


def _scope(context: dict[str, str]) -> str:
    chosen = [
        f"{field.replace('_', ' ')} {labels.label(field, value) if field != 'tenant' else value}"
        for field in ("tenant", "industry", "use_case", "channel")
        if (value := context[field]) != "all"
    ]
    return "Filtered to " + ", ".join(chosen) if chosen else "All tenants, industries and channels"


def _cards_table(now: pd.DataFrame, before: pd.DataFrame) -> str:
    cells = []
    for card in cards.CARDS:
        value, previous = cards.period_value(card, now), cards.period_value(card, before)
        change = cards.change(card, value, previous) or ""
        shown = "n/a" if value is None else card.fmt.format(value)
        cells.append(
            f"<td><div class=label>{html.escape(card.title)}</div>"
            f"<div class=value>{html.escape(shown)}</div>"
            f"<div class=change>{html.escape(change)}</div></td>"
        )
    rows = ["<tr>" + "".join(cells[i : i + 3]) + "</tr>" for i in range(0, len(cells), 3)]
    return "<table class=cards>" + "".join(rows) + "</table>"


def _sources(chosen: filters.Filters, as_of: datetime) -> str:
    used = ["overview_kpis", "headline_totals", "headline_mix", *(f.query for f in FIGURES)]
    items = "".join(
        f"<li><code>{name}</code>: {html.escape(queries.load(name).description)}</li>"
        for name in used
    )
    context: dict[str, Any] = chosen.context()
    filters_text = "; ".join(f"{k.replace('_', ' ')}: {v}" for k, v in context.items())
    return (
        "<h2>Where these figures come from</h2>"
        f"<p class=meta>{html.escape(filters_text)}. As of {as_of:%Y-%m-%d %H:%M} UTC. "
        "Shares change in percentage points, volumes and durations in percent. Each figure is a "
        "named query any analyst can run with <code>journey sql</code>:</p>"
        f"<ul class=meta>{items}</ul>"
    )


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #222;
       max-width: 720px; margin: 24px auto; padding: 0 16px; line-height: 1.45; }}
h1 {{ font-size: 24px; margin-bottom: 4px; }} h2 {{ font-size: 18px; margin-top: 28px; }}
.meta {{ color: #666; font-size: 13px; }}
table.cards {{ width: 100%; border-collapse: collapse; }}
table.cards td {{ border: 1px solid #e3e3e3; padding: 10px; width: 33%; vertical-align: top; }}
.label {{ font-size: 12px; color: #666; }} .value {{ font-size: 22px; font-weight: 600; }}
.change {{ font-size: 13px; color: #444; }}
img {{ max-width: 100%; height: auto; }}
@media print {{ body {{ margin: 0 auto; }} h2 {{ page-break-after: avoid; }}
               img {{ page-break-inside: avoid; }} }}
</style></head>
<body>
{body}
</body></html>
"""
