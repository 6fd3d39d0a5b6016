"""Customer ids never travel in clear: a keyed hash made before an event is published.

``ph:<key id>:<32 hex>`` is the first 128 bits of HMAC-SHA256(key, tenant + NUL + id): keyed,
so a leak of the analytics store cannot be reversed by hashing guessed ids without the key;
tenant-scoped, so two brands' customers with the same id never look alike; deterministic, so
one customer's events still join up across channels and journeys. The key comes from
``JOURNEY_PSEUDONYM_KEY`` (with ``JOURNEY_PSEUDONYM_KEY_ID`` naming it) and lives only with
the publisher: the worker, ClickHouse and the dashboard only ever see pseudonyms.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from streams.events import PSEUDONYM_PATTERN, python_pattern
from streams.settings import Settings

PSEUDONYM = re.compile(python_pattern(PSEUDONYM_PATTERN))  # the contract's own
RECENT = 50_000  # pseudonyms remembered (about 10 MB)


def is_pseudonym(value: str) -> bool:
    """True if ``value`` already has the pseudonym form (published before, or by another tool)."""
    return PSEUDONYM.fullmatch(value) is not None


class Pseudonymiser:
    """Turns a brand's customer id into its pseudonym with one key."""

    def __init__(self, key: bytes, key_id: str = "k1") -> None:
        if not key:
            raise ValueError("the pseudonymisation key is empty")
        if not re.fullmatch(r"[a-z0-9]{1,16}", key_id):
            raise ValueError(f"key id {key_id!r} must be 1 to 16 of a-z and 0-9")
        self._key = key
        self.key_id = key_id
        # A customer's events come in runs (a journey has several): the last pseudonyms made.
        self._recent: dict[tuple[str, str], str] = {}

    def __call__(self, tenant: str, customer_id: str) -> str:
        """The pseudonym of ``customer_id`` within ``tenant``; pseudonyms pass through."""
        known = self._recent.get((tenant, customer_id))
        if known is not None:
            return known
        if is_pseudonym(customer_id):
            return customer_id
        message = f"{tenant}\0{customer_id}".encode("utf-8", "surrogatepass")
        pseudonym = f"ph:{self.key_id}:{hmac.digest(self._key, message, hashlib.sha256).hex()[:32]}"
        if len(self._recent) >= RECENT:
            self._recent.clear()
        self._recent[(tenant, customer_id)] = pseudonym
        return pseudonym


def pseudonymiser(settings: Settings) -> Pseudonymiser:
    """The pseudonymiser configured by JOURNEY_PSEUDONYM_KEY / JOURNEY_PSEUDONYM_KEY_ID."""
    return Pseudonymiser(
        settings.pseudonym_key.get_secret_value().encode(), settings.pseudonym_key_id
    )
