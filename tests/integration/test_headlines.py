"""Written headlines and the digest on calibrated data: the sentences state the IVR shortening
and e-mail's growth with the numbers other named queries give for the same periods, `journey
headlines` prints them, and `journey digest` renders them to HTML and PDF."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pandas as pd
import pytest
from clickhouse_connect.driver.client import Client

from dashboard.filters import Filters, comparison_period
from dashboard.headlines import Thresholds, clock, gather
from streams.clickhouse import queries
from streams.settings import Settings
from tests.support import account_url, run_journey, settings_env

pytestmark = pytest.mark.integration
# 2021 against the same dates of 2020: calendar years, as ivr_duration_by_year counts them
START, END = date(2021, 1, 1), date(2022, 1, 1)
CHOSEN = Filters(START, END, *comparison_period(START, END, "same_dates"), "", "", "", "")


def runner(client: Client) -> Callable[[str, dict[str, object]], pd.DataFrame]:
    def run(name: str, params: dict[str, object]) -> pd.DataFrame:
        frame: pd.DataFrame = client.query_df(queries.load(name).sql, parameters=params)
        return frame

    return run


def test_headlines_state_ivr_shortening_and_email_growth(
    calibrated: tuple[str, Client],
) -> None:
    run = runner(calibrated[1])
    found = [
        h.text for h in gather(run, CHOSEN.params(), CHOSEN.params(True), Thresholds(limit=50))
    ]
    # The IVR sentence, from ivr_duration_by_year's answer for the same two years
    ivr = run("ivr_duration_by_year", CHOSEN.both_params()).set_index("year")["mean_s"]
    shorter = 1 - ivr[2021] / ivr[2020]
    assert shorter > 0.5  # calibrated: 1:43 to 0:35
    assert f"IVR calls got {shorter:.0%} shorter ({clock(ivr[2020])} → {clock(ivr[2021])})" in found
    # E-mail's growth in the mix, from channel_mix_shift's answer
    shift = run(
        "channel_mix_shift",
        CHOSEN.params()
        | {
            "compare_start": CHOSEN.params(True)["start"],
            "compare_end": CHOSEN.params(True)["end"],
        },
    ).set_index("channel")
    email = shift.loc["email"]
    assert email["share_shift"] > 0.01
    assert (
        f"E-mail gained {email['share_shift'] * 100:.1f} points of the mix "
        f"({email['comparison_share']:.1%} → {email['period_share']:.1%})"
    ) in found
    # and the volume, from the same answer's counts
    new, old = shift["period_interactions"].sum(), shift["comparison_interactions"].sum()
    assert f"Interactions grew {new / old - 1:.0%} ({old:,.0f} → {new:,.0f})" in found


def test_journey_headlines_prints_them(
    calibrated: tuple[str, Client], settings_factory: Callable[..., Settings]
) -> None:
    env = settings_env(settings_factory(clickhouse_url=account_url(calibrated[0], "analyst")))
    result = run_journey("headlines", "--period", "2021", "--compare", "same_dates", env=env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "2021-01-01 to 2021-12-31, compared with 2020-01-01 to 2020-12-31:"
    assert 1 <= len(lines) - 1 <= 5
    assert any(line.startswith("- IVR calls got ") for line in lines[1:])
    bad = run_journey("headlines", "--period", "yesterday", env=env)
    assert bad.returncode == 1
    assert "period 'yesterday': expected YYYY, YYYY-MM" in bad.stderr


def test_journey_digest_writes_html_and_pdf(
    calibrated: tuple[str, Client], settings_factory: Callable[..., Settings], tmp_path: Any
) -> None:
    env = settings_env(settings_factory(clickhouse_url=account_url(calibrated[0], "analyst")))
    out = tmp_path / "digest.html"
    result = run_journey(
        "digest", "--period", "2021", "--compare", "same_dates", "--out", str(out), "--pdf",
        env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    document = out.read_text()
    assert "<h2>What changed</h2>" in document and "<li>IVR calls got " in document
    assert document.count('src="data:image/png;base64,') == 3  # mix, IVR time, reads
    pdf = out.with_suffix(".pdf")
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 50_000
    print(f"digest: {out.stat().st_size:,} bytes of HTML, {pdf.stat().st_size:,} bytes of PDF")
