"""The ClickHouse accounts of a local installation, so least privilege holds on the demo too.

The embedded server is configured from a ``users.xml`` (clickhouse-local has no SQL-driven
access control). ``journey up`` generates a password for each account on its first start and
keeps them in ``$JOURNEY_STATE_DIR/clickhouse/accounts.json`` (mode 0600): the administrator
(``journey_admin``, used for migrations and access management only), ``journey_worker``,
``journey_dashboard`` and ``journey_analyst`` (``streams/clickhouse/access.py`` is the model). The
passwordless ``default`` user the embedded engine needs for itself can do nothing but
``SYSTEM LISTEN``.

Each process then reaches ClickHouse as its own account: :func:`url_for` puts the role's
account into ``CLICKHOUSE_URL`` when that URL names this machine, carries no user of its own
and the state directory holds the accounts. A URL with credentials is used as it is, which is
how a real server is configured (compose and Kubernetes give each service its own URL).
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from streams.clickhouse import access
from streams.settings import Settings

Role = Literal["admin", "worker", "dashboard", "analyst"]
ADMIN_USER = access.ADMIN_USER
USER_OF_ROLE: dict[Role, str] = {
    "admin": ADMIN_USER,
    "worker": access.WORKER.user,
    "dashboard": access.DASHBOARD.user,
    "analyst": access.ANALYST.user,
}


@dataclass(frozen=True)
class LocalAccounts:
    """The passwords of the local server's accounts, by user name."""

    passwords: dict[str, str]

    @staticmethod
    def path(state_dir: Path) -> Path:
        return state_dir / "clickhouse" / "accounts.json"

    @classmethod
    def load(cls, state_dir: Path) -> LocalAccounts | None:
        """The accounts kept in ``state_dir``, or None when none were made there."""
        try:
            data = json.loads(cls.path(state_dir).read_text())
        except (FileNotFoundError, ValueError):
            return None
        return cls({str(k): str(v) for k, v in data.items()})

    @classmethod
    def ensure(cls, state_dir: Path) -> LocalAccounts:
        """The accounts of ``state_dir``, made (random passwords, file mode 0600) if missing."""
        found = cls.load(state_dir)
        if found is not None and set(USER_OF_ROLE.values()) <= set(found.passwords):
            return found
        accounts = cls({user: secrets.token_urlsafe(24) for user in USER_OF_ROLE.values()})
        path = cls.path(state_dir)
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as out:
            json.dump(accounts.passwords, out, indent=2)
        return accounts

    def users_xml(self, databases: str | list[str]) -> str:
        """The server's ``users.xml``: the three accounts granted on ``databases``, and the
        administrator behind its password."""
        return access.users_xml(
            databases,
            {u: p for u, p in self.passwords.items() if u != ADMIN_USER},
            admin_password=self.passwords[ADMIN_USER],
        )


def url_for(settings: Settings, role: Role) -> str:
    """The ClickHouse URL ``role`` connects with (see the module docstring)."""
    url = settings.clickhouse_url.get_secret_value()
    target = settings.clickhouse_target
    if target.has_credentials or not target.is_local:
        return url
    accounts = LocalAccounts.load(settings.state_dir)
    if accounts is None:
        return url
    user = USER_OF_ROLE[role]
    return target.with_account(user, accounts.passwords[user])
