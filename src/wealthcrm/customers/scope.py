"""Row-level scope: which customers a signed-in user may see, as SQL the services add to every query.

One rule per role (SPEC "Users and roles"):

- ``rm``: customers whose ``rm_id`` is the user's staff id (plus, later, customers delegated to them:
  see :func:`_delegated`);
- ``team_lead``: customers of every RM in the lead's team (``staff.team_id``) and the lead's own;
- ``branch_manager``, ``auditor``, ``admin``, ``analyst``: every customer (analysts will get
  pseudonymised views; the scope itself is the whole branch);
- ``service``: no book (they will reach a customer by an explicit, audited look-up later).

A user without a staff record sees no book in the staff-bound roles. Services call
:func:`scope_filter` on queries that join :class:`~wealthcrm.customers.models.Customer`, or use
:func:`visible_customers` as a sub-select of customer ids; a customer outside the scope is treated
exactly like one that does not exist.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import ColumnElement, Select, false, or_, select, true

from wealthcrm.customers.models import Customer
from wealthcrm.staff.models import Staff
from wealthcrm.vocab import Role

#: roles that see every customer of the branch
WHOLE_BRANCH = frozenset({Role.branch_manager, Role.auditor, Role.admin, Role.analyst})


class Viewer(Protocol):
    """Who is asking: a ``users.models.User`` or the web layer's signed-in value both fit."""

    @property
    def role(self) -> Role: ...

    @property
    def staff_id(self) -> str | None: ...


def _delegated(staff_id: str) -> ColumnElement[bool]:
    """Customers delegated to ``staff_id``: none until delegations (with expiry) land.

    Hook: return ``Customer.customer_id.in_(select(Delegation.customer_id).where(...valid today...))``.
    """
    return false()


def scope_filter(user: Viewer) -> ColumnElement[bool]:
    """A condition on ``Customer`` that holds exactly for the customers ``user`` may see."""
    role = Role(user.role)
    if role in WHOLE_BRANCH:
        return true()
    staff_id = user.staff_id
    if staff_id is None:
        return false()
    if role is Role.rm:
        return or_(Customer.rm_id == staff_id, _delegated(staff_id))
    if role is Role.team_lead:
        own_team = select(Staff.team_id).where(Staff.staff_id == staff_id).scalar_subquery()
        team_rms = select(Staff.staff_id).where(Staff.team_id == own_team)
        return or_(Customer.rm_id == staff_id, Customer.rm_id.in_(team_rms), _delegated(staff_id))
    return false()  # service staff (and any role added later) see no book until granted one


def visible_customers(user: Viewer) -> Select[str]:
    """The ids of the customers ``user`` may see, as a sub-select (``x.in_(visible_customers(u))``)."""
    return select(Customer.customer_id).where(scope_filter(user))


def sees_whole_branch(user: Viewer) -> bool:
    return Role(user.role) in WHOLE_BRANCH
