"""The alert check against ClickHouse: the rules of ``JOURNEY_ALERTS_FILE`` evaluated on the
named queries (``dashboard/alerts.py``), each new firing delivered through apprise and then
recorded in the ``alerts`` table. ``journey alerts check`` runs it once; the worker's leader
runs it every ``JOURNEY_ALERTS_EVERY_S`` seconds."""

from __future__ import annotations

from datetime import UTC, datetime

from clickhouse_connect.driver.client import Client

from dashboard import alerts
from streams.clickhouse import queries

FIRED = queries.load("alert_fired", queries.OPERATIONS_DIR)


def check_now(
    client: Client, rules: list[alerts.Rule], deliver: alerts.Deliver = alerts.apprise_deliver
) -> list[tuple[alerts.Evaluation, str]]:
    """Evaluate ``rules`` on their latest periods through ``client``; deliver and record the
    new firings. ``client`` reads the rollups and writes ``alerts``."""

    def already(result: alerts.Evaluation) -> bool:
        answer = client.query(
            FIRED.sql,
            parameters={
                "rule_id": result.rule.id,
                "period_start": result.start,
                "period_end": result.end,
            },
        )
        return bool(answer.result_rows[0][0])

    def record(result: alerts.Evaluation) -> None:
        client.insert("alerts", [alerts.alert_row(result)], column_names=alerts.ALERT_COLUMNS)

    today = datetime.now(UTC).date()
    return alerts.check(rules, queries.frames(client), today, already, deliver, record)


def summary(results: list[tuple[alerts.Evaluation, str]]) -> list[str]:
    """One line per rule: what became of it, and why."""
    lines = []
    for result, outcome in results:
        period = f"{result.start:%Y-%m-%d}..{result.end:%Y-%m-%d}"
        said = result.message if result.fired else result.reason
        lines.append(f"{result.rule.id} [{period}] {outcome}: {said}")
    return lines
