"""Unmasking PII: the deliberate, role-limited, reasoned and audited read of a clear value.

Who may unmask (``security.unmask_roles``; default ``rm``, ``team_lead``, ``branch_manager``), and
only for customers in their scope (an RM: own book and customers delegated to them today; a team lead:
the team's books; a branch manager: the branch). Never service staff (SPEC: masked PII) nor analysts
(pseudonymised views); the settings refuse those two. Auditors and administrators review and
configure and have no need for clear values, so they are left out by default (a bank may add them).

Every unmask writes an ``unmask`` audit entry with the field and the reason, never the value itself.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol

from sqlalchemy.orm import Session

from wealthcrm.audit.service import Actor, record
from wealthcrm.config import SecuritySettings
from wealthcrm.customers.scope import Viewer
from wealthcrm.customers.service import get_customer
from wealthcrm.errors import Forbidden, Invalid, NotFound
from wealthcrm.security.pii import FieldCipher

ACTION = "unmask"


class PiiField(StrEnum):
    national_id = "national_id"
    mobile = "mobile"


class Unmasker(Viewer, Actor, Protocol):
    """Who unmasks: a role and staff id for the scope, a username for the audit log."""


def may_unmask(user: Viewer, settings: SecuritySettings) -> bool:
    """Whether ``user``'s role may unmask at all (the scope still decides per customer)."""
    return str(getattr(user.role, "value", user.role)) in settings.unmask_roles


def unmask(
    session: Session,
    *,
    user: Unmasker,
    customer_id: str,
    field: PiiField,
    reason: str,
    cipher: FieldCipher,
    settings: SecuritySettings,
    ip: str | None = None,
) -> str:
    """The clear national ID or mobile number of a customer in ``user``'s scope, audited with ``reason``.

    Raises :class:`Forbidden` for a role that may not unmask, :class:`Invalid` for a missing or short
    reason, :class:`NotFound` for a customer outside the scope (like an unknown one) or without the field.
    """
    if not may_unmask(user, settings):
        raise Forbidden(f"the {getattr(user.role, 'value', user.role)} role may not unmask personal data")
    reason = (reason or "").strip()
    if len(reason) < settings.unmask_reason_min_length:
        raise Invalid(f"reason: at least {settings.unmask_reason_min_length} characters")
    customer = get_customer(session, user=user, customer_id=customer_id)
    field = PiiField(field)
    ciphertext = customer.national_id_enc if field is PiiField.national_id else customer.mobile_enc
    if not ciphertext:
        raise NotFound(f"no {field.value} on record for customer {customer_id!r}")
    value = cipher.decrypt(ciphertext)
    record(
        session,
        actor=user,
        action=ACTION,
        entity="customer",
        entity_id=customer.customer_id,
        customer_id=customer.customer_id,
        reason=reason,
        details={"field": field.value},
        ip=ip,
    )
    return value
