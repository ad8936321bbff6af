"""A hand-made branch for the monthly report of 2026-10: every number the tests assert follows from the
rows below (worked out in the comments).

Months 2026-07 … 2026-10 of AUM (constant unless noted) and the nightly results that go with them:

======  ====  ============================================  ===================================
cust.   RM    AUM                                           what happens
======  ====  ============================================  ===================================
C01     S1    2,000,000                                     sunflower
C02     S1    6,000,000                                     diamond
C03     S1    800,000; 300,000 in Oct                       sunflower, on watch in Oct; asset
                                                            loss 500,000 in Oct (vs Jul)
C04     S2    12,000,000                                    private
C05     S2    100,000                                       gold
C06     S2    30,000                                        mass
C07     S1    700,000 Jul–Sep; closed 2026-10-05            lost in Oct (AUM 0); asset loss
                                                            700,000 in Oct
C08     S2    600,000 from Oct                              new in Oct, sunflower
C09     S2    900,000 Jul–Aug; closed 2026-09-20            lost in Sep; gone in Oct
======  ====  ============================================  ===================================
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from wealthcrm.alerts.models import Alert
from wealthcrm.analytics.models import CustomerMonth
from wealthcrm.customers.models import Customer
from wealthcrm.holdings.models import AumMonthly
from wealthcrm.scorecards.models import Scorecard, ScorecardLevel, ScorecardRun
from wealthcrm.service.models import ServiceRequest
from wealthcrm.staff.models import Branch, Staff, Team
from wealthcrm.surveys.models import SurveyAnswer
from wealthcrm.tasks.models import Task
from wealthcrm.users import service as users
from wealthcrm.vocab import (
    AlertStatus,
    AlertType,
    AssetClass,
    CustomerStatus,
    Priority,
    RequestStatus,
    RequestType,
    Role,
    ServiceChannel,
    Severity,
    StaffStatus,
    Stage,
    TaskKind,
    TaskOutcome,
    TaskStatus,
    Tier,
)

JUL, AUG, SEP, OCT = (date(2026, m, 1) for m in (7, 8, 9, 10))
MONTHS = (JUL, AUG, SEP, OCT)
PASSWORD = "correct horse battery"
STAFF_NAMES = {"S1": "王经理", "S2": "李经理", "L1": "张组长"}
#: customer → (RM, AUM per month (None: no row), closed on)
BOOK: dict[str, tuple[str, tuple[float | None, ...], date | None]] = {
    "C01": ("S1", (2e6, 2e6, 2e6, 2e6), None),
    "C02": ("S1", (6e6, 6e6, 6e6, 6e6), None),
    "C03": ("S1", (8e5, 8e5, 8e5, 3e5), None),
    "C04": ("S2", (12e6, 12e6, 12e6, 12e6), None),
    "C05": ("S2", (1e5, 1e5, 1e5, 1e5), None),
    "C06": ("S2", (3e4, 3e4, 3e4, 3e4), None),
    "C07": ("S1", (7e5, 7e5, 7e5, None), date(2026, 10, 5)),
    "C08": ("S2", (None, None, None, 6e5), None),
    "C09": ("S2", (9e5, 9e5, None, None), date(2026, 9, 20)),
}
#: the nightly results: customer → month → (tier, P(loss), customer loss, asset loss)
S, D, P, G, M = Tier.sunflower, Tier.diamond, Tier.private, Tier.gold, Tier.mass
Row = tuple[Tier, float | None, bool, float | None]


def _same(tier: Tier, p_loss: float | None) -> dict[date, Row]:
    return dict.fromkeys(MONTHS, (tier, p_loss, False, None))


RESULTS: dict[str, dict[date, Row]] = {
    "C01": _same(S, 0.05),
    "C02": _same(D, 0.02),
    "C03": {JUL: (S, 0.30, False, None), AUG: (S, 0.35, False, None), SEP: (S, 0.40, False, None),
            OCT: (S, 0.50, False, 5e5)},
    "C04": _same(P, 0.01),
    "C05": _same(G, None),
    "C06": _same(M, None),
    "C07": {JUL: (S, 0.10, False, None), AUG: (S, 0.50, False, None), SEP: (S, 0.45, False, None),
            OCT: (S, None, True, 7e5)},
    "C08": {OCT: (S, 0.03, False, None)},
    "C09": {JUL: (S, 0.60, False, None), AUG: (S, 0.70, False, None), SEP: (S, None, True, None)},
}  # fmt: skip
#: the scorecards stored for 2026-10 (figures the report copies)
SCORECARD_FIGURES: dict[tuple[ScorecardLevel, str], dict[str, float | None]] = {
    (ScorecardLevel.rm, "S1"): {"customers": 4, "aum": 8.8e6, "risk_adjusted_retention": 2.5, "nps": 50.0},
    (ScorecardLevel.rm, "S2"): {"customers": 4, "aum": 12.73e6, "risk_adjusted_retention": -1.5, "nps": None},
    (ScorecardLevel.team, "T1"): {"customers": 8, "aum": 21.53e6, "risk_adjusted_retention": 0.5, "nps": 0.0},
    (ScorecardLevel.branch, "B1"): {
        "customers": 8,
        "aum": 21.53e6,
        "risk_adjusted_retention": 0.5,
        "nps": 0.0,
    },
}


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _alert(cid: str, key: str, first: date, last: date, kind: AlertType = AlertType.large_outflow) -> Alert:
    return Alert(
        customer_id=cid, alert_type=kind, severity=Severity.high, dedupe_key=key, status=AlertStatus.open,
        first_month=first, last_month=last, evidence={}, action="retention_call",
        created_at=_utc("2026-07-05T00:00"), updated_at=_utc("2026-07-05T00:00"), closed_at=None,
    )  # fmt: skip


def _task(cid: str, rm: str, outcome: TaskOutcome, completed: str) -> Task:
    return Task(
        kind=TaskKind.retention, status=TaskStatus.done, customer_id=cid, assignee_id=rm, due_on=OCT,
        outcome=outcome, created_at=_utc("2026-09-01T00:00"), updated_at=_utc(completed),
        completed_at=_utc(completed),
    )  # fmt: skip


def _request(rid: str, kind: RequestType, opened: str, **values: Any) -> ServiceRequest:
    defaults: dict[str, Any] = {
        "acknowledged_at": None, "acknowledge_due_at": None, "resolved_at": None, "due_at": None,
        "rating": None, "status": RequestStatus.new,
    }  # fmt: skip
    fields = defaults | {k: _utc(v) if k.endswith("_at") else v for k, v in values.items()}
    return ServiceRequest(
        request_id=rid, customer_id="C01", request_type=kind, channel=ServiceChannel.branch,
        priority=Priority.normal, staff_id="S1", opened_at=_utc(opened), **fields,
    )  # fmt: skip


def load_report_branch(session: Session, *, with_users: bool = False) -> None:
    """The branch's rows; ``with_users`` adds a login per role (slow: password hashing)."""
    session.add(Branch(branch_id="B1", name="测试支行", city="上海"))
    session.add(Team(team_id="T1", branch_id="B1", name="财富一组"))
    session.flush()
    for sid, role in (("S1", Role.rm), ("S2", Role.rm), ("L1", Role.team_lead)):
        session.add(
            Staff(staff_id=sid, branch_id="B1", team_id="T1", name=STAFF_NAMES[sid], role=role,
                  status=StaffStatus.active, joined_on=date(2020, 1, 1))
        )  # fmt: skip
    session.flush()
    for cid, (rm, aums, closed) in BOOK.items():
        session.add(
            Customer(customer_id=cid, branch_id="B1", name=f"客户{cid}", onboarded_on=date(2020, 1, 1),
                     rm_id=rm, status=CustomerStatus.closed if closed else CustomerStatus.active,
                     closed_on=closed)
        )  # fmt: skip
        session.flush()
        for month, aum in zip(MONTHS, aums, strict=True):
            if aum is not None:
                session.add(
                    AumMonthly(customer_id=cid, month=month, asset_class=AssetClass.time_deposit,
                               avg_daily_balance=aum, month_end_balance=aum)
                )  # fmt: skip
        for month, (tier, p_loss, lost, asset) in RESULTS[cid].items():
            aum = dict(zip(MONTHS, aums, strict=True))[month] or 0.0
            session.add(
                CustomerMonth(
                    customer_id=cid, month=month, aum=aum, tier=tier, tier_met=tier,
                    watch=cid == "C03" and month == OCT, months_below=0, tier_event=None, customer_loss=lost,
                    asset_loss_amount=asset, stage=Stage.mature, p_loss=p_loss,
                    aum_at_risk=None if p_loss is None else p_loss * aum,
                )
            )  # fmt: skip
    session.flush()
    session.add_all(
        [
            _alert("C07", "C07:large_outflow:1", AUG, SEP),  # C07: first flagged in Aug (2 months ahead)
            _alert("C03", "C03:near_threshold:1", JUL, JUL, AlertType.near_threshold),
            _alert("C09", "C09:large_outflow:1", date(2026, 6, 1), AUG),
            _alert("C05", "C05:watch:1", JUL, JUL, AlertType.watch),  # gold: outside the loss population
        ]
    )
    session.add_all(
        [
            _task("C03", "S1", TaskOutcome.retained, "2026-10-10T02:00"),  # a save in Oct
            _task("C07", "S1", TaskOutcome.retained, "2026-10-03T02:00"),  # retained, yet lost in Oct
            _task("C01", "S1", TaskOutcome.contacted, "2026-10-15T02:00"),  # worked, not a save
            _task("C02", "S1", TaskOutcome.retained, "2026-09-30T15:30"),  # 23:30 in Shanghai: Sep
            _task("C05", "S2", TaskOutcome.retained, "2026-10-31T12:00"),  # 20:00 in Shanghai: Oct
            _task("C04", "S2", TaskOutcome.retained, "2026-09-30T17:00"),  # 01:00 on Oct 1 in Shanghai
        ]
    )
    session.add_all(
        [
            _request("R1", RequestType.inquiry, "2026-10-02T02:00", acknowledged_at="2026-10-02T03:00",
                     acknowledge_due_at="2026-10-02T04:00", resolved_at="2026-10-03T02:00",
                     due_at="2026-10-04T02:00", rating=5, status=RequestStatus.resolved),
            _request("R2", RequestType.complaint, "2026-09-28T02:00", acknowledged_at="2026-09-28T03:00",
                     acknowledge_due_at="2026-09-28T04:00", resolved_at="2026-10-05T01:00",
                     due_at="2026-10-01T02:00", rating=2, status=RequestStatus.resolved),
            _request("R3", RequestType.complaint, "2026-10-20T02:00", acknowledged_at="2026-10-20T07:00",
                     acknowledge_due_at="2026-10-20T04:00", status=RequestStatus.acknowledged),
            _request("R4", RequestType.transaction_problem, "2026-10-31T17:00"),  # Nov 1 in Shanghai
            _request("R5", RequestType.appointment, "2026-09-30T17:30", resolved_at="2026-10-01T03:00",
                     rating=4, status=RequestStatus.resolved),  # opened Oct 1, 01:30 in Shanghai
        ]
    )  # fmt: skip
    answers = [
        ("A1", "NPS", 10, OCT), ("A1", "SAT1", 6, OCT), ("A2", "NPS", 5, OCT), ("A2", "SAT1", 4, OCT),
        ("A3", "NPS", 8, OCT), ("A4", "NPS", 0, date(2026, 9, 30)),
    ]  # fmt: skip
    session.add_all(
        SurveyAnswer(response_id=r, item_id=i, customer_id="C01", questionnaire_id="branch_default",
                     answered_on=day.replace(day=15) if day == OCT else day, score=s)
        for r, i, s, day in answers
    )  # fmt: skip
    session.add(
        ScorecardRun(month=OCT, computed_at=_utc("2026-11-02T01:00"), window_months=12, horizon_months=3,
                     units=len(SCORECARD_FIGURES))
    )  # fmt: skip
    session.flush()
    names = {"S1": "王经理", "S2": "李经理", "T1": "财富一组", "B1": "测试支行"}
    session.add_all(
        Scorecard(month=OCT, level=level, unit_id=uid, name=names[uid],
                  team_id=None if level is ScorecardLevel.branch else "T1", figures=figures)
        for (level, uid), figures in SCORECARD_FIGURES.items()
    )  # fmt: skip
    session.flush()
    if not with_users:
        return
    for username, role, staff_id in (
        ("boss", Role.branch_manager, None),
        ("lead", Role.team_lead, "L1"),
        ("rm1", Role.rm, "S1"),
        ("rm2", Role.rm, "S2"),
        ("audit", Role.auditor, None),
        ("analyst", Role.analyst, None),
    ):
        users.create(session, username=username, password=PASSWORD, role=role, staff_id=staff_id)
