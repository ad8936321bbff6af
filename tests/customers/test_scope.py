"""Row-level scope in the service layer: every role sees exactly its book, on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from wealthcrm.config import Settings
from wealthcrm.customers import service
from wealthcrm.customers.models import Customer
from wealthcrm.customers.scope import visible_customers
from wealthcrm.customers.service import BookSort
from wealthcrm.db import session_scope
from wealthcrm.errors import Forbidden, NotFound
from wealthcrm.users import service as users
from wealthcrm.users.models import User
from wealthcrm.vocab import Role, Stage, Tier

from .workbench import NATIONAL_ID, OCT, load_workbench

ON = date(2026, 11, 28)
#: username → the customers in their scope
SCOPE = {
    "rm01": ["C001", "C003"],
    "rm02": ["C004"],
    "lead": ["C001", "C002", "C003"],  # team T01: S001's book and the lead's own
    "boss": ["C001", "C002", "C003", "C004"],
    "audit": ["C001", "C002", "C003", "C004"],
    "analyst": ["C001", "C002", "C003", "C004"],
    "admin1": ["C001", "C002", "C003", "C004"],
    "svc": [],
}


@pytest.fixture
def wb(engine: Engine, settings: Settings, tmp_path: Path) -> Engine:
    load_workbench(engine, settings, tmp_path / "branch")
    return engine


def _user(session: Session, username: str) -> User:
    return users.get(session, username=username)


@pytest.mark.parametrize("username", sorted(SCOPE))
def test_each_role_sees_its_book(wb: Engine, username: str) -> None:
    with session_scope(wb) as session:
        user = _user(session, username)
        ids = sorted(session.scalars(visible_customers(user)))
        assert ids == SCOPE[username]
        page = service.book(session, user=user, month=OCT, sort=BookSort.customer_id)
        assert (page.total, [r.customer_id for r in page.rows]) == (len(SCOPE[username]), SCOPE[username])
        for customer_id in ["C001", "C002", "C003", "C004", "C999"]:
            if username == "analyst":  # pseudonymised views only (tests/customers/test_pseudonym.py)
                with pytest.raises(Forbidden):
                    service.get_customer(session, user=user, customer_id=customer_id)
            elif customer_id in SCOPE[username]:
                assert (
                    service.get_customer(session, user=user, customer_id=customer_id).customer_id
                    == customer_id
                )
                assert service.customer_360(session, user=user, customer_id=customer_id, on=ON).name
            else:
                # out of scope and unknown look the same: existence does not leak
                with pytest.raises(NotFound, match=f"no customer '{customer_id}'"):
                    service.get_customer(session, user=user, customer_id=customer_id)
                with pytest.raises(NotFound):
                    service.customer_360(session, user=user, customer_id=customer_id, on=ON)
        today = service.today(session, user=user)
        listed = {r.customer_id for r in today.rows} | {a.customer_id for a in today.other_alerts}
        assert listed <= set(SCOPE[username])


@dataclass(frozen=True)
class _Viewer:
    role: Role
    staff_id: str | None


@pytest.mark.parametrize("role", [Role.rm, Role.team_lead, Role.service])
def test_staff_roles_without_a_staff_record_see_nothing(wb: Engine, role: Role) -> None:
    with session_scope(wb) as session:
        assert list(session.scalars(visible_customers(_Viewer(role, None)))) == []


def test_today_orders_by_aum_at_risk_with_exact_numbers(wb: Engine) -> None:
    with session_scope(wb) as session:
        boss = service.today(session, user=_user(session, "boss"))
        assert boss.month == OCT
        assert [(r.customer_id, r.aum_at_risk, r.p_loss) for r in boss.rows] == [
            ("C003", 720_000, 0.12),
            ("C004", 600_000, 0.30),
            ("C001", 378_000, 0.42),
        ]
        assert (boss.customers_at_risk, boss.aum_at_risk, boss.open_alerts) == (3, 1_698_000, 3)
        assert [(a.customer_id, a.alert_type) for a in boss.rows[2].alerts] == [("C001", "large_outflow")]
        # C002 is not at risk (churned, unscored) but its high-severity alert is not lost
        assert [(a.customer_id, a.severity) for a in boss.other_alerts] == [("C002", "high")]

        rm = service.today(session, user=_user(session, "rm01"))
        assert [r.customer_id for r in rm.rows] == ["C003", "C001"]
        assert (rm.customers_at_risk, rm.aum_at_risk, rm.open_alerts, rm.other_alerts) == (
            2,
            1_098_000,
            1,
            [],
        )
        assert rm.rows[1].reasons[0]["en"] == "AUM down 44% in 3 months"

        svc = service.today(session, user=_user(session, "svc"))
        assert (svc.rows, svc.other_alerts, svc.customers_at_risk, svc.aum_at_risk) == ([], [], 0, 0)


def test_today_other_alerts_most_severe_first_limited_and_skipping(wb: Engine) -> None:
    """Without the risk list every alert is an "other" one: most severe first, at most the limit, and
    none of the customers ``skip_customers`` selects (Today: those with a retention task)."""
    with session_scope(wb) as session:
        boss = _user(session, "boss")
        every = service.today(session, user=boss, limit=0, other_alerts_limit=None)
        assert every.rows == [] and every.open_alerts == 3
        # high before medium; within a severity the latest month, then the newest alert
        assert [(a.customer_id, a.severity, a.last_month) for a in every.other_alerts] == [
            ("C002", "high", OCT),
            ("C001", "high", OCT),
            ("C004", "medium", OCT),
        ]
        assert every.other_alerts[0].id > every.other_alerts[1].id
        first = service.today(session, user=boss, limit=0, other_alerts_limit=1)
        assert [a.customer_id for a in first.other_alerts] == ["C002"]
        assert first.open_alerts == 3  # the count is of every alert, not of those listed
        rest = service.today(
            session, user=boss, limit=0, skip_customers=lambda column: column.in_(["C002", "C004"])
        )
        assert {a.customer_id for a in rest.other_alerts} == {a.customer_id for a in every.other_alerts} - {
            "C002",
            "C004",
        }


def test_book_filters_search_sort_and_pages(wb: Engine) -> None:
    with session_scope(wb) as session:
        boss = _user(session, "boss")

        def ids(**kwargs: object) -> list[str]:
            return [r.customer_id for r in service.book(session, user=boss, month=OCT, **kwargs).rows]  # type: ignore[arg-type]

        assert ids() == ["C003", "C004", "C001", "C002"]  # AUM at risk, unscored last
        assert ids(tier=Tier.sunflower) == ["C004", "C001"]
        assert ids(stage=Stage.churned) == ["C002"]
        assert ids(q="c00", sort=BookSort.customer_id) == ["C001", "C002", "C003", "C004"]
        assert ids(q="周") == ["C004"]
        assert ids(q="%") == []  # LIKE wildcards are escaped
        assert ids(sort=BookSort.p_loss) == ["C001", "C004", "C003", "C002"]
        assert ids(sort=BookSort.aum, limit=2, offset=1) == ["C004", "C001"]
        page = service.book(session, user=boss, month=OCT, limit=1, offset=3)
        assert (page.total, [r.customer_id for r in page.rows]) == (4, ["C002"])
        # before any nightly run, the book still lists customers (without results)
        none = service.book(session, user=boss, month=None, sort=BookSort.customer_id)
        assert [(r.customer_id, r.tier) for r in none.rows][:2] == [("C001", None), ("C002", None)]


def test_customer_360_holds_masked_pii_history_and_maturities(wb: Engine) -> None:
    with session_scope(wb) as session:
        view = service.customer_360(session, user=_user(session, "rm01"), customer_id="C001", on=ON)
        assert (view.national_id_masked, view.mobile_masked) == ("110105********002X", "138****5678")
        assert NATIONAL_ID not in repr(view.to_dict())
        assert (view.age, view.rm_name, view.risk_level) == (76, "王经理", "C3")
        assert (view.risk_assessment_expires_on, view.risk_assessment_expired) == (date(2027, 1, 10), False)
        assert [(m.month, m.tier, m.p_loss) for m in view.history] == [
            (date(2026, 9, 1), "sunflower", 0.2),
            (OCT, "sunflower", 0.42),
        ]
        assert view.aum_months == [date(2026, 9, 1), OCT]
        assert view.aum_by_class == {"demand_deposit": [600_000, 400_000], "wmp": [1_000_000.5, 500_000]}
        assert [a.alert_type for a in view.open_alerts] == ["large_outflow"]
        assert [a.alert_type for a in view.closed_alerts] == ["near_threshold"]
        assert [(p.position_id, p.matures_soon) for p in view.positions] == [
            ("P3", True),
            ("P2", False),
            ("P1", False),
        ]
        assert [i.interaction_id for i in view.interactions] == ["I1"]
        stored = session.scalar(select(Customer.national_id_enc).where(Customer.customer_id == "C001"))
        assert stored is not None and NATIONAL_ID.encode() not in stored
        # a risk assessment older than the validity is expired; none at all counts as expired too
        later = service.customer_360(
            session, user=_user(session, "boss"), customer_id="C001", on=date(2027, 1, 10)
        )
        assert later.risk_assessment_expired
        c002 = service.customer_360(session, user=_user(session, "boss"), customer_id="C002", on=ON)
        assert (c002.risk_assessed_on, c002.risk_assessment_expired, c002.age) == (None, True, None)


def test_an_out_of_scope_request_is_audited_whether_the_caller_commits_or_rolls_back(wb: Engine) -> None:
    from wealthcrm.audit.models import AuditEntry
    from wealthcrm.audit.service import verify

    # a caller that catches the NotFound and commits: the entry joins its transaction
    with session_scope(wb) as session:
        with pytest.raises(NotFound):
            service.get_customer(session, user=_user(session, "rm01"), customer_id="C004")
        with pytest.raises(NotFound):
            service.get_customer(
                session, user=_user(session, "rm01"), customer_id="C999"
            )  # unknown: no entry
    # a caller whose transaction rolls back with the error (a web request): written afterwards on its own
    with pytest.raises(NotFound), session_scope(wb) as session:
        service.customer_360(session, user=_user(session, "rm02"), customer_id="C001", on=ON)
    with session_scope(wb) as session:
        rows = session.execute(
            select(AuditEntry.seq, AuditEntry.actor, AuditEntry.action, AuditEntry.customer_id)
        ).all()
        assert [tuple(r) for r in rows] == [
            (1, "rm01", "access_denied", "C004"),
            (2, "rm02", "access_denied", "C001"),
        ]
        assert verify(session).ok


def test_service_staff_see_only_unexpired_look_ups(wb: Engine) -> None:
    from datetime import datetime, timedelta

    from wealthcrm.customers.models import AccessGrant

    with session_scope(wb) as session:
        svc = _user(session, "svc")
        now = datetime.now()
        session.add_all(
            [
                AccessGrant(
                    user_id=svc.id,
                    customer_id="C002",
                    reason="counter",
                    granted_at=now,
                    expires_at=now + timedelta(days=1),
                ),
                AccessGrant(
                    user_id=svc.id,
                    customer_id="C003",
                    reason="counter",
                    granted_at=now,
                    expires_at=now - timedelta(days=1),
                ),
                AccessGrant(
                    user_id=_user(session, "rm02").id,
                    customer_id="C001",
                    reason="x",
                    granted_at=now,
                    expires_at=now + timedelta(days=1),
                ),
            ]
        )
        session.flush()
        assert sorted(session.scalars(visible_customers(svc))) == ["C002"]
        assert sorted(session.scalars(visible_customers(_user(session, "rm02")))) == [
            "C004"
        ]  # grants are for service staff
