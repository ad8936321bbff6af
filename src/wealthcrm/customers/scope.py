"""Row-level scope: which customers a signed-in user may see, as SQL the services add to every query.

One rule per role (SPEC "Users and roles"):

- ``rm``: customers whose ``rm_id`` is the user's staff id, plus customers delegated to them for
  today (:func:`_delegated_ids`: ``starts_on <= today <= ends_on``, not revoked);
- ``team_lead``: customers of every RM in the lead's team (``staff.team_id``), the lead's own, and
  customers delegated to the lead;
- ``branch_manager``, ``auditor``, ``admin``, ``analyst``: every customer (analysts will get
  pseudonymised views; the scope itself is the whole branch);
- ``service``: no book; only the customers of their unexpired, audited look-ups
  (:class:`~wealthcrm.customers.models.AccessGrant`, see :mod:`wealthcrm.customers.lookup`).

"Today" for delegations is the server's date (``date.today()``), bound when the query runs, not SQL
``CURRENT_DATE``: SQLite's ``CURRENT_DATE`` is the UTC date, so in Beijing a delegation would start
and end at 08:00 there but at midnight on PostgreSQL. (The web layer's ``current_date`` is the
branch's date, ``sla.time_zone``; on a server set to the branch's time zone, as bank servers are, the
two agree; on one set to UTC a delegation starts and ends at the server's midnight.) Grants expire
on naive-UTC timestamps, like every stored timestamp.

A user without a staff record sees no book in the staff-bound roles. Services call
:func:`scope_filter` on queries that join :class:`~wealthcrm.customers.models.Customer`, or use
:func:`visible_customers` as a sub-select of customer ids; a customer outside the scope is treated
exactly like one that does not exist.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Protocol

from sqlalchemy import ColumnElement, CompoundSelect, Select, bindparam, false, or_, select, true, union
from sqlalchemy.orm import aliased
from sqlalchemy.types import Date, DateTime

from wealthcrm.customers.models import AccessGrant, Customer, Delegation
from wealthcrm.db import utcnow
from wealthcrm.staff.models import Staff
from wealthcrm.vocab import Role

#: roles that see every customer of the branch
WHOLE_BRANCH = frozenset({Role.branch_manager, Role.auditor, Role.admin, Role.analyst})


class Viewer(Protocol):
    """Who is asking: a ``users.models.User`` or the web layer's signed-in value both fit.

    Service staff's look-up grants are found by the user's ``id``, read with ``getattr`` so that
    viewers without one (a bare role + staff id) still fit and simply hold no grants.
    """

    @property
    def role(self) -> Role: ...

    @property
    def staff_id(self) -> str | None: ...


def _today() -> date:
    return date.today()


def _delegated_ids(staff_id: str, today: date | None = None) -> Select[str]:
    """Customers delegated to ``staff_id`` today (``starts_on`` to ``ends_on`` inclusive, not revoked).

    ``today`` defaults to the date when the query runs (a bound parameter evaluated at execution).
    """
    day = (
        bindparam("delegation_day", callable_=_today, type_=Date, unique=True)
        if today is None
        else bindparam("delegation_day", value=today, type_=Date, unique=True)
    )
    valid = select(Delegation.customer_id).where(
        Delegation.to_staff_id == staff_id,
        Delegation.revoked_at.is_(None),
        Delegation.starts_on <= day,
        Delegation.ends_on >= day,
    )
    return valid


def _granted(user_id: int) -> ColumnElement[bool]:
    """Customers of the user's unexpired look-up grants (service staff)."""
    now = bindparam("grant_now", callable_=utcnow, type_=DateTime, unique=True)
    valid = select(AccessGrant.customer_id).where(
        AccessGrant.user_id == user_id, AccessGrant.expires_at > now
    )
    return Customer.customer_id.in_(valid)


#: the customers table once more, for the book's sub-select; made once: an alias's first use per
#: instance costs milliseconds of SQLAlchemy set-up, and pages build the scope several times a request
_BOOK = aliased(Customer, name="book")


def scope_filter(user: Viewer) -> ColumnElement[bool]:
    """A condition on ``Customer`` that holds exactly for the customers ``user`` may see."""
    role = Role(user.role)
    if role in WHOLE_BRANCH:
        return true()
    if role is Role.service:  # no book: only what their audited look-ups opened, staff record or not
        user_id = getattr(user, "id", None)
        return _granted(user_id) if isinstance(user_id, int) else false()
    staff_id = user.staff_id
    if staff_id is None:
        return false()
    book_ids = _book_ids(role, staff_id)
    return false() if book_ids is None else Customer.customer_id.in_(book_ids)


def _book_ids(role: Role, staff_id: str) -> CompoundSelect[Any] | None:
    """The ids of an RM's (or a team lead's team's) book and of the customers delegated to them today;
    None for other roles.

    One IN over a UNION, not ``rm_id = … OR customer_id IN (delegations)``: an OR across two columns
    keeps PostgreSQL from using the rm_id index (a whole-branch scan and hash join per page, 60 ms at
    50,000 customers, instead of the book's few hundred rows looked up by key)."""
    book = _BOOK
    if role is Role.rm:
        own = select(book.customer_id).where(book.rm_id == staff_id)
        return union(own, _delegated_ids(staff_id))
    if role is Role.team_lead:
        own_team = select(Staff.team_id).where(Staff.staff_id == staff_id).scalar_subquery()
        team_rms = select(Staff.staff_id).where(Staff.team_id == own_team)
        own = select(book.customer_id).where(or_(book.rm_id == staff_id, book.rm_id.in_(team_rms)))
        return union(own, _delegated_ids(staff_id))
    return None  # any role added later sees nothing until it is given a rule here


def visible_customers(user: Viewer) -> Select[Any] | CompoundSelect[Any]:
    """The ids of the customers ``user`` may see, as a sub-select (``x.in_(visible_customers(u))``).

    For an RM or team lead, the book's UNION itself: wrapped in one more ``SELECT … FROM customers
    WHERE customer_id IN (…)`` PostgreSQL misjudged its size (10,000 rows instead of 130) and scanned
    the whole tasks table for Today (12 ms at 50,000 customers) instead of looking the book's tasks
    up by key."""
    staff_id = user.staff_id
    if Role(user.role) in (Role.rm, Role.team_lead) and staff_id is not None:
        book_ids = _book_ids(Role(user.role), staff_id)
        if book_ids is not None:
            return book_ids
    return select(Customer.customer_id).where(scope_filter(user))


def sees_whole_branch(user: Viewer) -> bool:
    return Role(user.role) in WHOLE_BRANCH
