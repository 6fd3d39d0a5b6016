"""One column list: the raw table must carry exactly the contract's fields, same types."""

import re

from streams.clickhouse.migrations import discover
from streams.events import raw_columns


def _table_columns(table: str) -> list[tuple[str, str]]:
    """The table's columns after every migration: its CREATE, then any ADD COLUMN."""
    columns: list[tuple[str, str]] | None = None
    for migration in discover():
        for statement in migration.statements():
            match = re.search(rf"CREATE TABLE IF NOT EXISTS {table}\s*\((.*?)\n\)", statement, re.S)
            if match:
                columns = []
                for line in match.group(1).splitlines():
                    line = line.strip().rstrip(",")
                    if line and not line.startswith("--"):
                        name, _, rest = line.partition(" ")
                        columns.append((name, rest.split(" DEFAULT ")[0].strip()))
            added = re.search(
                rf"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS (\w+) (.+?)"
                r"(?: DEFAULT .*?)?(?: AFTER (\w+))?;?$",
                statement.strip(),
            )
            if added and columns is not None:
                column = (added.group(1), added.group(2).strip())
                after = (
                    [name for name, _ in columns].index(added.group(3)) + 1
                    if added.group(3)
                    else len(columns)
                )
                columns.insert(after, column)
    if columns is None:
        raise AssertionError(f"no CREATE TABLE for {table}")
    return columns


def test_interactions_table_matches_the_contract() -> None:
    table = _table_columns("interactions")
    contract = raw_columns()
    assert table[: len(contract)] == contract
    assert [name for name, _ in table[len(contract) :]] == [
        "kafka_partition",
        "kafka_offset",
        "late",  # whether it arrived late, as the worker decided (migration 0017)
        "ingested_at",
    ]


def test_ingest_facts_has_the_worker_columns_and_the_contract_types() -> None:
    from streams.logic.facts import FACT_COLUMNS, FACT_TYPES

    table = _table_columns("ingest_facts")
    assert tuple(name for name, _ in table) == FACT_COLUMNS
    types = dict(table)
    for name, column_type in raw_columns():
        assert types[name] == column_type, f"ingest_facts.{name} drifted from the contract"
    # Each column is sent as its own type, or a LowCardinality(String) as a String.
    for name, sent in FACT_TYPES.items():
        assert types[name] in (sent, f"LowCardinality({sent})"), name
