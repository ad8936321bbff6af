"""Recommendations in the database: generation (idempotent), scope for every role, outcomes behind the
gate, and the override flow (who may ask, who may decide, what is audited), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from wealthcrm.audit.models import AuditEntry
from wealthcrm.config import Settings
from wealthcrm.db import session_scope
from wealthcrm.errors import Conflict, Forbidden, Invalid, NotFound
from wealthcrm.holdings.models import AumMonthly
from wealthcrm.recommendations import service
from wealthcrm.recommendations.models import Recommendation
from wealthcrm.recommendations.service import SaleBlocked
from wealthcrm.users import service as users
from wealthcrm.users.models import User
from wealthcrm.vocab import AssetClass, RecommendationStatus, SaleChannel

from ..customers.test_scope import SCOPE
from .data import EXPECTED, ON, load_recommendations, reco_settings

S = RecommendationStatus
ALL = ["C001", "C002", "C003", "C004", "C005"]
#: SCOPE of the workbench plus C005 (rm01's, team T01) and lead2 (team T02)
RECO_SCOPE = {
    **{u: ids + (["C005"] if set(ids) & {"C001"} else []) for u, ids in SCOPE.items()},
    "lead2": ["C004"],
}


@pytest.fixture
def reco(engine: Engine, settings: Settings, tmp_path: Path) -> Engine:
    load_recommendations(engine, settings, tmp_path / "branch")
    return engine


@pytest.fixture
def cfg(settings: Settings) -> Settings:
    return reco_settings(settings)


@pytest.fixture
def db(reco: Engine, cfg: Settings, session: Session) -> Session:
    """A rolled-back session on the loaded branch, recommendations generated."""
    service.generate(session, on=ON, settings=cfg)
    return session


def _user(session: Session, name: str) -> User:
    return users.get(session, username=name)


def _rec(session: Session, customer_id: str, kind: str) -> Recommendation:
    return session.scalars(
        select(Recommendation).where(Recommendation.customer_id == customer_id, Recommendation.kind == kind)
    ).one()


def _audit(session: Session) -> list[tuple[str, str, str | None, str | None]]:
    return [
        (e.action, e.actor, e.entity_id, e.reason)
        for e in session.scalars(select(AuditEntry).order_by(AuditEntry.seq))
        if e.action.startswith(("recommendation.", "suitability."))
    ]


def _stored(session: Session) -> list[tuple[str, str, str | None, str, float | None, list[str]]]:
    return [
        (r.customer_id, str(r.kind), r.product_code, str(r.status), r.amount, list(r.blocked_reasons))
        for r in session.scalars(
            select(Recommendation).order_by(Recommendation.customer_id, Recommendation.kind)
        )
    ]


# --- generating -------------------------------------------------------------------------------------


def test_generate_stores_each_opportunity_once(reco: Engine, cfg: Settings, session: Session) -> None:
    first = service.generate(session, on=ON, settings=cfg)
    assert (first.month, first.created, first.proposed, first.blocked, first.existing) == (
        date(2026, 10, 1),
        5,
        3,
        2,
        0,
    )
    assert _stored(session) == EXPECTED
    again = service.generate(session, on=ON, settings=cfg)
    assert (again.created, again.existing) == (0, 5)
    assert _stored(session) == EXPECTED
    idle = _rec(session, "C001", "move_idle_deposits")
    assert idle.rationale == {
        "demand_deposit": 400_000,
        "aum": 900_000,
        "share": 0.4444,
        "product_risk": "R2",
        "customer_risk": "C3",
    }
    assert idle.source_key == "move_idle_deposits:C001:2026-10"
    # one audit entry per run that created something, by the system
    assert [(a, actor) for a, actor, _, _ in _audit(session)] == [("recommendation.generate", "system")]


def test_a_new_month_waits_until_the_open_one_is_settled(
    reco: Engine, cfg: Settings, session: Session
) -> None:
    service.generate(session, on=ON, settings=cfg)
    nov = date(2026, 11, 1)
    for cls, amount in ((AssetClass.demand_deposit, 400_000), (AssetClass.wmp, 500_000)):
        session.add(
            AumMonthly(
                customer_id="C001",
                month=nov,
                asset_class=cls,
                avg_daily_balance=amount,
                month_end_balance=amount,
            )
        )
    session.flush()
    later = date(2026, 12, 2)
    assert service.generate(session, on=later, settings=cfg, month=nov).created == 0  # idle one still open
    rm01 = _user(session, "rm01")
    idle = _rec(session, "C001", "move_idle_deposits")
    service.record_outcome(session, user=rm01, id=idle.id, outcome=S.declined, settings=cfg, on=later)
    result = service.generate(session, on=later, settings=cfg, month=nov)
    assert result.created == 1
    keys = session.scalars(
        select(Recommendation.source_key)
        .where(Recommendation.kind == "move_idle_deposits")
        .order_by(Recommendation.id)
    ).all()
    assert keys == ["move_idle_deposits:C001:2026-10", "move_idle_deposits:C001:2026-11"]


def test_generate_skips_closed_customers_and_closed_products(db: Session) -> None:
    stored = _stored(db)
    assert "C002" not in {row[0] for row in stored}  # closed on 2026-10-15
    assert "WMP009" not in {row[2] for row in stored}  # R1 and cheaper, but no longer on sale


def test_the_nightly_batch_generates(
    reco: Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from wealthcrm.analytics import nightly
    from wealthcrm.analytics.nightly import run_nightly

    class Frozen(datetime):
        """The batch runs on the night of 2026-11-28 (maturity windows and assessments depend on it)."""

        @classmethod
        def now(cls, tz: tzinfo | None = None) -> Frozen:
            return cls(2026, 11, 28, 1, 0, tzinfo=tz)

    monkeypatch.setattr(nightly, "datetime", Frozen)
    result = run_nightly(reco, month=date(2026, 10, 1), settings=reco_settings(settings))
    assert result.rows["recommendations"] == len(EXPECTED)
    again = run_nightly(reco, month=date(2026, 10, 1), settings=reco_settings(settings))
    assert again.rows["recommendations"] == 0
    with session_scope(reco) as session:
        assert _stored(session) == EXPECTED


# --- scope ------------------------------------------------------------------------------------------


def test_each_role_sees_the_recommendations_of_its_book(db: Session) -> None:
    for username, scope in sorted(RECO_SCOPE.items()):
        user = _user(db, username)
        if username == "analyst":  # pseudonymised views only: no identified customer, in scope or not
            for customer_id in [*ALL, "C999"]:
                with pytest.raises(Forbidden):
                    service.list_for_customer(db, user=user, customer_id=customer_id)
            continue
        for customer_id in [*ALL, "C999"]:
            if customer_id in scope:
                found = service.list_for_customer(db, user=user, customer_id=customer_id)
                assert [(r.kind, r.status) for r in found] == [
                    (kind, status) for cid, kind, _, status, _, _ in _sorted_expected() if cid == customer_id
                ], username
            else:
                with pytest.raises(NotFound):
                    service.list_for_customer(db, user=user, customer_id=customer_id)
            for rec in db.scalars(select(Recommendation).where(Recommendation.customer_id == customer_id)):
                if customer_id in scope:
                    assert service.get(db, user=user, id=rec.id).id == rec.id
                else:
                    with pytest.raises(NotFound):
                        service.get(db, user=user, id=rec.id)


def _sorted_expected() -> list[tuple[str, str, str, str, float | None, list[str]]]:
    """EXPECTED in list order: blocked before proposed, then newest (highest id) first."""
    rank = {"override_requested": 0, "blocked": 1, "proposed": 2}
    order = {row[:2]: i for i, row in enumerate(EXPECTED)}
    created_order = sorted(EXPECTED, key=lambda r: order[r[:2]])
    # generation order within a customer: reinvest first, then idle, deepen, upgrade (ids ascending)
    gen = ["reinvest_maturity", "move_idle_deposits", "deepen_single_product", "upgrade_prospect"]
    return sorted(created_order, key=lambda r: (r[0], rank[r[3]], -gen.index(r[1])))


def test_the_row_carries_the_product_and_people(db: Session) -> None:
    rm01 = _user(db, "rm01")
    rows = service.list_for_customer(db, user=rm01, customer_id="C003")
    assert [(r.product_name, r.product_type, r.product_risk, r.customer_name, r.rm_id) for r in rows] == [
        ("稳健理财6个月", "wmp", "R2", "张三", "S001")
    ]
    d = rows[0].to_dict()
    assert (d["status"], d["blocked_reasons"], d["override_requested_by"]) == (
        "blocked",
        ["assessment_expired"],
        None,
    )


# --- outcomes ---------------------------------------------------------------------------------------


def test_a_sale_without_consent_is_blocked_and_changes_nothing(db: Session, cfg: Settings) -> None:
    rm01 = _user(db, "rm01")
    idle = _rec(db, "C001", "move_idle_deposits")
    for recording_id, consent, reasons in [
        ("REC-2026-001", False, ["consent_missing"]),
        ("", True, ["recording_missing"]),
        (None, None, ["recording_missing", "consent_missing"]),
    ]:
        with pytest.raises(SaleBlocked) as blocked:
            service.record_outcome(
                db,
                user=rm01,
                id=idle.id,
                outcome=S.accepted,
                settings=cfg,
                on=ON,
                channel=SaleChannel.in_branch,
                recording_id=recording_id,
                consent=consent,
            )
        assert blocked.value.reasons == reasons
        assert isinstance(blocked.value, Conflict)
    db.refresh(idle)
    assert (idle.status, idle.channel, idle.recording_id) == (S.proposed, None, None)
    assert _audit(db) == [("recommendation.generate", "system", None, None)]
    done = service.record_outcome(
        db,
        user=rm01,
        id=idle.id,
        outcome=S.accepted,
        settings=cfg,
        on=ON,
        channel=SaleChannel.in_branch,
        recording_id=" REC-2026-001 ",
        consent=True,
    )
    assert (done.status, done.channel, done.recording_id, done.recording_consent) == (
        "accepted",
        "in_branch",
        "REC-2026-001",
        True,
    )
    assert _audit(db)[-1] == ("recommendation.accepted", "rm01", str(idle.id), None)
    entry = db.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).one()
    assert (entry.customer_id, entry.details) == (
        "C001",
        {
            "kind": "move_idle_deposits",
            "product_code": "WMP001",
            "channel": "in_branch",
            "recording_id": "REC-2026-001",
            "consent": True,
            "overridden": False,
        },
    )
    with pytest.raises(Conflict):  # settled
        service.record_outcome(db, user=rm01, id=idle.id, outcome=S.declined, settings=cfg, on=ON)


def test_the_gate_runs_again_at_the_sale(db: Session, cfg: Settings) -> None:
    """Proposed while the assessment was valid; sold after it expired: blocked."""
    rm01 = _user(db, "rm01")
    rec = _rec(db, "C001", "reinvest_maturity")
    with pytest.raises(SaleBlocked) as blocked:
        service.record_outcome(
            db, user=rm01, id=rec.id, outcome=S.accepted, settings=cfg, on=date(2027, 1, 10),
            channel=SaleChannel.remote,
        )  # fmt: skip
    assert blocked.value.reasons == ["assessment_expired"]
    ok = service.record_outcome(
        db,
        user=rm01,
        id=rec.id,
        outcome=S.accepted,
        settings=cfg,
        on=date(2027, 1, 9),
        channel=SaleChannel.remote,
    )
    assert ok.status == "accepted"


def test_bad_outcomes(db: Session, cfg: Settings) -> None:
    rec = _rec(db, "C001", "reinvest_maturity")
    rm01 = _user(db, "rm01")
    for kwargs, message in [
        ({"outcome": S.accepted}, "Choose the channel"),
        ({"outcome": S.approved}, "The outcome is accepted or declined."),
        ({"outcome": S.accepted, "channel": SaleChannel.remote, "recording_id": "x" * 65}, "too long"),
    ]:
        with pytest.raises(Invalid, match=message):
            service.record_outcome(db, user=rm01, id=rec.id, settings=cfg, on=ON, **kwargs)  # type: ignore[arg-type]
    db.refresh(rec)
    assert rec.status == S.proposed


def test_a_blocked_recommendation_cannot_be_accepted_but_can_be_declined(db: Session, cfg: Settings) -> None:
    rm01 = _user(db, "rm01")
    rec = _rec(db, "C003", "deepen_single_product")
    with pytest.raises(Conflict, match="Only a proposed recommendation"):
        service.record_outcome(
            db, user=rm01, id=rec.id, outcome=S.accepted, settings=cfg, on=ON, channel=SaleChannel.remote
        )
    assert service.record_outcome(
        db, user=rm01, id=rec.id, outcome=S.declined, settings=cfg, on=ON
    ).status == ("declined")


def test_read_only_roles_cannot_work_recommendations(db: Session, cfg: Settings) -> None:
    rec = _rec(db, "C003", "deepen_single_product")
    for username in ["audit", "analyst", "admin1", "svc"]:
        user = _user(db, username)
        with pytest.raises(Forbidden):
            service.record_outcome(db, user=user, id=rec.id, outcome=S.declined, settings=cfg, on=ON)
        with pytest.raises(Forbidden):
            service.request_override(db, user=user, id=rec.id, reason="客户坚持")
        with pytest.raises(Forbidden):
            service.decide_override(db, user=user, id=rec.id, approve=True)
        with pytest.raises(Forbidden):
            service.pending_overrides(db, user=user)
    with pytest.raises(Forbidden):  # an RM decides nothing either
        service.pending_overrides(db, user=_user(db, "rm01"))


def test_an_rm_cannot_work_another_books_recommendation(db: Session, cfg: Settings) -> None:
    rec = _rec(db, "C004", "deepen_single_product")  # rm02's
    with pytest.raises(NotFound):
        service.record_outcome(db, user=_user(db, "rm01"), id=rec.id, outcome=S.declined, settings=cfg, on=ON)
    with pytest.raises(NotFound):
        service.request_override(db, user=_user(db, "rm01"), id=rec.id, reason="客户坚持")


# --- overrides --------------------------------------------------------------------------------------


def test_override_flow_within_the_team(db: Session, cfg: Settings) -> None:
    rm01, lead, lead2, boss = (_user(db, u) for u in ("rm01", "lead", "lead2", "boss"))
    rec = _rec(db, "C003", "deepen_single_product")  # blocked: assessment expired
    with pytest.raises(Invalid):
        service.request_override(db, user=rm01, id=rec.id, reason="   ")
    with pytest.raises(Conflict):  # nothing to decide yet
        service.decide_override(db, user=lead, id=rec.id, approve=True)
    asked = service.request_override(
        db, user=rm01, id=rec.id, reason="客户本周内到网点重新测评，先行预约额度"
    )
    assert (asked.status, asked.override_requested_by) == ("override_requested", "rm01")
    with pytest.raises(Conflict):  # asked already
        service.request_override(db, user=rm01, id=rec.id, reason="again")
    assert [r.id for r in service.pending_overrides(db, user=lead)] == [rec.id]
    assert [r.id for r in service.pending_overrides(db, user=boss)] == [rec.id]
    assert service.pending_overrides(db, user=lead2) == []
    # the RM cannot decide (their role), a lead of another team does not see it
    with pytest.raises(Forbidden):
        service.decide_override(db, user=rm01, id=rec.id, approve=True)
    with pytest.raises(NotFound):
        service.decide_override(db, user=lead2, id=rec.id, approve=True)
    approved = service.decide_override(db, user=lead, id=rec.id, approve=True, note="同意，测评后补录")
    assert (approved.status, approved.decided_by) == ("approved", "lead")
    assert approved.decided_at is not None
    assert _audit(db)[1:] == [
        ("suitability.override_requested", "rm01", str(rec.id), "客户本周内到网点重新测评，先行预约额度"),
        ("suitability.override_approved", "lead", str(rec.id), "同意，测评后补录"),
    ]
    entry = db.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).one()
    assert entry.details == {
        "blocked_reasons": ["assessment_expired"],
        "product_code": "WMP001",
        "requested_by": "rm01",
    }
    assert entry.actor_role == "team_lead"
    # approved: the approved reason no longer blocks; the recording and consent still do
    with pytest.raises(SaleBlocked) as blocked:
        service.record_outcome(
            db, user=rm01, id=rec.id, outcome=S.accepted, settings=cfg, on=ON, channel=SaleChannel.in_branch
        )
    assert blocked.value.reasons == ["recording_missing", "consent_missing"]
    sold = service.record_outcome(
        db, user=rm01, id=rec.id, outcome=S.accepted, settings=cfg, on=ON, channel=SaleChannel.remote
    )
    assert sold.status == "accepted"
    entry = db.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).one()
    assert (entry.action, entry.details["overridden"]) == ("recommendation.accepted", True)


def test_nobody_decides_their_own_request(db: Session) -> None:
    lead, boss = _user(db, "lead"), _user(db, "boss")
    rec = _rec(db, "C003", "deepen_single_product")
    service.request_override(db, user=lead, id=rec.id, reason="主管本人跟进的客户")
    with pytest.raises(Forbidden, match="your own"):
        service.decide_override(db, user=lead, id=rec.id, approve=True)
    assert [r.id for r in service.pending_overrides(db, user=lead)] == [rec.id]  # listed, not decidable
    with pytest.raises(Invalid):  # a rejection says why
        service.decide_override(db, user=boss, id=rec.id, approve=False, note=" ")
    rejected = service.decide_override(db, user=boss, id=rec.id, approve=False, note="测评过期，先重新测评")
    assert (rejected.status, rejected.decided_by, rejected.rationale["decision_note"]) == (
        "rejected",
        "boss",
        "测评过期，先重新测评",
    )
    assert _audit(db)[-1] == ("suitability.override_rejected", "boss", str(rec.id), "测评过期，先重新测评")
    with pytest.raises(Conflict):
        service.record_outcome(
            db,
            user=lead,
            id=rec.id,
            outcome=S.accepted,
            settings=Settings(),
            on=ON,
            channel=SaleChannel.remote,
        )


def test_the_other_teams_lead_decides_their_teams_requests(db: Session) -> None:
    rm02, lead, lead2 = _user(db, "rm02"), _user(db, "lead"), _user(db, "lead2")
    rec = _rec(db, "C004", "deepen_single_product")  # rm02, team T02; no assessment at all
    service.request_override(db, user=rm02, id=rec.id, reason="客户拒绝测评但坚持购买")
    assert service.pending_overrides(db, user=lead) == []
    with pytest.raises(NotFound):
        service.decide_override(db, user=lead, id=rec.id, approve=True)
    assert [r.id for r in service.pending_overrides(db, user=lead2)] == [rec.id]
    assert (
        service.decide_override(db, user=lead2, id=rec.id, approve=False, note="不符合适当性").status
        == "rejected"
    )


def test_only_blocked_recommendations_need_an_override(db: Session) -> None:
    rec = _rec(db, "C001", "reinvest_maturity")
    with pytest.raises(Conflict):
        service.request_override(db, user=_user(db, "rm01"), id=rec.id, reason="不需要")
