"""Generating, listing and working tasks on the workbench's hand-made branch (SQLite and PostgreSQL).

On 2026-11-28 with the default settings the branch calls for exactly eight tasks (see EXPECTED):
retention for the three customers at risk, cadence for the three managed customers (C001 last reached
on 2026-10-03, C003 and C004 never), C004's missing risk assessment and C001's NPS 3 of 2026-10-20.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from wealthcrm.analytics.models import CustomerMonth
from wealthcrm.audit.models import AuditEntry
from wealthcrm.config import Settings
from wealthcrm.db import session_scope
from wealthcrm.errors import Conflict, Forbidden, Invalid, NotFound
from wealthcrm.holdings.models import Position
from wealthcrm.interactions.models import Interaction
from wealthcrm.tasks import service
from wealthcrm.tasks.models import Task
from wealthcrm.tasks.service import TaskFilter
from wealthcrm.users import service as users
from wealthcrm.users.models import User
from wealthcrm.vocab import (
    InteractionChannel,
    InteractionOutcome,
    InteractionPurpose,
    PositionStatus,
    Stage,
    TaskKind,
    TaskOutcome,
    TaskStatus,
    Tier,
)

from ..customers.workbench import load_workbench

ON = date(2026, 11, 28)
#: source_key → (assignee, priority amount)
EXPECTED = {
    "assessment_expiry:C004@none": ("S004", 600_000.0),
    "cadence:C001@2026-11-02": ("S001", 378_000.0),
    "cadence:C003@never": ("S001", 720_000.0),
    "cadence:C004@never": ("S004", 600_000.0),
    "retention:C001@2026-10": ("S001", 378_000.0),
    "retention:C003@2026-10": ("S001", 720_000.0),
    "retention:C004@2026-10": ("S004", 600_000.0),
    "survey_recovery:SV1": ("S001", 378_000.0),
}
#: username → source keys of the open tasks they see, in Today's order
VISIBLE = {
    "rm01": [
        "retention:C003@2026-10",
        "cadence:C003@never",
        "retention:C001@2026-10",
        "survey_recovery:SV1",
        "cadence:C001@2026-11-02",
    ],
    "rm02": ["retention:C004@2026-10", "assessment_expiry:C004@none", "cadence:C004@never"],
    "svc": [],
}
VISIBLE["lead"] = VISIBLE["rm01"]  # team T01: S001's book (the lead's own C002 is closed)
ALL = [
    "retention:C003@2026-10",
    "cadence:C003@never",
    "retention:C004@2026-10",
    "assessment_expiry:C004@none",
    "cadence:C004@never",
    "retention:C001@2026-10",
    "survey_recovery:SV1",
    "cadence:C001@2026-11-02",
]
for name in ("boss", "audit", "admin1"):
    VISIBLE[name] = ALL
VISIBLE["analyst"] = []  # pseudonymised views only: no identified customer's task


@pytest.fixture
def wb(engine: Engine, settings: Settings, tmp_path: Path) -> Engine:
    load_workbench(engine, settings, tmp_path / "branch")
    return engine


def _user(session: Session, username: str) -> User:
    return users.get(session, username=username)


def _tasks(session: Session) -> dict[str, tuple[str, str, float, date]]:
    return {
        t.source_key or f"#{t.id}": (t.assignee_id, t.status.value, t.priority_amount, t.due_on)
        for t in session.scalars(select(Task).order_by(Task.id))
    }


def _task(session: Session, key: str) -> Task:
    task = session.scalar(select(Task).where(Task.source_key == key))
    assert task is not None, key
    return task


def test_generate_makes_exactly_the_tasks_the_facts_call_for_once(wb: Engine, settings: Settings) -> None:
    with session_scope(wb) as session:
        first = service.generate(session, on=ON, settings=settings)
        assert first.to_dict() == {"created": 8, "updated": 0, "closed": 0, "woken": 0, "open": 8}
        assert _tasks(session) == {k: (a, "open", amount, ON) for k, (a, amount) in EXPECTED.items()}
        c004 = _task(session, "cadence:C004@never")
        assert (c004.kind, c004.customer_id, c004.created_by, c004.version) == (
            TaskKind.cadence,
            "C004",
            None,
            1,
        )
        assert c004.evidence == {
            "tier": "sunflower",
            "prospect": False,
            "interval_days": 30,
            "last_contact": None,
            "days_since": None,
        }
        retention = _task(session, "retention:C001@2026-10")
        assert (
            retention.alert_id is not None
            and retention.evidence["alerts"][0]["alert_type"] == "large_outflow"
        )
        assert [r["feature"] for r in retention.evidence["reasons"]] == [
            "aum_change_3m",
            "outflow_other_bank_3m",
        ]
    with session_scope(wb) as session:
        again = service.generate(session, on=ON, settings=settings)
        assert again.to_dict() == {"created": 0, "updated": 0, "closed": 0, "woken": 0, "open": 8}
        assert {k: v[1] for k, v in _tasks(session).items()} == dict.fromkeys(EXPECTED, "open")
        assert [t.version for t in session.scalars(select(Task))] == [1] * 8
        entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "task.generate")).all()
        assert [(e.actor, e.details["created"]) for e in entries] == [("system", 8), ("system", 0)]


def test_tasks_whose_reason_vanished_are_closed(wb: Engine, settings: Settings) -> None:
    with session_scope(wb) as session:
        service.generate(session, on=ON, settings=settings)
        # C003 is no longer at risk; C004 was reached (an imported contact); C004 got a maturity
        session.execute(
            update(CustomerMonth)
            .where(CustomerMonth.customer_id == "C003", CustomerMonth.month == date(2026, 10, 1))
            .values(p_loss=0.05, aum_at_risk=300_000)
        )
        session.add(
            Interaction(
                interaction_id="I9",
                customer_id="C004",
                staff_id="S004",
                occurred_at=datetime(2026, 11, 27, 15, 0),
                channel=InteractionChannel.phone,
                purpose=InteractionPurpose.review,
                outcome=InteractionOutcome.reached,
            )
        )
        session.add(
            Position(
                position_id="P9",
                customer_id="C004",
                product_code="WMP001",
                opened_on=date(2026, 6, 5),
                maturity_on=date(2026, 12, 5),
                principal=250_000,
                market_value=251_000,
                status=PositionStatus.open,
            )
        )
    with session_scope(wb) as session:
        result = service.generate(session, on=ON, settings=settings)
        assert result.to_dict() == {"created": 1, "updated": 1, "closed": 2, "woken": 0, "open": 7}
        states = {k: v[1] for k, v in _tasks(session).items()}
        assert states["retention:C003@2026-10"] == "cancelled"
        assert states["cadence:C004@never"] == "cancelled"
        assert states["maturity:P9"] == "open"
        closed = _task(session, "retention:C003@2026-10")
        assert (closed.outcome, closed.completed_by) == (TaskOutcome.not_needed, None)
        # C003's cadence task now ranks by the lower AUM at risk
        assert _task(session, "cadence:C003@never").priority_amount == 300_000.0
    with session_scope(wb) as session:
        # the position was reinvested: it matured and a new one was opened the same day
        session.execute(
            update(Position)
            .where(Position.position_id == "P9")
            .values(status=PositionStatus.matured, closed_on=date(2026, 12, 5))
        )
        session.add(
            Position(
                position_id="P10",
                customer_id="C004",
                product_code="WMP001",
                opened_on=date(2026, 12, 5),
                maturity_on=date(2027, 6, 5),
                principal=250_000,
                market_value=250_000,
                status=PositionStatus.open,
            )
        )
    with session_scope(wb) as session:
        later = service.generate(session, on=date(2026, 12, 6), settings=settings)
        assert _tasks(session)["maturity:P9"][1] == "cancelled"
        assert later.closed >= 1


def test_an_open_task_is_carried_into_the_next_month_and_a_worked_one_is_not_raised_again(
    wb: Engine, settings: Settings
) -> None:
    with session_scope(wb) as session:
        service.generate(session, on=ON, settings=settings)
        first_id = _task(session, "retention:C001@2026-10").id
        for cid, aar in (("C001", 400_000.0), ("C003", 720_000.0), ("C004", 600_000.0)):
            session.add(
                CustomerMonth(
                    customer_id=cid, month=date(2026, 11, 1), aum=900_000, tier=Tier.sunflower,
                    tier_met=Tier.sunflower, watch=False, months_below=0, customer_loss=False,
                    stage=Stage.declining, p_loss=0.44, aum_at_risk=aar,
                )
            )  # fmt: skip
    with session_scope(wb) as session:
        result = service.generate(session, on=ON, settings=settings)
        assert result.created == 0
        task = _task(session, "retention:C001@2026-11")
        assert (task.id, task.status, task.priority_amount, task.version) == (
            first_id,
            TaskStatus.open,
            400_000.0,
            2,
        )
        rm01 = _user(session, "rm01")
        service.complete(
            session,
            user=rm01,
            task_id=task.id,
            outcome=TaskOutcome.retained,
            note="留下了",
            expected_version=2,
        )
    with session_scope(wb) as session:
        service.generate(session, on=ON, settings=settings)
        retention = [
            t
            for t in session.scalars(select(Task).where(Task.customer_id == "C001"))
            if t.kind == "retention"
        ]
        assert [(t.source_key, t.status) for t in retention] == [("retention:C001@2026-11", TaskStatus.done)]


@pytest.mark.parametrize("username", sorted(VISIBLE))
def test_each_role_sees_the_tasks_of_its_scope_in_todays_order(
    wb: Engine, settings: Settings, username: str
) -> None:
    with session_scope(wb) as session:
        service.generate(session, on=ON, settings=settings)
        # a staff task of rm01's own (no customer): rm01 and the team lead see it, rm02 does not
        service.create(
            session, kind=TaskKind.other, assignee_id="S001", due_on=date(2026, 11, 27), note="续证"
        )
    with session_scope(wb) as session:
        user = _user(session, username)
        page = service.list_tasks(session, user=user, on=ON)
        keys = [r.source_key for r in _by_ids(session, [r.id for r in page.rows])]
        staff_task = username in ("rm01", "lead", "boss", "audit", "admin1")
        assert keys == ([None] if staff_task else []) + VISIBLE[username]  # overdue first
        assert page.total == len(keys)
        counts = service.task_counts(session, user=user, on=ON)
        assert (counts.open, counts.overdue, counts.due_today) == (
            len(keys),
            int(staff_task),
            len(VISIBLE[username]),
        )
        if page.rows and page.rows[0].customer_id is None:
            assert page.rows[0].overdue and page.rows[0].note == "续证"
        for task in session.scalars(select(Task)):
            visible = task.id in {r.id for r in service.list_tasks(session, user=user, on=ON, limit=100).rows}
            if not visible:
                with pytest.raises(NotFound):
                    service.get_row(session, user=user, task_id=task.id, on=ON)
                with pytest.raises(NotFound):
                    service.complete(
                        session, user=user, task_id=task.id, outcome=TaskOutcome.contacted, expected_version=1
                    )


def _by_ids(session: Session, ids: list[int]) -> list[Task]:
    found = {t.id: t for t in session.scalars(select(Task).where(Task.id.in_(ids)))}
    return [found[i] for i in ids]


def test_filters_and_pages(wb: Engine, settings: Settings) -> None:
    with session_scope(wb) as session:
        service.generate(session, on=ON, settings=settings)
    with session_scope(wb) as session:
        boss = _user(session, "boss")

        def keys(**kwargs: object) -> list[str | None]:
            page = service.list_tasks(session, user=boss, on=ON, **kwargs)  # type: ignore[arg-type]
            return [t.source_key for t in _by_ids(session, [r.id for r in page.rows])]

        assert keys(kinds=[TaskKind.cadence]) == [
            "cadence:C003@never",
            "cadence:C004@never",
            "cadence:C001@2026-11-02",
        ]
        assert keys(assignee_id="S004") == VISIBLE["rm02"]
        assert keys(customer_id="C001") == [k for k in ALL if "C001" in k or k == "survey_recovery:SV1"]
        assert keys(limit=3, offset=6) == ALL[6:]
        assert keys(status=TaskFilter.done) == []
        assert service.assignees(session, user=_user(session, "lead")) == [
            ("S001", "王经理"),
            ("S002", "李主管"),
        ]
        assert service.assignees(session, user=_user(session, "rm01")) == []


def test_working_a_task_checks_role_version_and_dates_and_is_audited(wb: Engine, settings: Settings) -> None:
    with session_scope(wb) as session:
        service.generate(session, on=ON, settings=settings)
    with session_scope(wb) as session:
        rm01, audit, lead = (_user(session, u) for u in ("rm01", "audit", "lead"))
        task = _task(session, "retention:C003@2026-10")
        with pytest.raises(Forbidden):
            service.complete(
                session, user=audit, task_id=task.id, outcome=TaskOutcome.retained, expected_version=1
            )
        with pytest.raises(Conflict, match="changed by someone else"):
            service.complete(
                session, user=rm01, task_id=task.id, outcome=TaskOutcome.retained, expected_version=2
            )
        with pytest.raises(Invalid, match="after today"):
            service.snooze(session, user=rm01, task_id=task.id, until=ON, expected_version=1, on=ON)
        with pytest.raises(Invalid, match="at most 90 days"):
            service.snooze(
                session, user=rm01, task_id=task.id, until=date(2027, 3, 1), expected_version=1, on=ON
            )
        service.snooze(
            session, user=rm01, task_id=task.id, until=date(2026, 12, 1), expected_version=1, on=ON
        )
        assert (task.status, task.snoozed_until, task.version) == (TaskStatus.snoozed, date(2026, 12, 1), 2)
        assert task.id not in {r.id for r in service.list_tasks(session, user=rm01, on=ON).rows}
        snoozed = service.list_tasks(session, user=rm01, on=ON, status=TaskFilter.snoozed).rows
        assert [r.id for r in snoozed] == [task.id]
        # the snooze ends: open again on that day's list (and the nightly wakes it up)
        assert task.id in {r.id for r in service.list_tasks(session, user=rm01, on=date(2026, 12, 1)).rows}
        service.complete(
            session,
            user=lead,
            task_id=task.id,
            outcome=TaskOutcome.retained,
            note="客户留下",
            expected_version=2,
        )
        assert (task.status, task.outcome, task.outcome_note, task.completed_by, task.version) == (
            TaskStatus.done,
            TaskOutcome.retained,
            "客户留下",
            lead.id,
            3,
        )
        with pytest.raises(Conflict, match="already done"):
            service.complete(
                session, user=rm01, task_id=task.id, outcome=TaskOutcome.lost, expected_version=3
            )
        service.reopen(session, user=rm01, task_id=task.id, expected_version=3)
        assert (task.status, task.outcome, task.completed_at, task.version) == (
            TaskStatus.open,
            None,
            None,
            4,
        )
        entries = session.execute(
            select(
                AuditEntry.actor,
                AuditEntry.action,
                AuditEntry.entity_id,
                AuditEntry.customer_id,
                AuditEntry.details,
            )
            .where(AuditEntry.action.like("task.%"), AuditEntry.action != "task.generate")
            .order_by(AuditEntry.seq)
        ).all()
        assert [(e[0], e[1], e[2], e[3]) for e in entries] == [
            ("rm01", "task.snooze", str(task.id), "C003"),
            ("lead", "task.done", str(task.id), "C003"),
            ("rm01", "task.reopen", str(task.id), "C003"),
        ]
        assert entries[1][4] == {
            "kind": "retention",
            "outcome": "retained",
            "save": True,
            "interaction_id": None,
            "version": 3,
        }


def test_a_snooze_that_ended_is_woken_by_the_nightly(wb: Engine, settings: Settings) -> None:
    with session_scope(wb) as session:
        service.generate(session, on=ON, settings=settings)
        rm02 = _user(session, "rm02")
        task = _task(session, "cadence:C004@never")
        service.snooze(
            session, user=rm02, task_id=task.id, until=date(2026, 11, 29), expected_version=1, on=ON
        )
    with session_scope(wb) as session:
        result = service.generate(session, on=date(2026, 11, 29), settings=settings)
        assert result.woken == 1
        task = _task(session, "cadence:C004@never")
        assert (task.status, task.snoozed_until) == (TaskStatus.open, None)
        assert session.scalar(select(func.count()).select_from(Task)) == 8


def test_the_nightly_batch_generates_the_tasks_and_reports_them(wb: Engine, settings: Settings) -> None:
    from wealthcrm.analytics.nightly import run_nightly

    first = run_nightly(wb, month=date(2026, 10, 1), settings=settings)
    with session_scope(wb) as session:
        stored = session.scalar(select(func.count()).select_from(Task).where(Task.status == TaskStatus.open))
    assert first.rows["tasks_created"] == first.rows["tasks_open"] == stored > 0
    again = run_nightly(wb, month=date(2026, 10, 1), settings=settings)
    assert {k: v for k, v in again.rows.items() if k.startswith("tasks_")} == {
        "tasks_created": 0,
        "tasks_updated": 0,
        "tasks_closed": 0,
        "tasks_woken": 0,
        "tasks_open": stored,
        "tasks_qualification_expiry": 0,  # staff tasks (wealthcrm.scorecards.capability)
    }
    assert first.to_dict()["rows"]["tasks_open"] == stored  # in `wealthcrm nightly --json`


def test_the_service_desks_follow_up_of_a_breach_is_kept_until_the_request_is_resolved(
    wb: Engine, settings: Settings
) -> None:
    from wealthcrm.service.models import ServiceRequest
    from wealthcrm.vocab import Priority, RequestStatus, RequestType, ServiceChannel

    with session_scope(wb) as session:
        session.add(
            ServiceRequest(
                request_id="R3", customer_id="C001", request_type=RequestType.inquiry,
                channel=ServiceChannel.phone, priority=Priority.normal, opened_at=datetime(2026, 11, 20, 9),
                due_at=datetime(2026, 11, 25, 18), status=RequestStatus.in_progress,
            )
        )  # fmt: skip
        session.flush()
        # as the service desk's escalation makes it: breached on its own (working-hours) clock
        service.create(
            session, kind=TaskKind.service_followup, assignee_id="S001", due_on=date(2026, 11, 26),
            customer_id="C001", source_key="service_followup:R3",
            evidence={"request_id": "R3", "opened_on": "2026-11-20", "due_at": "2026-11-25T18:00",
                      "status": "in_progress", "breached": True},
        )  # fmt: skip
    with session_scope(wb) as session:
        result = service.generate(session, on=ON, settings=settings)
        assert (result.created, result.closed) == (8, 0)
        task = _task(session, "service_followup:R3")
        assert (task.status, task.due_on, task.evidence["breached"], task.evidence["request_type"]) == (
            TaskStatus.open,
            date(2026, 11, 26),
            True,
            "inquiry",
        )
        session.execute(
            update(ServiceRequest)
            .where(ServiceRequest.request_id == "R3")
            .values(status=RequestStatus.resolved)
        )
    with session_scope(wb) as session:
        assert service.generate(session, on=ON, settings=settings).closed == 1
        assert _task(session, "service_followup:R3").status is TaskStatus.cancelled
