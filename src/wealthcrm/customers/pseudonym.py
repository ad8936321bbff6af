"""Pseudonyms: what analysts see instead of a customer's name and number (SPEC: pseudonymised views).

A customer's pseudonym is ``P`` and 16 upper-case hex digits of HMAC-SHA256 of the customer id, keyed
with a key derived from the installation's ``field_key`` (the key of PII at rest; derived under its own
label, so a pseudonym says nothing about the ciphertexts or the blind index). The same customer has the
same pseudonym on every page, in every export and API answer, so analysts can join their exports; it
cannot be turned back into the customer without the key, and nothing in the application maps it back.
Rotating ``field_key`` changes every pseudonym. 64 bits: two of a million customers share one with a
chance of about 3 in 100 million.

For analysts (:data:`PSEUDONYMISED_ROLES`):

- the Book, its list API and its CSV export show the pseudonym as both customer number and name, and
  no national ID or mobile number, not even masked (:mod:`wealthcrm.customers.book`);
- the search box finds a customer by their whole pseudonym only (never by name or real number);
- everything that shows one identified customer (Customer 360 and its panels, contacts, PII, Today,
  alerts) refuses them: :func:`require_identified` raises :class:`~wealthcrm.errors.Forbidden`, the
  same for a customer that exists as for one that does not. They never unmask (the settings refuse it).

Branch-level pages (overview, trends, segments) hold no customer-level data and are open to analysts.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

from wealthcrm.config import Settings
from wealthcrm.customers.scope import Viewer
from wealthcrm.errors import Forbidden
from wealthcrm.security.pii import load_or_create_key
from wealthcrm.vocab import Role

PREFIX = "P"
DIGITS = 16
#: roles that see pseudonyms instead of customers' names and numbers
PSEUDONYMISED_ROLES = frozenset({Role.analyst})
REFUSED = "analysts see pseudonymised views only: no page or API of one identified customer"


class Pseudonymiser:
    """Customer id → pseudonym, with one installation key (see the module's note)."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("pseudonym key: at least 16 bytes")
        self._key = hashlib.sha256(b"wealthcrm/pseudonym/" + key).digest()

    def __call__(self, customer_id: str) -> str:
        digest = hmac.new(self._key, customer_id.encode("utf-8"), hashlib.sha256).hexdigest()
        return PREFIX + digest[:DIGITS].upper()

    def find(self, text: str, customer_ids: Iterable[str]) -> list[str]:
        """The ids among ``customer_ids`` whose pseudonym is ``text`` (any case, spaces ignored)."""
        wanted = text.strip().upper()
        if len(wanted) != len(PREFIX) + DIGITS or not wanted.startswith(PREFIX):
            return []
        return [cid for cid in customer_ids if hmac.compare_digest(self(cid), wanted)]


def pseudonymiser_for(settings: Settings) -> Pseudonymiser:
    """The installation's pseudonymiser: its key comes from ``field_key`` (or the key file in data_dir)."""
    configured = settings.field_key.get_secret_value() if settings.field_key else None
    return Pseudonymiser(load_or_create_key(configured, settings.data_dir))


def is_pseudonymised(user: Viewer) -> bool:
    """Whether ``user`` sees pseudonyms instead of customers' names and numbers."""
    return Role(user.role) in PSEUDONYMISED_ROLES


def require_identified(user: Viewer) -> None:
    """Refuse (:class:`Forbidden`) a user who may only see pseudonymised views."""
    if is_pseudonymised(user):
        raise Forbidden(REFUSED)
