"""The migration files themselves: names, order, idempotent statements (PostHog's rules)."""

import re
from pathlib import Path

import pytest

from streams.clickhouse.migrations import MIGRATIONS_DIR, MigrationError, discover
from streams.clickhouse.statements import split_statements


def test_versions_are_unique_and_contiguous() -> None:
    versions = [m.version for m in discover()]
    assert versions == list(range(1, len(versions) + 1))


def test_every_create_is_idempotent() -> None:
    for migration in discover():
        for statement in migration.statements():
            body = re.sub(r"--[^\n]*", "", statement).strip()
            if re.match(r"(?i)create\b", body):
                assert re.match(
                    r"(?i)create\s+(table|database|view|materialized view|"
                    r"function|user|role|dictionary)\s+if\s+not\s+exists",
                    body,
                ), f"{migration.path.name}: not idempotent: {body[:80]}"


def test_every_order_partition_and_ttl_carries_a_why_comment() -> None:
    for migration in discover():
        lines = migration.sql.splitlines()
        for i, line in enumerate(lines):
            if re.match(r"\s*(ORDER BY|PARTITION BY|TTL)\b", line):
                above = lines[i - 1].strip() if i else ""
                assert above.startswith("--"), (
                    f"{migration.path.name}:{i + 1}: '{line.strip()}' needs a why-comment above"
                )


def test_split_statements_respects_quotes_and_comments() -> None:
    sql = "SELECT ';' AS a; -- a comment; with semicolon\nSELECT 2;\n-- trailing only\n"
    assert split_statements(sql) == ["SELECT ';' AS a", "-- a comment; with semicolon\nSELECT 2"]


def test_malformed_names_and_duplicate_versions_are_errors(tmp_path: Path) -> None:
    (tmp_path / "0001_create_a.sql").write_text("SELECT 1")
    (tmp_path / "0001_create_b.sql").write_text("SELECT 1")
    with pytest.raises(MigrationError, match="already used"):
        discover(tmp_path)
    (tmp_path / "0001_create_b.sql").unlink()
    (tmp_path / "2-bad.sql").write_text("SELECT 1")
    with pytest.raises(MigrationError, match="NNNN_verb_object"):
        discover(tmp_path)


def test_migrations_dir_is_the_repositorys() -> None:
    assert MIGRATIONS_DIR.name == "migrations"
    assert (MIGRATIONS_DIR / "0001_create_interactions.sql").exists()
