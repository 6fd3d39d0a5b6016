"""The short chaos matrix inside the test command (`make chaos` runs the full sizes).

Every scenario must come out exact against the truth recomputed from its topic, and the
negative control (a sink inserting every batch twice) must be caught. The suite's own broker
and ClickHouse server are stopped and restarted by the scenarios, so they are not the session's.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.chaos.scenarios import SCENARIOS, SHORT, Lab, lab_running, run

pytestmark = pytest.mark.chaos


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    with lab_running(tmp_path_factory.mktemp("chaos")) as running:
        if isinstance(running, str):
            pytest.fail(running, pytrace=False)  # infrastructure failed: never a pass
        yield running


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_scenario(lab: Lab, name: str) -> None:
    outcome = run(lab, name, SHORT)
    print(f"{name}: {outcome.verdict} ({outcome.records:,} records, {outcome.seconds:.0f} s)")
    assert outcome.passed, f"{outcome.verdict}: {outcome.faults}; {outcome.detail}"
