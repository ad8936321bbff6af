"""A request's priority: the default per tier and value segment from the settings (a complaint one
step higher), an explicit choice winning, the queue's order (urgent first, then SLA due time), the
service standard showing the defaults, and a bad setting refused with a clear message."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy import update
from sqlalchemy.orm import Session

from wealthcrm.analytics.models import CustomerMonth
from wealthcrm.config import Settings, load_settings
from wealthcrm.service import service as svc
from wealthcrm.service.models import ServiceRequest, ServiceRequestEvent
from wealthcrm.service.rules import default_priority
from wealthcrm.service.standard import service_standard
from wealthcrm.vocab import Priority, RequestType, ServiceChannel, Tier

from .data import HOLIDAYS, MAKEUP, bj, make_settings, seed, who

N, H, U = Priority.normal, Priority.high, Priority.urgent


@pytest.fixture
def cfg(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


def _tier(session: Session, customer_id: str, tier: Tier, aum: float | None = None) -> None:
    values: dict[str, object] = {"tier": tier, "tier_met": tier}
    if aum is not None:
        values["aum"] = aum
    session.execute(update(CustomerMonth).where(CustomerMonth.customer_id == customer_id).values(**values))


def _open(
    session: Session,
    cfg: Settings,
    customer_id: str,
    request_type: RequestType,
    *,
    rid: str,
    at: tuple[int, ...] = (2025, 9, 22, 10),
    priority: Priority | None = None,
) -> ServiceRequest:
    return svc.create(
        session,
        user=who("mgr"),
        customer_id=customer_id,
        request_type=request_type,
        channel=ServiceChannel.branch,
        now=bj(*at),
        settings=cfg,
        priority=priority,
        request_id=rid,
    )


def test_the_default_rule_per_tier_and_type() -> None:
    sla = Settings().sla
    table = {
        tier.value: (
            default_priority(sla, tier=tier, request_type=RequestType.inquiry).value,
            default_priority(sla, tier=tier, request_type=RequestType.complaint).value,
        )
        for tier in Tier
    }
    assert table == {
        "mass": ("normal", "high"),
        "gold": ("normal", "high"),
        "sunflower": ("normal", "high"),
        "diamond": ("high", "urgent"),
        "private": ("high", "urgent"),
    }
    flat = Settings(sla={"complaint_priority_raise": False, "default_priority": {"private": "urgent"}}).sla
    assert default_priority(flat, tier=Tier.mass, request_type=RequestType.complaint) is N
    assert default_priority(flat, tier=Tier.private, request_type=RequestType.complaint) is U


def test_a_new_request_takes_its_tiers_default_and_a_complaint_one_step_more(
    session: Session, cfg: Settings
) -> None:
    seed(session)
    _tier(session, "C5", Tier.private)
    opened = {
        "private inquiry": _open(session, cfg, "C5", RequestType.inquiry, rid="P1"),
        "private complaint": _open(session, cfg, "C5", RequestType.complaint, rid="P2"),
        "mass complaint": _open(session, cfg, "C3", RequestType.complaint, rid="P3"),  # never tiered: mass
        "mass inquiry": _open(session, cfg, "C3", RequestType.inquiry, rid="P4"),
        "sunflower complaint": _open(session, cfg, "C1", RequestType.complaint, rid="P5"),
    }
    assert {k: r.priority for k, r in opened.items()} == {
        "private inquiry": H,
        "private complaint": U,
        "mass complaint": H,
        "mass inquiry": N,
        "sunflower complaint": H,
    }
    created = session.query(ServiceRequestEvent).filter_by(request_id="P2", kind="created").one()
    assert (created.details["priority"], created.details["priority_chosen"]) == ("urgent", False)


def test_a_priority_staff_choose_wins(session: Session, cfg: Settings) -> None:
    seed(session)
    _tier(session, "C5", Tier.private)
    low = _open(session, cfg, "C5", RequestType.complaint, rid="X1", priority=N)
    high = _open(session, cfg, "C3", RequestType.inquiry, rid="X2", priority=U)
    assert (low.priority, high.priority) == (N, U)
    created = session.query(ServiceRequestEvent).filter_by(request_id="X1", kind="created").one()
    assert (created.details["priority"], created.details["priority_chosen"]) == ("normal", True)


def test_a_gold_prospect_has_its_own_default_when_set(session: Session, tmp_path: Path) -> None:
    seed(session)
    # C2 is gold in 2025-08 and 2025-09; 400,000 in September, up from 100,000: a prospect
    session.execute(
        update(CustomerMonth)
        .where(CustomerMonth.customer_id == "C2", CustomerMonth.month == date(2025, 9, 1))
        .values(aum=400_000)
    )
    as_gold = make_settings(tmp_path)
    calendar = {"public_holidays": HOLIDAYS, "makeup_workdays": MAKEUP}
    own = make_settings(tmp_path, sla=calendar | {"default_priority": {"gold_prospect": "high"}})
    assert _open(session, as_gold, "C2", RequestType.inquiry, rid="G1").priority is N
    assert _open(session, own, "C2", RequestType.inquiry, rid="G2").priority is H
    assert _open(session, own, "C2", RequestType.complaint, rid="G3").priority is U
    # C4 is gold too, but its AUM did not rise: gold's default
    assert _open(session, own, "C4", RequestType.inquiry, rid="G4", at=(2025, 11, 3, 10)).priority is N


def test_the_queue_serves_urgent_first_then_the_soonest_due(session: Session, cfg: Settings) -> None:
    seed(session)
    # opened Monday 22 September 2025; sunflower inquiries are due in 8 business hours, mass ones in 16
    _open(session, cfg, "C3", RequestType.inquiry, rid="Q-mass-normal")
    _open(session, cfg, "C1", RequestType.inquiry, rid="Q-sun-normal")
    _open(session, cfg, "C3", RequestType.inquiry, rid="Q-mass-urgent", priority=U, at=(2025, 9, 22, 11))
    _open(session, cfg, "C3", RequestType.complaint, rid="Q-mass-complaint")  # high by default
    _open(session, cfg, "C1", RequestType.inquiry, rid="Q-sun-high", priority=H, at=(2025, 9, 22, 15))
    page = svc.list_requests(session, user=who("mgr"))
    assert [(r.request_id, r.priority.value) for r in page.items] == [
        ("Q-mass-urgent", "urgent"),  # due Wed 24th 11:00, later than every normal one
        ("Q-sun-high", "high"),  # due Tue 23rd 15:00
        ("Q-mass-complaint", "high"),  # due Sun 28th 10:00 (a make-up working day; 40 business hours)
        ("Q-sun-normal", "normal"),  # due Tue 23rd 10:00
        ("Q-mass-normal", "normal"),  # due Wed 24th 10:00
    ]
    assert svc.list_requests(session, user=who("mgr"), limit=2, offset=1).items[0].request_id == "Q-sun-high"


def test_the_service_standard_shows_the_default_priorities(tmp_path: Path) -> None:
    def table(settings: Settings) -> dict[str, tuple[str, str]]:
        return {
            s.segment: (s.default_priority, s.complaint_priority) for s in service_standard(settings).segments
        }

    assert table(Settings()) == {
        "mass": ("normal", "high"),
        "gold": ("normal", "high"),
        "gold_prospect": ("normal", "high"),
        "sunflower": ("normal", "high"),
        "diamond": ("high", "urgent"),
        "private": ("high", "urgent"),
    }
    tuned = Settings(sla={"default_priority": {"gold_prospect": "high", "sunflower": "HIGH"}})
    assert table(tuned)["gold_prospect"] == ("high", "urgent")
    assert table(tuned)["sunflower"] == ("high", "urgent")
    assert table(tuned)["gold"] == ("normal", "high")


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        (
            '[sla.default_priority]\ndiamond = "hgih"\n',
            r"sla\.default_priority\.diamond: 'hgih' is not a priority \(use normal, high, urgent\)",
        ),
        ('[sla.default_priority]\nplatinum = "high"\n', "Extra inputs are not permitted"),
        ('[sla]\ncomplaint_priority_raise = "maybe"\n', "complaint_priority_raise"),
    ],
)
def test_a_bad_priority_setting_is_refused_clearly(tmp_path: Path, toml: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(toml)
    with pytest.raises(ValidationError, match=message):
        load_settings(path)
