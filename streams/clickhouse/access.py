"""Least-privilege ClickHouse access: one model, rendered as SQL and as ``users.xml``.

Three accounts, each with only what its process does:

- ``journey_worker`` (role ``journey_writer``): inserts into ``ingest_facts`` (the views
  write every rollup as the migrator, their definer) and ``partition_leases``; reads the
  progress and lease tables it resumes from (and the empty Null table the views read). It
  cannot read a rollup, alter or drop anything.
- ``journey_dashboard`` (role ``journey_reader``): reads the database, ``readonly = 2`` (no
  write of any kind), queries capped at 30 s and 2 GiB that it cannot raise, an hourly quota.
- ``journey_analyst`` (role ``journey_reader``): the same reads with room for ad hoc work
  (5 min, 8 GiB); a team gives each analyst a user of their own with this role and profile.

Migrations run as an administrator (the views' definer), never as one of these.

A server with SQL-driven access control takes ``streams/sql/access/*.sql`` (generated from this
model, checked in, kept equal by a test) through ``journey access apply``: passwords are bound
parameters, the database is an ``{database:Identifier}`` placeholder checked against a plain
identifier before it is put in (ClickHouse accepts no parameter in ``GRANT ... ON``). A server
configured from files (the embedded one included: clickhouse-local reads only ``users.xml``)
takes :func:`users_xml` of the same model.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

from streams.clickhouse.client import SQL_DIR
from streams.clickhouse.statements import split_statements
from streams.clickhouse.url import IDENTIFIER
from streams.errors import JourneyError, first_line

ACCESS_DIR = SQL_DIR / "access"
# The administrator of a server configured by users_xml(admin_password=...): migrations and
# access management only.
ADMIN_USER = "journey_admin"
DATABASE_PLACEHOLDER = "{database:Identifier}"
GIB = 1024**3


class AccessError(JourneyError):
    """The access model cannot be rendered or applied as asked."""


@dataclass(frozen=True)
class Limit:
    """A setting forced on a profile: ``fixed`` cannot be changed, else it may only go down."""

    name: str
    value: int | str
    fixed: bool = False

    @property
    def literal(self) -> str:
        """The value as SQL writes it."""
        return f"'{self.value}'" if isinstance(self.value, str) else str(self.value)


@dataclass(frozen=True)
class Quota:
    """Per-hour ceilings on one user's work (ClickHouse quota keyed by user)."""

    name: str
    queries: int
    execution_time_s: int
    read_rows: int


@dataclass(frozen=True)
class Role:
    """Privileges on tables of the journey database (``*`` for all of them)."""

    name: str
    grants: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Account:
    """A login: its role, optional profile and quota, and the parameter holding its password."""

    user: str
    role: Role
    password_parameter: str
    profile: str | None = None
    limits: tuple[Limit, ...] = field(default_factory=tuple)
    quota: Quota | None = None


WRITER = Role(
    "journey_writer",
    (
        ("INSERT", "ingest_facts"),
        # Pushing an insert through the views reads the inserted block as the inserting user
        # (ClickHouse checks SELECT on the source even for DEFINER views), at both steps: the
        # fence reads ingest_facts, the other views fenced_facts. Both are Null tables, so
        # these grants read nothing stored.
        ("SELECT", "ingest_facts"),
        ("SELECT", "fenced_facts"),
        ("INSERT", "partition_leases"),
        ("SELECT", "partition_leases"),
        ("SELECT", "ingest_progress"),
        # Records the topic deleted before they were applied, found on assignment.
        ("INSERT", "ingest_losses"),
        ("SELECT", "ingest_losses"),
        # The scheduled alert check (streams/agents/alert_timer.py, journey alerts check): the
        # daily rollups its named queries read, and the firings it records.
        ("SELECT", "rollup_interactions_daily"),
        ("SELECT", "rollup_calls_daily"),
        ("SELECT", "rollup_messaging_daily"),
        ("SELECT", "rollup_journeys_daily"),
        ("INSERT", "alerts"),
        ("SELECT", "alerts"),
    ),
)
READER = Role("journey_reader", (("SELECT", "*"),))

WORKER = Account("journey_worker", WRITER, "worker_password")
MIB = 1024**2


