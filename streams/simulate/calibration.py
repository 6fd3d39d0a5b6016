"""The calibration data file, loaded and turned into the model's per-cell parameters."""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from streams import vocabulary as v

CALIBRATION_PATH = Path(__file__).resolve().parent / "calibration.toml"
# Cap on the Poisson mean of extra events per journey: longer journeys would make the few
# journeys of a small cell carry too many events, and the sample too noisy.
MAX_EXTRA_EVENTS = 15.0


@dataclass(frozen=True)
class Cell:
    """One (year, industry, use case): its share of all events, channel mix, events/journey."""

    year: int
    industry: str
    use_case: str
    volume: float  # relative event volume
    mix: dict[str, float]  # channel -> share of the cell's interactions
    extra_events: float  # Poisson mean of events beyond the first, per journey

    @property
    def journey_weight(self) -> float:
        return self.volume / (1.0 + self.extra_events)


def expected_distinct(mix: dict[str, float], extra: float) -> float:
    """Expected distinct channels of a journey with 1 + Poisson(extra) i.i.d. channel draws."""
    return sum(1.0 - (1.0 - p) * math.exp(-extra * p) for p in mix.values() if p > 0)


def solve_extra_events(mix: dict[str, float], target: float) -> float:
    """Poisson mean of extra events giving ``target`` distinct channels (capped, bisection)."""
    if expected_distinct(mix, MAX_EXTRA_EVENTS) <= target:
        return MAX_EXTRA_EVENTS
    lo, hi = 0.0, MAX_EXTRA_EVENTS
    for _ in range(60):
        mid = (lo + hi) / 2
        if expected_distinct(mix, mid) < target:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def _normalised(weights: dict[str, float]) -> dict[str, float]:
    total = sum(weights.values())
    return {k: w / total for k, w in weights.items() if w > 0}


@dataclass(frozen=True)
class Calibration:
    """The parsed calibration file."""

    data: dict[str, Any]

    @classmethod
    def load(cls, path: Path = CALIBRATION_PATH) -> Calibration:
        calibration = cls(tomllib.loads(path.read_text()))
        calibration.check()
        return calibration

    def check(self) -> None:
        """Vocabulary and sums: a typo in the data file is an error naming the entry."""
        d = self.data
        for uc in d["use_cases"]:
            assert uc in v.USE_CASES, f"calibration: unknown use case {uc}"
        for table in ("channel_mix",):
            for uc, mix in d[table].items():
                assert uc in v.USE_CASES, f"calibration: {table}.{uc} is not a use case"
                for ch in mix:
                    assert ch in v.CHANNELS, f"calibration: {table}.{uc}.{ch} is not a channel"
        for ch in d["growth"]:
            assert ch in v.CHANNELS, f"calibration: growth.{ch} is not a channel"
        for ind in d["channels_per_journey"]:
            assert ind in (*v.INDUSTRIES, "default"), f"calibration: {ind} is not an industry"

    @property
    def years(self) -> list[int]:
        return list(self.data["years"])

    def growth(self, use_case: str, channel: str) -> float:
        override = self.data.get("growth_by_use_case", {}).get(use_case, {})
        return float(override.get(channel, self.data["growth"][channel]))

    def mix(self, use_case: str, industry: str) -> dict[str, float]:
        """2021 channel mix of a (use case, industry)."""
        override = self.data.get("channel_mix_override", {}).get(use_case, {}).get(industry)
        return _normalised(override or self.data["channel_mix"][use_case])

    def industries(self, use_case: str) -> dict[str, float]:
        table = self.data["industry_by_use_case"]
        return _normalised(table.get(use_case, table["default"]))

    def channels_per_journey(self, industry: str) -> float:
        table = self.data["channels_per_journey"]
        return float(table.get(industry, table["default"]))

    @cached_property
    def cells(self) -> list[Cell]:
        """Every (year, industry, use case) cell with volume, mix and journey length.

        Journey length is solved per industry and year so that the journey-weighted average
        of distinct channels meets the industry's figure: cells whose mix cannot reach it
        within ``MAX_EXTRA_EVENTS`` fall short, and the industry's other cells make up for it.
        """
        latest = max(self.years)
        shares = _normalised(self.data["use_cases"])
        drafts: list[tuple[int, str, str, float, dict[str, float]]] = []
        for use_case, uc_share in shares.items():
            for industry, ind_share in self.industries(use_case).items():
                mix21 = self.mix(use_case, industry)
                for year in self.years:
                    factor = {ch: self.growth(use_case, ch) ** (latest - year) for ch in mix21}
                    raw = {ch: p / factor[ch] for ch, p in mix21.items()}
                    drafts.append(
                        (
                            year,
                            industry,
                            use_case,
                            uc_share * ind_share * sum(raw.values()),
                            _normalised(raw),
                        )
                    )
        out: list[Cell] = []
        groups: dict[tuple[int, str], list[tuple[int, str, str, float, dict[str, float]]]] = {}
        for draft in drafts:
            groups.setdefault((draft[0], draft[1]), []).append(draft)
        for (_, industry), members in groups.items():
            target = self.channels_per_journey(industry)
            aim = target
            for _ in range(50):
                extras = [solve_extra_events(m[4], aim) for m in members]
                journeys = [m[3] / (1 + x) for m, x in zip(members, extras, strict=True)]
                achieved = sum(
                    j * expected_distinct(m[4], x)
                    for m, j, x in zip(members, journeys, extras, strict=True)
                )
                achieved /= sum(journeys)
                if abs(achieved - target) < 1e-4:
                    break
                aim += target - achieved
            out.extend(
                Cell(y, ind, uc, vol, mix, x)
                for (y, ind, uc, vol, mix), x in zip(members, extras, strict=True)
            )
        return out

    def section(self, name: str) -> dict[str, Any]:
        value: dict[str, Any] = self.data[name]
        return value

    @property
    def figures(self) -> list[dict[str, Any]]:
        return list(self.data["figures"])
