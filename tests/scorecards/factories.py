"""A hand-made branch for the scorecard tests: every raw row as a plain Python literal, a loader that
inserts them, and the people who read them.

Times are the branch's local time (Asia/Shanghai), as people read them; the loader stores the
service requests', tasks' and audit entries' times as UTC, as the app does.

Month 2026-10 with a risk window of 3 months (2026-07 … 2026-10). Teams: T1 (lead L1; RMs R1, R2 and
R5, who joined 2026-09-15), T2 (R3; R4 left 2026-08-31). V1 is service staff, M1 the branch manager.
C05 moved from R1 to R2 on 2026-09-10 (a reassignment); C06's RM R5 joined after July, so C06's July
and August count for nobody; C07 (R4) closed in August; C08 has no RM; C10 (R3) closes in October.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from wealthcrm.activity.models import Transaction
from wealthcrm.analytics.models import CustomerMonth
from wealthcrm.audit import service as audit
from wealthcrm.config import DEFAULT_TIME_ZONE as ZONE
from wealthcrm.customers.models import Customer, Reassignment
from wealthcrm.db import to_utc, utcnow
from wealthcrm.holdings.models import AumMonthly
from wealthcrm.interactions.models import Interaction
from wealthcrm.service.models import ServiceRequest
from wealthcrm.staff.models import Branch, Staff, Team
from wealthcrm.surveys.models import SurveyAnswer
from wealthcrm.tasks.models import Task
from wealthcrm.users.models import User
from wealthcrm.vocab import Role

MONTH = date(2026, 10, 1)
WINDOW = 3
MONTHS = [date(2026, 7, 1), date(2026, 8, 1), date(2026, 9, 1), date(2026, 10, 1)]
JUL, AUG, SEP, OCT = MONTHS
D = date

STAFF: list[dict[str, Any]] = [
    {
        "staff_id": "M1",
        "team_id": None,
        "role": "branch_manager",
        "joined_on": D(2010, 1, 1),
        "left_on": None,
    },
    {"staff_id": "L1", "team_id": "T1", "role": "team_lead", "joined_on": D(2015, 1, 1), "left_on": None},
    {"staff_id": "R1", "team_id": "T1", "role": "rm", "joined_on": D(2018, 3, 1), "left_on": None},
    {"staff_id": "R2", "team_id": "T1", "role": "rm", "joined_on": D(2019, 5, 1), "left_on": None},
    {"staff_id": "R3", "team_id": "T2", "role": "rm", "joined_on": D(2020, 1, 1), "left_on": None},
    {"staff_id": "R4", "team_id": "T2", "role": "rm", "joined_on": D(2016, 1, 1), "left_on": D(2026, 8, 31)},
    {"staff_id": "R5", "team_id": "T1", "role": "rm", "joined_on": D(2026, 9, 15), "left_on": None},
    {"staff_id": "V1", "team_id": None, "role": "service", "joined_on": D(2021, 1, 1), "left_on": None},
]
TEAMS = {"T1": "财富一组", "T2": "财富二组"}
BRANCH = "B1"

CUSTOMERS: list[dict[str, Any]] = [
    {"customer_id": "C01", "rm_id": "R1", "closed_on": None},
    {"customer_id": "C02", "rm_id": "R1", "closed_on": None},
    {"customer_id": "C03", "rm_id": "R1", "closed_on": None},
    {"customer_id": "C04", "rm_id": "R1", "closed_on": None},
    {"customer_id": "C05", "rm_id": "R2", "closed_on": None},
    {"customer_id": "C06", "rm_id": "R5", "closed_on": None},
    {"customer_id": "C07", "rm_id": "R4", "closed_on": D(2026, 8, 20)},
    {"customer_id": "C08", "rm_id": None, "closed_on": None},
    {"customer_id": "C09", "rm_id": "R2", "closed_on": None},
    {"customer_id": "C10", "rm_id": "R3", "closed_on": D(2026, 10, 5)},
    {"customer_id": "C11", "rm_id": "R3", "closed_on": None},
    {"customer_id": "C12", "rm_id": "L1", "closed_on": None},
]
REASSIGNMENTS: list[dict[str, Any]] = [
    {"customer_id": "C05", "from_staff_id": "R1", "to_staff_id": "R2", "at": datetime(2026, 9, 10, 10, 0)},
    # before the window: changes nothing in it
    {"customer_id": "C12", "from_staff_id": "R3", "to_staff_id": "L1", "at": datetime(2026, 6, 1, 9, 0)},
]


def _r(cid: str, month: date, aum: float, tier: str, p: float | None = None, **more: Any) -> dict[str, Any]:
    row = {
        "customer_id": cid, "month": month, "aum": aum, "tier": tier, "tier_event": None,
        "customer_loss": False, "asset_loss_amount": None, "p_loss": p,
        "expected_outflow": None if p is None else round(aum * (0.02 + 0.5 * p), 2),
    }  # fmt: skip
    row.update(more)
    return row


SUN, DIA, PRI, GOLD = "sunflower", "diamond", "private", "gold"
RESULTS: list[dict[str, Any]] = [
    _r("C01", JUL, 800_000, SUN, 0.10), _r("C01", AUG, 780_000, SUN, 0.12),
    _r("C01", SEP, 760_000, SUN, 0.15), _r("C01", OCT, 700_000, SUN, 0.20),
    _r("C02", JUL, 900_000, SUN, 0.30), _r("C02", AUG, 700_000, SUN, 0.50),
    _r("C02", SEP, 450_000, SUN, 0.60),
    _r("C02", OCT, 300_000, GOLD, tier_event="downgrade", customer_loss=True, asset_loss_amount=600_000.0),
    _r("C03", JUL, 250_000, GOLD), _r("C03", AUG, 280_000, GOLD), _r("C03", SEP, 320_000, GOLD),
    _r("C03", OCT, 350_000, GOLD),
    _r("C04", JUL, 400_000, GOLD), _r("C04", AUG, 450_000, GOLD), _r("C04", SEP, 510_000, GOLD),
    _r("C04", OCT, 520_000, SUN, 0.05, tier_event="upgrade"),
    _r("C05", JUL, 6_000_000, DIA, 0.05), _r("C05", AUG, 5_900_000, DIA, 0.06),
    _r("C05", SEP, 5_500_000, DIA, 0.07), _r("C05", OCT, 5_200_000, DIA, 0.08),
    _r("C06", JUL, 1_000_000, SUN, 0.20), _r("C06", AUG, 1_000_000, SUN, 0.20),
    _r("C06", SEP, 1_000_000, SUN, 0.20), _r("C06", OCT, 1_000_000, SUN, 0.20),
    _r("C07", JUL, 2_000_000, SUN, 0.40), _r("C07", AUG, 1_200_000, SUN, None, customer_loss=True),
    _r("C08", JUL, 600_000, SUN, 0.10), _r("C08", AUG, 600_000, SUN, 0.10),
    _r("C08", SEP, 600_000, SUN, 0.10), _r("C08", OCT, 610_000, SUN, 0.10),
    _r("C09", JUL, 12_000_000, PRI, 0.02), _r("C09", AUG, 12_100_000, PRI, 0.02),
    _r("C09", SEP, 12_200_000, PRI, 0.03), _r("C09", OCT, 12_500_000, PRI, 0.02),
    _r("C10", JUL, 1_500_000, SUN, 0.25), _r("C10", AUG, 1_100_000, SUN, 0.35),
    _r("C10", SEP, 600_000, SUN, 0.55), _r("C10", OCT, 50_000, SUN, None, customer_loss=True),
    _r("C11", JUL, 100_000, GOLD), _r("C11", AUG, 100_000, GOLD),
    _r("C11", SEP, 60_000, GOLD, asset_loss_amount=40_000.0), _r("C11", OCT, 100_000, GOLD),
    _r("C12", JUL, 700_000, SUN, 0.08), _r("C12", AUG, 700_000, SUN, 0.08),
    _r("C12", SEP, 700_000, SUN, 0.08), _r("C12", OCT, 720_000, SUN, 0.08),
]  # fmt: skip


def _x(cid: str, day: date, amount: float, direction: str, kind: str) -> dict[str, Any]:
    return {"customer_id": cid, "txn_date": day, "amount": amount, "direction": direction, "kind": kind}


TRANSACTIONS: list[dict[str, Any]] = [
    _x("C09", D(2026, 10, 3), 500_000, "in", "other_bank"),
    _x("C09", D(2026, 10, 12), 200_000, "out", "other_bank"),
    _x("C09", D(2026, 10, 13), 100_000, "out", "product"),
    _x("C09", D(2026, 10, 14), 50_000, "in", "own_account"),
    _x("C01", D(2026, 10, 15), 20_000, "out", "merchant"),
    _x("C02", D(2026, 10, 2), 400_000, "out", "other_bank"),
    _x("C02", D(2026, 9, 30), 10_000, "out", "other_bank"),
    _x("C08", D(2026, 10, 31), 30_000, "in", "payroll"),
]

HOLDINGS: list[dict[str, Any]] = [  # month-average balances in October by asset class
    {"customer_id": "C01", "asset_class": "demand_deposit", "balance": 100_000},
    {"customer_id": "C01", "asset_class": "wmp", "balance": 500_000},
    {"customer_id": "C01", "asset_class": "fund", "balance": 100_000},
    {"customer_id": "C01", "asset_class": "precious_metal", "balance": 500},  # below 1,000: not held
    {"customer_id": "C02", "asset_class": "demand_deposit", "balance": 300_000},
    {"customer_id": "C04", "asset_class": "time_deposit", "balance": 520_000},
    {"customer_id": "C09", "asset_class": "demand_deposit", "balance": 2_000_000},
    {"customer_id": "C09", "asset_class": "insurance", "balance": 10_500_000},
    {"customer_id": "C12", "asset_class": "bond", "balance": 720_000},
    {"customer_id": "C08", "asset_class": "custody", "balance": 610_000},
]
SEPT_HOLDING = {"customer_id": "C03", "asset_class": "fund", "balance": 320_000}  # September: ignored


def _i(staff: str, cid: str, at: datetime, channel: str, outcome: str) -> dict[str, Any]:
    return {"staff_id": staff, "customer_id": cid, "at": at, "channel": channel, "outcome": outcome}


T = datetime
INTERACTIONS: list[dict[str, Any]] = [
    _i("R1", "C01", T(2026, 10, 5, 10), "phone", "reached"),
    _i("R1", "C01", T(2026, 10, 6, 10), "wechat", "no_answer"),
    _i("R1", "C03", T(2026, 8, 10, 10), "visit", "reached"),
    _i("R1", "C04", T(2026, 9, 15, 10), "phone", "interested"),
    _i("R1", "C02", T(2026, 10, 1, 9), "video", "retained"),
    _i("R2", "C05", T(2026, 10, 25, 15), "wechat", "reached"),
    _i("R2", "C09", T(2026, 10, 20, 11), "branch", "sold"),
    _i("R2", "C09", T(2026, 11, 3, 11), "phone", "reached"),
    _i("R3", "C10", T(2026, 10, 2, 14), "phone", "declined"),
    _i("R3", "C11", T(2026, 9, 1, 14), "sms", "reached"),
    _i("L1", "C12", T(2026, 10, 31, 23, 30), "video", "reached"),
    _i("V1", "C08", T(2026, 10, 10, 10), "branch", "reached"),
]


def _t(assignee: str, kind: str, status: str, due: date, done: datetime | None, outcome: str | None,
       cid: str | None) -> dict[str, Any]:  # fmt: skip
    return {"assignee_id": assignee, "kind": kind, "status": status, "due_on": due, "completed_at": done,
            "outcome": outcome, "customer_id": cid}  # fmt: skip


TASKS: list[dict[str, Any]] = [
    _t("R1", "retention", "done", D(2026, 10, 3), T(2026, 10, 2, 9), "retained", "C02"),
    _t("R1", "cadence", "done", D(2026, 10, 10), T(2026, 10, 12, 9), "contacted", "C04"),
    _t("R1", "maturity", "open", D(2026, 10, 20), None, None, "C01"),
    _t("R1", "birthday", "cancelled", D(2026, 10, 25), T(2026, 10, 21), "not_needed", "C01"),
    _t("R1", "retention", "done", D(2026, 9, 28), T(2026, 10, 5, 9), "retained", "C01"),
    _t("R1", "follow_up", "cancelled", D(2026, 10, 30), T(2026, 11, 2), "not_needed", "C03"),
    _t("R1", "qualification_expiry", "done", D(2026, 10, 15), T(2026, 10, 15, 16), "contacted", None),
    _t("R2", "retention", "done", D(2026, 10, 5), T(2026, 10, 6, 9), "lost", "C09"),
    _t("R2", "retention", "done", D(2026, 10, 7), T(2026, 10, 31, 23), "retained", "C09"),
    _t("R3", "service_followup", "snoozed", D(2026, 10, 1), None, None, "C10"),
    _t("L1", "retention", "done", D(2026, 10, 28), T(2026, 11, 2, 9), "retained", "C12"),
]


def _q(rid: str, cid: str, staff: str | None, kind: str, opened: datetime, due: datetime,
       resolved: datetime | None, rating: int | None) -> dict[str, Any]:  # fmt: skip
    return {"id": rid, "customer_id": cid, "staff_id": staff, "type": kind, "opened": opened, "due": due,
            "resolved": resolved, "rating": rating}  # fmt: skip


REQUESTS: list[dict[str, Any]] = [
    _q("Q1", "C01", "R1", "inquiry", T(2026, 10, 1, 9), T(2026, 10, 2, 9), T(2026, 10, 1, 15), 5),
    _q("Q2", "C02", "R1", "complaint", T(2026, 9, 29, 9), T(2026, 10, 3, 17), T(2026, 10, 6, 10), 2),
    _q("Q3", "C09", "R2", "complaint", T(2026, 10, 10, 10), T(2026, 10, 14, 10), None, None),
    _q("Q4", "C08", "V1", "complaint", T(2026, 10, 12, 9), T(2026, 11, 2, 9), T(2026, 10, 20, 9), 4),
    _q("Q5", "C10", "R3", "transaction_problem", T(2026, 9, 20, 9), T(2026, 9, 25, 9), T(2026, 10, 2, 9), 3),
    _q("Q6", "C12", None, "inquiry", T(2026, 10, 15, 9), T(2026, 10, 16, 9), T(2026, 10, 16, 8), None),
    _q(
        "Q7",
        "C05",
        "R2",
        "appointment",
        T(2026, 10, 30, 9),
        T(2026, 10, 31, 23, 59),
        T(2026, 10, 31, 20),
        None,
    ),
]


def _a(cid: str, response: str, on: date, **scores: int) -> dict[str, Any]:
    return {"customer_id": cid, "response_id": response, "on": on, "scores": scores}


ANSWERS: list[dict[str, Any]] = [
    _a("C01", "V1", D(2026, 10, 12), NPS=10, SAT1=6, RM1=7, RM2=6, TAN1=2),
    _a("C02", "V2", D(2026, 8, 15), NPS=3, SAT1=2, RM1=3),
    _a("C05", "V3", D(2026, 8, 20), NPS=8, SAT1=5),
    _a("C05", "V4", D(2026, 10, 2), NPS=9, RM3=6),
    _a("C09", "V5", D(2026, 7, 20), NPS=2, SAT1=1),
    _a("C08", "V6", D(2026, 10, 5), NPS=0),
    _a("C10", "V7", D(2026, 9, 10), NPS=6, SAT1=4, RM1=2),
    _a("C12", "V8", D(2026, 11, 2), NPS=10),
]

OVERRIDES: list[dict[str, Any]] = [
    {"customer_id": "C01", "at": datetime(2026, 10, 8, 10), "action": "suitability.override_requested"},
    {"customer_id": "C09", "at": datetime(2026, 10, 30, 10), "action": "suitability.override_requested"},
    {"customer_id": "C02", "at": datetime(2026, 9, 30, 10), "action": "suitability.override_requested"},
    {"customer_id": "C08", "at": datetime(2026, 10, 15, 10), "action": "suitability.override_requested"},
    {"customer_id": "C01", "at": datetime(2026, 10, 9, 10), "action": "suitability.override_approved"},
]

#: login name → (role, staff id)
USERS: dict[str, tuple[Role, str | None]] = {
    "boss": (Role.branch_manager, "M1"),
    "lead1": (Role.team_lead, "L1"),
    "rm1": (Role.rm, "R1"),
    "rm2": (Role.rm, "R2"),
    "rm3": (Role.rm, "R3"),
    "svc": (Role.service, "V1"),
    "audit": (Role.auditor, None),
    "analyst": (Role.analyst, None),
}


class _Actor:
    username = "tester"
    role = Role.rm


def load(session: Session) -> None:
    """Insert every row above (the ORM, in one flush per table)."""
    session.add(Branch(branch_id=BRANCH, name="测试支行"))
    session.flush()
    session.add_all(Team(team_id=t, branch_id=BRANCH, name=n) for t, n in TEAMS.items())
    session.flush()
    session.add_all(
        Staff(
            branch_id=BRANCH,
            name=f"员工{s['staff_id']}",
            status="left" if s["left_on"] else "active",
            **s,
        )
        for s in STAFF
    )
    session.flush()
    now = utcnow()
    session.add_all(
        User(
            username=u,
            password_hash="x",
            role=role,
            staff_id=sid,
            display_name=u,
            is_active=True,
            failed_logins=0,
            created_at=now,
        )
        for u, (role, sid) in USERS.items()
    )
    session.add_all(
        Customer(
            branch_id=BRANCH,
            name=c["customer_id"],
            onboarded_on=D(2015, 1, 1),
            status="closed" if c["closed_on"] else "active",
            **c,
        )
        for c in CUSTOMERS
    )
    session.flush()
    session.add_all(Reassignment(note="handover", departure=False, **r) for r in REASSIGNMENTS)
    session.add_all(
        CustomerMonth(
            watch=False,
            months_below=0,
            tier_met=r["tier"],
            stage="mature",
            aum_at_risk=None if r["p_loss"] is None else r["p_loss"] * r["aum"],
            **r,
        )
        for r in RESULTS
    )
    session.add_all(
        Transaction(
            txn_id=f"T{i}",
            customer_id=t["customer_id"],
            txn_date=t["txn_date"],
            amount=t["amount"],
            direction=t["direction"],
            channel="online",
            counterparty_kind=t["kind"],
        )
        for i, t in enumerate(TRANSACTIONS)
    )
    session.add_all(
        AumMonthly(
            customer_id=h["customer_id"],
            month=month,
            asset_class=h["asset_class"],
            avg_daily_balance=h["balance"],
            month_end_balance=h["balance"],
        )
        for month, rows in ((MONTH, HOLDINGS), (SEP, [SEPT_HOLDING]))
        for h in rows
    )
    session.add_all(
        Interaction(
            interaction_id=f"I{i}",
            customer_id=x["customer_id"],
            staff_id=x["staff_id"],
            occurred_at=x["at"],
            channel=x["channel"],
            purpose="review",
            outcome=x["outcome"],
        )
        for i, x in enumerate(INTERACTIONS)
    )
    session.flush()
    session.add_all(
        Task(
            kind=t["kind"],
            status=t["status"],
            customer_id=t["customer_id"],
            assignee_id=t["assignee_id"],
            due_on=t["due_on"],
            completed_at=t["completed_at"] and to_utc(t["completed_at"], ZONE),
            outcome=t["outcome"],
            evidence={},
            priority_amount=0.0,
            created_at=now,
            updated_at=now,
            source_key=f"test:{i}",
        )
        for i, t in enumerate(TASKS)
    )
    session.add_all(
        ServiceRequest(
            request_id=q["id"],
            customer_id=q["customer_id"],
            staff_id=q["staff_id"],
            request_type=q["type"],
            channel="branch",
            priority="normal",
            opened_at=to_utc(q["opened"], ZONE),
            due_at=to_utc(q["due"], ZONE),
            resolved_at=q["resolved"] and to_utc(q["resolved"], ZONE),
            rating=q["rating"],
            status="resolved" if q["resolved"] else "in_progress",
        )
        for q in REQUESTS
    )
    session.add_all(
        SurveyAnswer(
            response_id=a["response_id"],
            item_id=item,
            customer_id=a["customer_id"],
            questionnaire_id="branch_default",
            answered_on=a["on"],
            score=score,
        )
        for a in ANSWERS
        for item, score in a["scores"].items()
    )
    session.flush()
    for o in OVERRIDES:
        audit.record(
            session,
            actor=_Actor(),
            action=o["action"],
            customer_id=o["customer_id"],
            at=to_utc(o["at"], ZONE),
        )