def reader_limits(seconds: int, memory: int, rows: int, result_bytes: int) -> tuple[Limit, ...]:
    """What bounds a reading account: no writes, and time, memory and result size it cannot
    raise; an overflow is an error, never a silently cut answer."""
    return (
        Limit("readonly", 2, fixed=True),  # reads and per-query settings only
        Limit("max_execution_time", seconds),
        Limit("max_memory_usage", memory),
        Limit("max_result_rows", rows),
        Limit("max_result_bytes", result_bytes),
        Limit("result_overflow_mode", "throw", fixed=True),
        Limit("timeout_overflow_mode", "throw", fixed=True),
    )


DASHBOARD = Account(
    "journey_dashboard",
    READER,
    "dashboard_password",
    profile="journey_dashboard_profile",
    limits=reader_limits(30, 2 * GIB, 1_000_000, 256 * MIB),
    quota=Quota(
        "journey_dashboard_quota", queries=36_000, execution_time_s=1_800, read_rows=10**12
    ),
)
ANALYST = Account(
    "journey_analyst",
    READER,
    "analyst_password",
    profile="journey_analyst_profile",
    limits=reader_limits(300, 8 * GIB, 10_000_000, 2 * GIB),
    quota=Quota("journey_analyst_quota", queries=5_000, execution_time_s=3_600, read_rows=10**12),
)
ACCOUNTS = (WORKER, DASHBOARD, ANALYST)
ROLES = (WRITER, READER)


GENERATED = (
    "-- Generated by streams/clickhouse/access.py (journey access render);"
    " edit the model, not this file."
)


def _on(database: str, table: str) -> str:
    return f"{database}.{table}" if table == "*" else f"{database}.`{table}`"


def roles_sql() -> str:
    """``streams/sql/access/0001_roles_and_profiles.sql``: roles, their grants, profiles (no
    secret)."""
    lines = [
        GENERATED,
        "-- Roles and settings profiles of the three journey accounts. Run as an administrator:",
        "-- journey access apply. {database:Identifier} is the journey database.",
    ]
    for role in ROLES:
        lines.append(f"CREATE ROLE IF NOT EXISTS {role.name};")
        for privilege, table in role.grants:
            lines.append(f"GRANT {privilege} ON {_on(DATABASE_PLACEHOLDER, table)} TO {role.name};")
    for account in ACCOUNTS:
        if account.profile is None:
            continue
        settings = ", ".join(
            f"{limit.name} = {limit.literal} {'CONST' if limit.fixed else f'MAX {limit.literal}'}"
            for limit in account.limits
        )
        lines.append(f"CREATE SETTINGS PROFILE OR REPLACE {account.profile} SETTINGS {settings};")
    return "\n".join(lines) + "\n"


def users_sql() -> str:
    """``streams/sql/access/0002_users_and_quotas.sql``: the users (bound passwords) and quotas."""
    lines = [
        GENERATED,
        "-- The three journey users; passwords are bound parameters, never written here.",
    ]
    for account in ACCOUNTS:
        profile = f" SETTINGS PROFILE {account.profile}" if account.profile else ""
        lines.append(
            f"CREATE USER IF NOT EXISTS {account.user} IDENTIFIED WITH sha256_password BY "
            f"{{{account.password_parameter}:String}}{profile};"
        )
        # A rerun (rotation) sets the password the secret holds now.
        lines.append(
            f"ALTER USER {account.user} IDENTIFIED WITH sha256_password BY "
            f"{{{account.password_parameter}:String}}{profile};"
        )
        lines.append(f"GRANT {account.role.name} TO {account.user};")
        lines.append(f"SET DEFAULT ROLE {account.role.name} TO {account.user};")
        if account.quota is not None:
            quota = account.quota
            lines.append(
                f"CREATE QUOTA OR REPLACE {quota.name} KEYED BY user_name FOR INTERVAL 1 hour "
                f"MAX queries = {quota.queries}, execution_time = {quota.execution_time_s}, "
                f"read_rows = {quota.read_rows} TO {account.user};"
            )
    return "\n".join(lines) + "\n"


