"""The service dashboards' figures on hand-made requests and redemptions, worked out by hand.

Period September–October 2025, now Tuesday 14 October 2025 10:00 in Beijing (National Day calendar of
tests/service/data.py). The requests (team: of the customer's RM; T1 = S01's, T2 = S05's):

=== ========= =================== ========= =========== =========== =========== ========================
id  customer  type                tier      opened      due         resolved    outcome
=== ========= =================== ========= =========== =========== =========== ========================
A   C1 (T1)   complaint           sunflower 09-22 10:00 09-24 10:00 09-23 15:00 met, rated 5, fees
B   C1 (T1)   complaint           sunflower 09-30 15:00 10-10 15:00 10-10 16:00 late, rated 2, waiting_time
C   C2 (T1)   inquiry             gold      10-09 09:00 10-13 09:00 —           open, overdue
D   C4 (T2)   transaction_problem gold      10-13 09:00 10-16 09:00 —           open, within the SLA
E   C5 (T1)   complaint           sunflower 10-13 14:00 10-15 14:00 —           waiting since 10-13 16:00
F   C4 (T2)   inquiry             gold      08-20 10:00 08-22 10:00 —           open, overdue (August)
H   C6 (T1)   complaint           sunflower 10-01 01:00 10-10 17:00 10-09 11:00 met, fees (30 Sep in UTC)
=== ========= =================== ========= =========== =========== =========== ========================
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from wealthcrm.config import Settings
from wealthcrm.entitlements.models import EntitlementRedemption
from wealthcrm.errors import Forbidden, Invalid
from wealthcrm.service import dashboard as dash
from wealthcrm.service.dashboard import AgeingRow, BenefitUsage, ComplaintMonth, Compliance, RootCause
from wealthcrm.service.models import ServiceRequest
from wealthcrm.vocab import Priority, RequestStatus, RequestType, ServiceChannel, Tier

from .data import bj, make_settings, seed, who

NOW = bj(2025, 10, 14, 10)
PERIOD = dash.make_period(date(2025, 9, 1), date(2025, 10, 1))
S = RequestStatus


@pytest.fixture
def cfg(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


def _request(
    rid: str,
    customer: str,
    kind: RequestType,
    tier: Tier,
    opened: datetime,
    due: datetime,
    status: RequestStatus,
    *,
    resolved: datetime | None = None,
    rating: int | None = None,
    root_cause: str | None = None,
    stopped: datetime | None = None,
) -> ServiceRequest:
    return ServiceRequest(
        request_id=rid,
        customer_id=customer,
        request_type=kind,
        channel=ServiceChannel.branch,
        priority=Priority.normal,
        root_cause=root_cause,
        staff_id="S03",
        opened_at=opened,
        acknowledged_at=None,
        due_at=due,
        resolved_at=resolved,
        status=status,
        rating=rating,
        sla_tier=tier,
        acknowledge_due_at=None,
        clock_stopped_at=stopped or (resolved if status in (S.resolved, S.closed) else None),
        paused_hours=0.0,
        closed_at=None,
    )


def _redemption(
    customer: str, benefit: str, qty: int, tier: Tier, cost: float, at: datetime, *, cancelled: bool = False
) -> EntitlementRedemption:
    return EntitlementRedemption(
        customer_id=customer,
        benefit=benefit,
        year=at.year,
        quantity=qty,
        tier=tier,
        cost=cost,
        redeemed_at=at,
        staff_id="S03",
        created_by="svc",
        note=None,
        cancelled_at=at if cancelled else None,
    )


def _data(session: Session) -> None:
    seed(session)
    c, i, t = RequestType.complaint, RequestType.inquiry, RequestType.transaction_problem
    sun, gold = Tier.sunflower, Tier.gold
    session.add_all(
        [
            _request("A", "C1", c, sun, bj(2025, 9, 22, 10), bj(2025, 9, 24, 10), S.closed,
                     resolved=bj(2025, 9, 23, 15), rating=5, root_cause="fees"),
            _request("B", "C1", c, sun, bj(2025, 9, 30, 15), bj(2025, 10, 10, 15), S.closed,
                     resolved=bj(2025, 10, 10, 16), rating=2, root_cause="waiting_time"),
            _request("C", "C2", i, gold, bj(2025, 10, 9, 9), bj(2025, 10, 13, 9), S.in_progress),
            _request("D", "C4", t, gold, bj(2025, 10, 13, 9), bj(2025, 10, 16, 9), S.new),
            _request("E", "C5", c, sun, bj(2025, 10, 13, 14), bj(2025, 10, 15, 14), S.waiting_customer,
                     stopped=bj(2025, 10, 13, 16)),
            _request("F", "C4", i, gold, bj(2025, 8, 20, 10), bj(2025, 8, 22, 10), S.new),
            _request("H", "C6", c, sun, bj(2025, 10, 1, 1), bj(2025, 10, 10, 17), S.resolved,
                     resolved=bj(2025, 10, 9, 11), root_cause="fees"),
            _redemption("C1", "airport_lounge", 2, sun, 300, bj(2025, 9, 10, 10)),
            _redemption("C5", "airport_lounge", 1, sun, 150, bj(2025, 10, 9, 10)),
            _redemption("C1", "health_checkup", 1, sun, 800, bj(2025, 10, 13, 10), cancelled=True),
            _redemption("C4", "fee_waiver", 3, gold, 75, bj(2025, 10, 10, 10)),
            _redemption("C2", "fee_waiver", 1, gold, 25, bj(2025, 8, 1, 10)),
        ]
    )  # fmt: skip
    session.flush()


def test_the_branch_managers_dashboard(session: Session, cfg: Settings) -> None:
    _data(session)
    board = dash.dashboard(session, user=who("mgr"), period=PERIOD, now=NOW, settings=cfg)
    assert board.by_type == [
        Compliance("inquiry", 1, 0, 1, 0, 0, None),  # C: open past its due time
        Compliance("transaction_problem", 1, 0, 0, 1, 0, None),
        Compliance("complaint", 4, 2, 1, 1, 2, 3.5),  # A, H met; B late; E waiting before its due time
    ]
    assert [(c.key, c.compliance) for c in board.by_type] == [
        ("inquiry", 0.0),
        ("transaction_problem", None),
        ("complaint", 2 / 3),
    ]
    assert board.by_tier == [
        Compliance("gold", 2, 0, 1, 1, 0, None),
        Compliance("sunflower", 4, 2, 1, 1, 2, 3.5),
    ]
    assert board.by_team == [Compliance("T1", 5, 2, 2, 1, 2, 3.5), Compliance("T2", 1, 0, 0, 1, 0, None)]
    assert board.team_names == {"T1": "一组", "T2": "二组"}
    assert (board.total, board.total.compliance) == (Compliance("all", 6, 2, 2, 2, 2, 3.5), 0.5)

    # the backlog now: C (33 business hours old), D (9 h), E (4 h), F (280 h, since August)
    assert board.backlog == dash.Backlog(
        open=4,
        overdue=2,
        by_status={"new": 2, "acknowledged": 0, "in_progress": 1, "waiting_customer": 1},
        ageing=[
            AgeingRow("inquiry", 2, 2, {"under_1": 0, "1_3": 0, "3_5": 1, "5_plus": 1}),
            AgeingRow("transaction_problem", 1, 0, {"under_1": 0, "1_3": 1, "3_5": 0, "5_plus": 0}),
            AgeingRow("complaint", 1, 0, {"under_1": 1, "1_3": 0, "3_5": 0, "5_plus": 0}),
        ],
        oldest_days=35.0,
    )
    assert board.complaints == [
        ComplaintMonth("2025-09", 2, 2, 1, 0, 2, 3.5),  # A and B (B: 30 Sep 15:00 in Beijing)
        ComplaintMonth("2025-10", 2, 1, 1, 1, 0, None),  # H (1 Oct 01:00 in Beijing) and E
    ]
    assert board.root_causes == [
        RootCause("fees", 2, 2, 2),
        RootCause("waiting_time", 1, 1, 0),
        RootCause("", 1, 0, 0),
    ]
    assert board.benefits == [
        BenefitUsage("airport_lounge", 3, 2, 450.0, {"sunflower": 3}),
        BenefitUsage("fee_waiver", 3, 1, 75.0, {"gold": 3}),
    ]
    assert board.benefit_cost == 525.0
    data = board.to_dict()
    assert (data["start"], data["end"], data["sla"]["by_team"][0]["name"]) == ("2025-09", "2025-10", "一组")
    assert data["sla"]["total"]["compliance"] == 0.5


def test_a_team_lead_sees_the_teams_customers(session: Session, cfg: Settings) -> None:
    _data(session)
    board = dash.dashboard(session, user=who("lead"), period=PERIOD, now=NOW, settings=cfg)
    assert [c.key for c in board.by_team] == ["T1"]
    assert board.total == Compliance("all", 5, 2, 2, 1, 2, 3.5)
    assert (board.backlog.open, board.backlog.overdue) == (2, 1)  # C and E; D and F are T2's
    assert [b.benefit for b in board.benefits] == ["airport_lounge"]


def test_one_month_and_the_roles(session: Session, cfg: Settings) -> None:
    _data(session)
    october = dash.make_period(date(2025, 10, 20), date(2025, 10, 1))
    board = dash.dashboard(session, user=who("audit"), period=october, now=NOW, settings=cfg)
    assert [m.month for m in board.complaints] == ["2025-10"]
    assert board.total == Compliance("all", 4, 1, 1, 2, 0, None)  # C, D, E, H
    for username in ("rm01", "svc"):
        with pytest.raises(Forbidden):
            dash.dashboard(session, user=who(username), period=october, now=NOW, settings=cfg)
    with pytest.raises(Invalid, match="ends before it starts"):
        dash.make_period(date(2025, 10, 1), date(2025, 9, 1))
    with pytest.raises(Invalid, match="at most 36 months"):
        dash.make_period(date(2022, 10, 1), date(2025, 10, 1))
    assert dash.default_period(date(2026, 2, 14)) == dash.Period(date(2025, 9, 1), date(2026, 2, 1))


def test_an_empty_branch(session: Session, cfg: Settings) -> None:
    seed(session)
    board = dash.dashboard(session, user=who("mgr"), period=PERIOD, now=NOW, settings=cfg)
    assert (board.by_type, board.total.compliance, board.backlog.open, board.backlog.oldest_days) == (
        [],
        None,
        0,
        None,
    )
    assert [m.opened for m in board.complaints] == [0, 0]
    assert (board.root_causes, board.benefits) == ([], [])
