"""Entitlements: balances for Customer 360, redemption with yearly quotas, the downgrade grace period,
concurrent redemptions that must not exceed a quota, cancellation, the usage and cost report."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from wealthcrm.config import Settings
from wealthcrm.db import session_scope
from wealthcrm.entitlements import service as ent
from wealthcrm.entitlements.models import EntitlementCounter, EntitlementRedemption
from wealthcrm.errors import Conflict, DomainError, Forbidden, Invalid, NotFound

from ..service.data import bj, make_settings, seed, who


@pytest.fixture
def cfg(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


def _balances(
    session: Session, cfg: Settings, customer_id: str, *at: int
) -> dict[str, tuple[int | None, int, int | None]]:
    rows = ent.remaining(session, user=who("mgr"), customer_id=customer_id, now=bj(*at), settings=cfg)
    return {b.benefit: (b.quota, b.used, b.remaining) for b in rows}


def test_a_sunflower_customers_balances_and_quota(session: Session, cfg: Settings) -> None:
    seed(session)
    assert _balances(session, cfg, "C1", 2025, 9, 22, 10) == {
        "airport_lounge": (2, 0, 2),
        "airport_vip_lane": (0, 0, 0),  # diamond and up
        "health_checkup": (1, 0, 1),
        "priority_queue": (None, 0, None),  # unlimited
        "fee_waiver": (None, 0, None),
    }
    svc = who("svc")
    ent.redeem(
        session, user=svc, customer_id="C1", benefit="airport_lounge", now=bj(2025, 9, 22, 10), settings=cfg
    )
    r = ent.redeem(
        session, user=svc, customer_id="C1", benefit="airport_lounge", now=bj(2025, 9, 23, 10), settings=cfg
    )
    assert (r.year, r.tier, r.cost, r.staff_id, r.created_by) == (2025, "sunflower", 150.0, "S03", "svc")
    with pytest.raises(Conflict, match="2 of 2 uses taken in 2025; 0 left, 1 asked"):
        ent.redeem(
            session,
            user=svc,
            customer_id="C1",
            benefit="airport_lounge",
            now=bj(2025, 9, 24, 10),
            settings=cfg,
        )
    with pytest.raises(Invalid, match="not included in the customer's tier"):
        ent.redeem(
            session,
            user=svc,
            customer_id="C1",
            benefit="airport_vip_lane",
            now=bj(2025, 9, 24, 10),
            settings=cfg,
        )
    ent.redeem(
        session,
        user=svc,
        customer_id="C1",
        benefit="priority_queue",
        now=bj(2025, 9, 24, 10),
        settings=cfg,
        quantity=5,
    )
    assert _balances(session, cfg, "C1", 2025, 9, 24, 11)["airport_lounge"] == (2, 2, 0)
    assert _balances(session, cfg, "C1", 2025, 9, 24, 11)["priority_queue"] == (None, 5, None)
    # a new calendar year in Beijing (2026-01-01 00:30 there is still 2025 in UTC) starts a new quota
    assert _balances(session, cfg, "C1", 2026, 1, 1, 0, 30)["airport_lounge"] == (2, 0, 2)
    ent.redeem(
        session, user=svc, customer_id="C1", benefit="airport_lounge", now=bj(2026, 1, 1, 0, 30), settings=cfg
    )
    counters = session.execute(
        select(EntitlementCounter.benefit, EntitlementCounter.year, EntitlementCounter.used).order_by(
            EntitlementCounter.year, EntitlementCounter.benefit
        )
    ).all()
    assert [tuple(c) for c in counters] == [
        ("airport_lounge", 2025, 2),
        ("priority_queue", 2025, 5),
        ("airport_lounge", 2026, 1),
    ]


def test_a_downgraded_customer_keeps_benefits_through_the_grace_period(
    session: Session, cfg: Settings
) -> None:
    seed(session)
    # C4: sunflower in 2025-07, gold from 2025-08; grace 3 months: months 07…10 include sunflower
    rm = who("rm02")
    r = ent.redeem(
        session, user=rm, customer_id="C4", benefit="health_checkup", now=bj(2025, 10, 20, 10), settings=cfg
    )
    assert r.tier == "sunflower"
    # in November the window is 08…11: gold only, and gold has no health check-up
    with pytest.raises(Invalid, match=r"tier \(gold\)"):
        ent.redeem(
            session,
            user=rm,
            customer_id="C4",
            benefit="health_checkup",
            now=bj(2025, 11, 3, 10),
            settings=cfg,
        )
    # with no grace period the benefit had already gone in October
    strict = make_settings(Path(cfg.data_dir).parent, entitlements={"grace_months": 0})
    assert ent.benefit_tier(session, customer_id="C4", now=bj(2025, 10, 20, 10), settings=strict) == "gold"


def test_scope_roles_and_cancel(session: Session, cfg: Settings) -> None:
    seed(session)
    with pytest.raises(NotFound):  # service staff without a look-up grant for C4
        ent.redeem(
            session,
            user=who("svc"),
            customer_id="C4",
            benefit="fee_waiver",
            now=bj(2025, 9, 22, 10),
            settings=cfg,
        )
    with pytest.raises(Forbidden):
        ent.redeem(
            session,
            user=who("audit"),
            customer_id="C1",
            benefit="fee_waiver",
            now=bj(2025, 9, 22, 10),
            settings=cfg,
        )
    with pytest.raises(Invalid, match="no benefit"):
        ent.redeem(
            session, user=who("svc"), customer_id="C1", benefit="yacht", now=bj(2025, 9, 22, 10), settings=cfg
        )
    r = ent.redeem(
        session,
        user=who("svc"),
        customer_id="C1",
        benefit="health_checkup",
        now=bj(2025, 9, 22, 10),
        settings=cfg,
    )
    ent.cancel(session, user=who("svc"), redemption_id=r.id, now=bj(2025, 9, 22, 11), reason="no-show")
    assert _balances(session, cfg, "C1", 2025, 9, 22, 12)["health_checkup"] == (1, 0, 1)
    with pytest.raises(Conflict, match="already cancelled"):
        ent.cancel(session, user=who("svc"), redemption_id=r.id, now=bj(2025, 9, 22, 11))
    with pytest.raises(NotFound):
        ent.cancel(session, user=who("rm02"), redemption_id=r.id, now=bj(2025, 9, 22, 11))
    assert [h.cancelled_at for h in ent.history(session, user=who("rm01"), customer_id="C1")] == [
        bj(2025, 9, 22, 11)
    ]


def test_usage_and_cost_report(session: Session, cfg: Settings) -> None:
    seed(session)
    for cid, benefit, qty in [
        ("C1", "airport_lounge", 2),
        ("C5", "airport_lounge", 1),
        ("C5", "health_checkup", 1),
    ]:
        ent.redeem(
            session,
            user=who("rm01"),
            customer_id=cid,
            benefit=benefit,
            now=bj(2025, 9, 22, 10),
            settings=cfg,
            quantity=qty,
        )
    ent.redeem(
        session,
        user=who("rm02"),
        customer_id="C4",
        benefit="fee_waiver",
        now=bj(2025, 9, 22, 10),
        settings=cfg,
        quantity=3,
    )
    cancelled = ent.redeem(
        session,
        user=who("rm01"),
        customer_id="C6",
        benefit="health_checkup",
        now=bj(2025, 9, 22, 10),
        settings=cfg,
    )
    ent.cancel(session, user=who("rm01"), redemption_id=cancelled.id, now=bj(2025, 9, 22, 11))
    report = ent.usage_report(session, user=who("boss"), year=2025)
    assert [(r.benefit, r.tier, r.uses, r.customers, r.cost) for r in report] == [
        ("airport_lounge", "sunflower", 3, 2, 450.0),  # 3 uses × 150
        ("fee_waiver", "sunflower", 3, 1, 75.0),  # C4 within its grace period: 3 × 25
        ("health_checkup", "sunflower", 1, 1, 800.0),  # C6's was cancelled
    ]
    assert ent.usage_report(session, user=who("boss"), year=2024) == []
    with pytest.raises(Forbidden):
        ent.usage_report(session, user=who("rm01"), year=2025)


def _race(engine: Engine, n: int, work: object) -> tuple[int, list[BaseException]]:
    """Run ``work(i)`` in ``n`` threads released at once; count the successes, collect the errors."""
    barrier = threading.Barrier(n)
    ok: list[int] = []
    errors: list[BaseException] = []

    def run(i: int) -> None:
        barrier.wait()
        try:
            work(i)  # type: ignore[operator]
            ok.append(i)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return len(ok), errors


def test_concurrent_redemptions_never_exceed_the_quota(engine: Engine, tmp_path: Path) -> None:
    cfg = make_settings(tmp_path)
    with session_scope(engine) as s:
        seed(s)
    users = ["svc", "rm01", "mgr", "boss", "svc", "rm01", "mgr", "boss"]

    def work(i: int) -> None:
        with session_scope(engine) as s:
            ent.redeem(
                s,
                user=who(users[i]),
                customer_id="C1",
                benefit="airport_lounge",
                now=bj(2025, 9, 22, 10),
                settings=cfg,
            )

    ok, errors = _race(engine, 8, work)
    # sunflower: 2 lounge visits a year; 8 staff try at once: exactly 2 succeed, 6 are refused
    assert ok == 2
    assert len(errors) == 6 and all(isinstance(e, Conflict) for e in errors), errors
    with session_scope(engine) as s:
        assert s.scalar(select(EntitlementCounter.used)) == 2
        assert len(s.scalars(select(EntitlementRedemption)).all()) == 2


def test_concurrent_first_redemptions_of_different_benefits(engine: Engine, tmp_path: Path) -> None:
    """The counter row does not exist yet for any of them: creating it concurrently must not fail."""
    cfg = make_settings(tmp_path)
    with session_scope(engine) as s:
        seed(s)
    plan = [
        ("C1", "health_checkup"),
        ("C1", "health_checkup"),
        ("C5", "health_checkup"),
        ("C5", "fee_waiver"),
    ]

    def work(i: int) -> None:
        cid, benefit = plan[i]
        with session_scope(engine) as s:
            ent.redeem(
                s, user=who("rm01"), customer_id=cid, benefit=benefit, now=bj(2025, 9, 22, 10), settings=cfg
            )

    ok, errors = _race(engine, len(plan), work)
    assert ok == 3 and [type(e) for e in errors] == [Conflict], errors  # C1's one check-up a year, taken once
    assert all(isinstance(e, DomainError) for e in errors)