RENDERED = {
    "0001_roles_and_profiles.sql": roles_sql,
    "0002_users_and_quotas.sql": users_sql,
}


def statements(database: str, directory: Path = ACCESS_DIR) -> list[str]:
    """Every statement of the access files, in order, for ``database``."""
    if not IDENTIFIER.fullmatch(database):
        raise AccessError(f"database {database!r} is not a plain identifier")
    found: list[str] = []
    for name in sorted(RENDERED):
        path = directory / name
        if not path.exists():
            raise AccessError(f"{path} is missing: run journey access render")
        # The identifier was checked above; ClickHouse binds no parameter in GRANT ... ON.
        text = path.read_text().replace(DATABASE_PLACEHOLDER, database)
        found.extend(split_statements(text))
    return found


def render(directory: Path = ACCESS_DIR) -> list[Path]:
    """Write the SQL files from the model; return the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, build in RENDERED.items():
        path = directory / name
        path.write_text(build())
        written.append(path)
    return written


def users_xml(
    databases: str | Sequence[str], passwords: Mapping[str, str], admin_password: str = ""
) -> str:
    """The same accounts as a ``users.xml`` for a server configured from files.

    ``databases`` are the journey databases the accounts are granted on (one in use; the
    test suite grants a pool of them, one per test). ``passwords`` maps each account's user
    name to its password (stored as SHA-256 only).

    Without ``admin_password`` the ``default`` user stays the administrator that runs
    migrations. With it, the administrator is ``journey_admin`` behind that password, and
    ``default`` keeps only ``SYSTEM LISTEN``: the embedded server's engine opens its own
    session as a passwordless ``default`` (clickhouse-local takes no user or password), which
    any local process could then use too, so it is given nothing else.
    """
    names = [databases] if isinstance(databases, str) else list(databases)
    for database in names:
        if not IDENTIFIER.fullmatch(database):
            raise AccessError(f"database {database!r} is not a plain identifier")
    missing = [a.user for a in ACCOUNTS if not passwords.get(a.user)]
    if missing:
        raise AccessError(f"no password given for {', '.join(missing)}")

    def sha(text: str) -> str:
        return hashlib.sha256(text.encode()).hexdigest()

    users = [
        "  <default>",
        "   <password></password>",
        "   <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>",
        "   <profile>default</profile><quota>default</quota>",
    ]
    if admin_password:
        users += [
            "   <grants><query>GRANT SYSTEM LISTEN ON *.*</query></grants>",
            "  </default>",
            f"  <{ADMIN_USER}>",
            f"   <password_sha256_hex>{sha(admin_password)}</password_sha256_hex>",
            "   <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>",
            "   <profile>default</profile><quota>default</quota>",
            f"  </{ADMIN_USER}>",
        ]
    else:
        users.append("  </default>")
    profiles = ["  <default/>"]
    quotas = ["  <default/>"]
    for account in ACCOUNTS:
        grants = "".join(
            f"<query>{escape(f'GRANT {p} ON {_on(database, t)}')}</query>"
            for database in names
            for p, t in account.role.grants
        )
        users += [
            f"  <{account.user}>",
            f"   <password_sha256_hex>{sha(passwords[account.user])}</password_sha256_hex>",
            "   <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>",
            f"   <profile>{account.profile or 'default'}</profile>",
            f"   <quota>{account.quota.name if account.quota else 'default'}</quota>",
            f"   <grants>{grants}</grants>",
            f"  </{account.user}>",
        ]
        if account.profile:
            values = "".join(
                f"<{lim.name}>{escape(str(lim.value))}</{lim.name}>" for lim in account.limits
            )
            constraints = "".join(
                f"<{lim.name}>{'<const/>' if lim.fixed else f'<max>{lim.value}</max>'}</{lim.name}>"
                for lim in account.limits
            )
            profiles.append(
                f"  <{account.profile}>{values}<constraints>{constraints}</constraints>"
                f"</{account.profile}>"
            )
        if account.quota:
            q = account.quota
            quotas.append(
                f"  <{q.name}><keyed_by_user/><interval><duration>3600</duration>"
                f"<queries>{q.queries}</queries><execution_time>{q.execution_time_s}"
                f"</execution_time><read_rows>{q.read_rows}</read_rows><errors>0</errors>"
                f"<result_rows>0</result_rows></interval></{q.name}>"
            )
    return "\n".join(
        [
            "<clickhouse>",
            " <users>",
            *users,
            " </users>",
            " <profiles>",
            *profiles,
            " </profiles>",
            " <quotas>",
            *quotas,
            " </quotas>",
            "</clickhouse>",
            "",
        ]
    )


PASSWORD_ENV = {
    WORKER.user: "JOURNEY_WORKER_CLICKHOUSE_PASSWORD",
    DASHBOARD.user: "JOURNEY_DASHBOARD_CLICKHOUSE_PASSWORD",
    ANALYST.user: "JOURNEY_ANALYST_CLICKHOUSE_PASSWORD",
}


def passwords_from(environ: Mapping[str, str]) -> dict[str, str]:
    """Each account's password from its variable (``Settings.secrets_by_env_name``); a
    missing one is an error."""
    missing = [name for name in PASSWORD_ENV.values() if not environ.get(name)]
    if missing:
        raise AccessError(f"set {', '.join(missing)} (each account's ClickHouse password)")
    return {user: environ[name] for user, name in PASSWORD_ENV.items()}


def apply(admin_url: str, passwords: Mapping[str, str]) -> int:
    """Create or update roles, profiles, users and quotas on a server with SQL-driven access
    control, as the administrator of ``admin_url``; return the number of statements run."""
    from streams.clickhouse.client import connect, parse_url

    database = parse_url(admin_url).database
    parameters = {a.password_parameter: passwords[a.user] for a in ACCOUNTS}
    client = connect(admin_url)
    try:
        done = 0
        for number, statement in enumerate(statements(database), start=1):
            bound = {k: v for k, v in parameters.items() if f"{{{k}:" in statement}
            try:
                client.command(statement, parameters=bound or None)
            except Exception as exc:
                raise AccessError(
                    f"access statement {number} ({statement[:60]}...): {first_line(exc)}"
                ) from exc
            done += 1
        return done
    finally:
        client.close()


# Privileges that read; anything else granted (INSERT, ALTER, DROP, SYSTEM, ALL, table
# functions that reach other systems...) makes a credential able to change something.
READ_PRIVILEGES = frozenset(
    {"SELECT", "SHOW", "SHOW DATABASES", "SHOW TABLES", "SHOW COLUMNS", "SHOW DICTIONARIES"}
    | {"DICTGET", "SHOW ACCESS", "SHOW USERS", "SHOW ROLES", "SHOW QUOTAS", "SHOW PROFILES"}
)
GRANT_LINE = re.compile(r"^GRANT (?P<privileges>.+?) ON (?P<target>\S+) TO ")
CURRENT_READONLY = "SELECT toUInt8(getSetting('readonly'))"
CURRENT_GRANTS = "SHOW GRANTS FINAL"  # the user's own grants merged with its roles'


def write_privileges(readonly: int, grant_lines: list[str]) -> list[str]:
    """What lets a session change data: none under ``readonly`` 1 or 2 (the server refuses
    every write), else each granted privilege that is not a read, as ``PRIVILEGE ON target``."""
    if readonly in (1, 2):
        return []
    found: list[str] = []
    for line in grant_lines:
        match = GRANT_LINE.match(line.strip())
        if match is None:  # "GRANT role TO user": the role's privileges are in FINAL already
            continue
        # Column lists ("SELECT(a, b)") would split on their commas; they do not matter here.
        privileges = re.sub(r"\([^)]*\)", "", match.group("privileges"))
        for privilege in (p.strip() for p in privileges.split(",")):
            if privilege and privilege.upper() not in READ_PRIVILEGES:
                found.append(f"{privilege} ON {match.group('target')}")
    return found


def session_write_privileges(url: str) -> list[str]:
    """:func:`write_privileges` of the credentials in ``url``, asked of the server itself."""
    from streams.clickhouse.client import connect

    client = connect(url)
    try:
        readonly = int(str(client.command(CURRENT_READONLY)))
        lines = [str(row[0]) for row in client.query(CURRENT_GRANTS).result_rows]
        return write_privileges(readonly, lines)
    finally:
        client.close()
