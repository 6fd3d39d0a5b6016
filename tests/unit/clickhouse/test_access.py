"""The access model: the checked-in SQL equals the model, and the write check reads grants right."""

from __future__ import annotations

import pytest

from streams.clickhouse import access


def test_the_checked_in_access_sql_is_the_rendered_model() -> None:
    for name, build in access.RENDERED.items():
        on_disk = (access.ACCESS_DIR / name).read_text()
        assert on_disk == build(), f"streams/sql/access/{name} is stale: run journey access render"


def test_passwords_are_bound_parameters_never_text() -> None:
    users = access.users_sql()
    for account in access.ACCOUNTS:
        assert f"{{{account.password_parameter}:String}}" in users
    assert "IDENTIFIED BY '" not in users


def test_statements_put_in_only_a_plain_database_name() -> None:
    statements = access.statements("journey")
    assert "GRANT SELECT ON journey.* TO journey_reader" in statements
    assert not any("{database:" in s for s in statements)
    with pytest.raises(access.AccessError, match="not a plain identifier"):
        access.statements("journey; DROP TABLE x")


def test_the_worker_role_writes_four_tables_and_the_readers_none() -> None:
    writes = {t for p, t in access.WRITER.grants if p != "SELECT"}
    assert writes == {"ingest_facts", "partition_leases", "ingest_losses", "alerts"}
    assert all(p == "SELECT" for p, _ in access.READER.grants)
    for account in (access.DASHBOARD, access.ANALYST):
        assert access.Limit("readonly", 2, fixed=True) in account.limits
        assert account.quota is not None


@pytest.mark.parametrize(
    ("readonly", "lines", "expected"),
    [
        (0, ["GRANT SELECT ON journey.* TO journey_dashboard"], []),
        (0, ["GRANT journey_reader TO journey_dashboard"], []),
        (0, ["GRANT SELECT(a, b), INSERT ON j.t TO u"], ["INSERT ON j.t"]),
        (0, ["GRANT ALL ON *.* TO default"], ["ALL ON *.*"]),
        (0, ["GRANT SHOW, SELECT, DROP TABLE ON j.* TO u"], ["DROP TABLE ON j.*"]),
        (2, ["GRANT ALL ON *.* TO default"], []),  # readonly refuses every write anyway
        (1, ["GRANT INSERT ON j.t TO u"], []),
    ],
)
def test_write_privileges(readonly: int, lines: list[str], expected: list[str]) -> None:
    assert access.write_privileges(readonly, lines) == expected


def test_users_xml_needs_every_password_and_keeps_only_hashes() -> None:
    with pytest.raises(access.AccessError, match="no password given for journey_analyst"):
        access.users_xml("journey", {"journey_worker": "a", "journey_dashboard": "b"})
    xml = access.users_xml(
        "journey", {"journey_worker": "s3cret-w", "journey_dashboard": "d", "journey_analyst": "a"}
    )
    assert "s3cret-w" not in xml
    assert "<query>GRANT INSERT ON journey.`ingest_facts`</query>" in xml
    assert "<readonly><const/></readonly>" in xml


def test_passwords_come_from_the_environment_by_name() -> None:
    with pytest.raises(access.AccessError, match="JOURNEY_ANALYST_CLICKHOUSE_PASSWORD"):
        access.passwords_from(
            {
                "JOURNEY_WORKER_CLICKHOUSE_PASSWORD": "w",
                "JOURNEY_DASHBOARD_CLICKHOUSE_PASSWORD": "d",
            }
        )
