"""The bench's paired rounds: each round's ratios, and the medians issue 13 is judged by."""

from tests.bench.bench_pipeline import PairedRound, paired_report


def test_each_round_gives_its_ratios_and_the_medians_are_of_the_ratios() -> None:
    rounds = [
        PairedRound(ceiling=400_000, worker=60_000, peer=20_000, exact=True),
        PairedRound(ceiling=200_000, worker=40_000, peer=10_000, exact=True),
        PairedRound(ceiling=300_000, worker=30_000, peer=15_000, exact=False),
    ]
    lines = paired_report(rounds)
    assert "| 1 | 400,000 | 60,000 | 20,000 | 0.150 | 3.00 | exact |" in lines
    assert "| 2 | 200,000 | 40,000 | 10,000 | 0.200 | 4.00 | exact |" in lines
    assert "| 3 | 300,000 | 30,000 | 15,000 | 0.100 | 2.00 | NOT EXACT |" in lines
    # The median of each round's ratio (0.15, 0.2, 0.1 and 3, 4, 2), not a ratio of medians
    # (which would be 40,000 / 300,000 = 0.133 and 40,000 / 15,000 = 2.67).
    assert lines[-1] == (
        "Median of 3 rounds: the worker at 0.150 of the ceiling and 3.00 times the peer."
    )
