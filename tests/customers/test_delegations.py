"""Delegations: who may lend a customer to whom, and the delegate's scope from the first to the last day
(inclusive) and not after; on SQLite and PostgreSQL, against the application's date when the query runs."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from wealthcrm.audit.models import AuditEntry
from wealthcrm.config import Settings
from wealthcrm.customers import delegations, service
from wealthcrm.customers.models import Delegation
from wealthcrm.customers.scope import _delegated_ids, visible_customers
from wealthcrm.db import session_scope
from wealthcrm.errors import Conflict, Forbidden, Invalid, NotFound
from wealthcrm.users import service as users
from wealthcrm.users.models import User

from .workbench import load_workbench

TODAY = date.today()
NOW = datetime(2026, 11, 28, 9, 0)


@pytest.fixture
def wb(engine: Engine, settings: Settings, tmp_path: Path) -> Engine:
    load_workbench(engine, settings, tmp_path / "branch")
    return engine


def _user(session: Session, username: str) -> User:
    return users.get(session, username=username)


def _lend(session: Session, by: str, customer_id: str, to: str, starts: date, ends: date) -> Delegation:
    return delegations.create(
        session,
        actor=_user(session, by),
        customer_id=customer_id,
        to_staff_id=to,
        starts_on=starts,
        ends_on=ends,
        reason="annual leave",
        today=starts,  # created when it starts (a past start is refused for new ones)
        now=NOW,
    )


def _visible(session: Session, username: str) -> list[str]:
    return sorted(session.scalars(visible_customers(_user(session, username))))


@pytest.mark.parametrize(
    ("starts", "ends", "sees"),
    [
        (TODAY, TODAY, True),  # a one-day cover, today
        (TODAY - timedelta(days=5), TODAY, True),  # the last day is included
        (TODAY - timedelta(days=5), TODAY - timedelta(days=1), False),  # ended yesterday
        (TODAY + timedelta(days=1), TODAY + timedelta(days=3), False),  # starts tomorrow
    ],
    ids=["today-only", "ends-today", "ended", "not-yet"],
)
def test_the_delegate_sees_the_customer_only_between_the_dates(
    wb: Engine, starts: date, ends: date, sees: bool
) -> None:
    with session_scope(wb) as session:
        _lend(session, "rm02", "C004", "S001", starts, ends)
    with session_scope(wb) as session:
        assert _visible(session, "rm01") == (["C001", "C003", "C004"] if sees else ["C001", "C003"])
        lead = _visible(session, "lead")  # the delegate's team lead does not inherit it
        assert lead == ["C001", "C002", "C003"]
        if sees:
            assert (
                service.get_customer(session, user=_user(session, "rm01"), customer_id="C004").name == "周四"
            )
        else:
            with pytest.raises(NotFound):
                service.get_customer(session, user=_user(session, "rm01"), customer_id="C004")


def test_the_scope_rule_against_a_given_day(wb: Engine) -> None:
    with session_scope(wb) as session:
        _lend(session, "rm02", "C004", "S001", date(2026, 12, 1), date(2026, 12, 10))
    with session_scope(wb) as session:
        from wealthcrm.customers.models import Customer

        def on(day: date) -> list[str]:
            delegated = Customer.customer_id.in_(_delegated_ids("S001", day))
            return list(session.scalars(select(Customer.customer_id).where(delegated)))

        assert [
            on(date(2026, 11, 30)),
            on(date(2026, 12, 1)),
            on(date(2026, 12, 10)),
            on(date(2026, 12, 11)),
        ] == [
            [],
            ["C004"],
            ["C004"],
            [],
        ]


def test_a_revoked_delegation_ends_at_once(wb: Engine) -> None:
    with session_scope(wb) as session:
        row = _lend(session, "rm02", "C004", "S001", TODAY, TODAY + timedelta(days=7))
        assert _visible(session, "rm01") == ["C001", "C003", "C004"]
        # the delegate cannot revoke or re-delegate it
        with pytest.raises(Forbidden):
            delegations.revoke(session, actor=_user(session, "rm01"), delegation_id=row.id, now=NOW)
        delegations.revoke(session, actor=_user(session, "rm02"), delegation_id=row.id, now=NOW)
        assert _visible(session, "rm01") == ["C001", "C003"]
        with pytest.raises(Conflict, match="already revoked"):
            delegations.revoke(session, actor=_user(session, "boss"), delegation_id=row.id, now=NOW)
        audit = session.execute(
            select(AuditEntry.actor, AuditEntry.action, AuditEntry.customer_id).where(
                AuditEntry.action.startswith("delegation.")
            )
        ).all()
        assert [tuple(r) for r in audit] == [
            ("rm02", "delegation.create", "C004"),
            ("rm02", "delegation.revoke", "C004"),
        ]


def test_who_may_delegate_what(wb: Engine) -> None:
    with session_scope(wb) as session:
        end = TODAY + timedelta(days=3)

        def lend(by: str, customer_id: str, to: str = "S004", **kw: object) -> Delegation:
            args: dict[str, object] = {"starts_on": TODAY, "ends_on": end} | kw
            return delegations.create(
                session,
                actor=_user(session, by),
                customer_id=customer_id,
                to_staff_id=to,
                reason=None,
                today=TODAY,
                now=NOW,
                **args,  # type: ignore[arg-type]
            )

        assert lend("rm01", "C001").to_staff_id == "S004"  # own customer
        assert lend("lead", "C003", to="S004").customer_id == "C003"  # a customer of the team
        assert lend("boss", "C002", to="S001").customer_id == "C002"  # the branch manager: anyone
        with pytest.raises(NotFound):
            lend("rm01", "C004", to="S002")  # not in the book: like an unknown customer
        with pytest.raises(Forbidden):
            lend("audit", "C001")
        with pytest.raises(Forbidden):
            lend("svc", "C001")
        with pytest.raises(Invalid, match="already in that RM's book"):
            lend("rm01", "C001", to="S001")
        with pytest.raises(Invalid, match="not an active RM or team lead"):
            lend("rm01", "C001", to="S003")  # service staff
        with pytest.raises(Invalid, match="ends_on"):
            lend("rm01", "C003", ends_on=TODAY - timedelta(days=1))
        with pytest.raises(Invalid, match="starts_on"):
            lend("rm01", "C003", starts_on=TODAY - timedelta(days=1))
        with pytest.raises(Invalid, match="at most 92 days"):
            lend("rm01", "C003", ends_on=TODAY + timedelta(days=92))
        with pytest.raises(Conflict, match="already delegated"):
            lend("lead", "C001", starts_on=end, ends_on=end + timedelta(days=1))

        rows = delegations.list_delegations(session, user=_user(session, "rm02"), today=TODAY)
        assert sorted(r.customer_id for r in rows) == ["C001", "C003"]  # lent to rm02 (S004)
        assert {r.status for r in rows} == {"active"}
        boss = delegations.list_delegations(session, user=_user(session, "boss"), today=TODAY)
        assert len(boss) == 3
        assert (
            delegations.list_delegations(session, user=_user(session, "rm01"), today=end + timedelta(days=1))
            == []
        )
