"""Reassigning customers and an RM's departure: who may move whom, the rows, tasks and audit entries
each move writes, and bad input that changes nothing (both databases)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from wealthcrm.audit.models import AuditEntry
from wealthcrm.config import Settings
from wealthcrm.customers import reassign
from wealthcrm.customers.models import Customer, Reassignment
from wealthcrm.db import session_scope
from wealthcrm.errors import Conflict, Forbidden, Invalid, NotFound
from wealthcrm.staff.models import Staff
from wealthcrm.tasks.models import Task
from wealthcrm.users import service as users
from wealthcrm.users.models import User
from wealthcrm.vocab import StaffStatus, TaskKind, TaskStatus

from .bookdata import ON, load_book

BOOKS = {"C001": "S001", "C002": "S002", "C003": "S001", "C004": "S004", "C005": "S005"}


@pytest.fixture
def bk(engine: Engine, settings: Settings, tmp_path: Path) -> Engine:
    load_book(engine, settings, tmp_path / "branch")
    return engine


def _user(session: Session, username: str) -> User:
    return users.get(session, username=username)


def _books(session: Session) -> dict[str, str | None]:
    return dict(
        session.execute(select(Customer.customer_id, Customer.rm_id).order_by(Customer.customer_id)).all()
    )


def _handover_tasks(session: Session) -> list[tuple[Any, ...]]:
    return [
        tuple(r)
        for r in session.execute(
            select(Task.customer_id, Task.assignee_id, Task.status, Task.due_on, Task.note, Task.created_by)
            .where(Task.kind == TaskKind.handover)
            .order_by(Task.customer_id)
        )
    ]


def _audit(session: Session, prefix: str = "") -> list[tuple[Any, ...]]:
    rows = session.execute(
        select(AuditEntry.actor, AuditEntry.action, AuditEntry.entity_id, AuditEntry.details).order_by(
            AuditEntry.seq
        )
    )
    return [tuple(r) for r in rows if r.action.startswith(prefix)]


def test_a_manager_reassigns_a_selection(bk: Engine) -> None:
    with session_scope(bk) as session:
        boss = _user(session, "boss")
        moved = reassign.reassign(
            session,
            user=boss,
            customer_ids=["C003", "C001", "C003"],
            to_staff_id="S004",
            note=" 客户偏好电话联系 ",
            on=ON,
        )
        assert [(m.customer_id, m.from_staff_id, m.to_staff_id) for m in moved] == [
            ("C003", "S001", "S004"),
            ("C001", "S001", "S004"),
        ]
        assert _books(session) == BOOKS | {"C001": "S004", "C003": "S004"}
        rows = session.scalars(select(Reassignment).order_by(Reassignment.customer_id)).all()
        assert [
            (r.customer_id, r.from_staff_id, r.to_staff_id, r.note, r.departure, r.by_user) for r in rows
        ] == [
            ("C001", "S001", "S004", "客户偏好电话联系", False, boss.id),
            ("C003", "S001", "S004", "客户偏好电话联系", False, boss.id),
        ]
        assert _handover_tasks(session) == [
            ("C001", "S004", TaskStatus.open, date(2026, 12, 5), "客户偏好电话联系", boss.id),
            ("C003", "S004", TaskStatus.open, date(2026, 12, 5), "客户偏好电话联系", boss.id),
        ]
        assert {m.task_id for m in moved} == set(
            session.scalars(select(Task.id).where(Task.kind == TaskKind.handover))
        )
        reassigned = _audit(session, "customer.reassign")
        assert [(a, e, d) for a, _, e, d in reassigned] == [
            ("boss", "C003", {"from_staff_id": "S001", "to_staff_id": "S004", "departure": False}),
            ("boss", "C001", {"from_staff_id": "S001", "to_staff_id": "S004", "departure": False}),
        ]
        assert [d["kind"] for _, _, _, d in _audit(session, "task.create")] == ["handover", "handover"]


def test_a_closed_customer_moves_without_a_task(bk: Engine) -> None:
    with session_scope(bk) as session:
        moved = reassign.reassign(
            session,
            user=_user(session, "lead"),
            customer_ids=["C002"],
            to_staff_id="S005",
            note="已销户",
            on=ON,
        )
        assert [(m.customer_id, m.to_staff_id, m.task_id) for m in moved] == [("C002", "S005", None)]
        assert _handover_tasks(session) == []
        assert len(_audit(session, "customer.reassign")) == 1


BAD_REASSIGNMENTS: list[tuple[str, list[str], str, str, type[Exception], str]] = [
    ("lead", ["C004"], "S005", "n", NotFound, "no customer 'C004'"),  # another team's customer
    ("lead", ["C001", "C004"], "S005", "n", NotFound, "no customer 'C004'"),  # one bad: none moves
    ("lead", ["C999"], "S005", "n", NotFound, "no customer 'C999'"),
    ("lead", ["C001"], "S006", "n", Forbidden, "S006 is not in your team"),
    ("boss", ["C001"], "S999", "n", NotFound, "no staff member 'S999'"),
    ("boss", ["C001"], "S007", "n", Invalid, "S007 is not active"),  # left
    ("boss", ["C001"], "S003", "n", Invalid, "S003 is not a relationship manager"),
    ("boss", ["C001"], "S004", "  ", Invalid, "handover note"),
    ("boss", ["C001", "C004"], "S004", "n", Invalid, "C004 already with S004"),
    ("boss", [], "S004", "n", Invalid, "at least one customer"),
    ("rm01", ["C001"], "S005", "n", Forbidden, "rm role may not reassign"),
    ("audit", ["C001"], "S005", "n", Forbidden, "auditor role may not reassign"),
]


def test_bad_reassignments_change_nothing(bk: Engine) -> None:
    with session_scope(bk) as session:
        for username, ids, target, note, error, message in BAD_REASSIGNMENTS:
            with pytest.raises(error, match=message):
                reassign.reassign(
                    session,
                    user=_user(session, username),
                    customer_ids=ids,
                    to_staff_id=target,
                    note=note,
                    on=ON,
                )
        assert _books(session) == BOOKS
        assert session.scalar(select(func.count()).select_from(Reassignment)) == 0
        assert _handover_tasks(session) == []
        assert _audit(session, "customer.") == []


def test_balance_gives_each_target_about_the_same_aum() -> None:
    aum = {"a": 5.0, "b": 4.0, "c": 3.0, "d": 2.0, "e": 1.0}
    assert reassign.balance(aum, ["X", "Y"]) == {"a": "X", "b": "Y", "c": "Y", "d": "X", "e": "X"}
    assert reassign.balance(aum, ["X"]) == dict.fromkeys(aum, "X")
    assert reassign.balance({}, ["X"]) == {}


def test_a_departure_hands_over_the_whole_book_shared_by_aum(bk: Engine) -> None:
    with session_scope(bk) as session:
        boss = _user(session, "boss")
        result = reassign.depart(
            session,
            user=boss,
            staff_id="S001",
            left_on=date(2026, 11, 30),
            to_staff_ids=["S005", "S006"],
            note="王经理离职交接",
            on=ON,
        )
        # C003 (6,000,000) to the first target, then C001 (900,000) to the one holding less
        assert result.to_dict()["per_target"] == {"S005": 1, "S006": 1}
        assert _books(session) == BOOKS | {"C003": "S005", "C001": "S006"}
        s001 = session.get(Staff, "S001")
        assert s001 is not None and (s001.status, s001.left_on) == (StaffStatus.left, date(2026, 11, 30))
        rows = session.scalars(select(Reassignment).order_by(Reassignment.customer_id)).all()
        assert [(r.customer_id, r.from_staff_id, r.to_staff_id, r.departure) for r in rows] == [
            ("C001", "S001", "S006", True),
            ("C003", "S001", "S005", True),
        ]
        assert [(t[0], t[1], t[4]) for t in _handover_tasks(session)] == [
            ("C001", "S006", "王经理离职交接"),
            ("C003", "S005", "王经理离职交接"),
        ]
        assert _audit(session, "staff.")[0][:3] == ("boss", "staff.departure", "S001")
        assert _audit(session, "staff.")[0][3] == {
            "left_on": "2026-11-30",
            "to_staff_ids": ["S005", "S006"],
            "customers": 2,
        }
        assert session.scalar(select(func.count()).select_from(Customer).where(Customer.rm_id == "S001")) == 0


def test_a_team_lead_hands_a_book_to_one_rm_of_the_team(bk: Engine) -> None:
    with session_scope(bk) as session:
        result = reassign.depart(
            session,
            user=_user(session, "lead"),
            staff_id="S005",
            left_on=ON,
            to_staff_ids=["S001"],
            note="交接",
            on=ON,
        )
        assert [(m.customer_id, m.to_staff_id) for m in result.moved] == [("C005", "S001")]
        assert _books(session)["C005"] == "S001"


BAD_DEPARTURES: list[tuple[str, str, list[str], date, type[Exception], str]] = [
    ("lead", "S004", ["S001"], ON, NotFound, "no staff member 'S004'"),  # another team
    ("lead", "S001", ["S006"], ON, Forbidden, "S006 is not in your team"),
    ("boss", "S007", ["S001"], ON, Conflict, "S007 has left already"),
    ("boss", "S001", ["S001"], ON, Invalid, "S001 is the RM who leaves"),
    ("boss", "S001", ["S007"], ON, Invalid, "S007 is not active"),
    ("boss", "S001", [], ON, Invalid, "at least one RM"),
    ("boss", "S003", ["S001"], ON, Invalid, "not a relationship manager"),
    ("boss", "S001", ["S005"], date(2019, 1, 1), Invalid, "before S001 joined"),
    ("lead", "S002", ["S001"], ON, Invalid, "your own book"),
    ("rm01", "S005", ["S001"], ON, Forbidden, "may not reassign"),
]


def test_bad_departures_change_nothing(bk: Engine) -> None:
    with session_scope(bk) as session:
        for username, leaving, targets, left_on, error, message in BAD_DEPARTURES:
            with pytest.raises(error, match=message):
                reassign.depart(
                    session,
                    user=_user(session, username),
                    staff_id=leaving,
                    left_on=left_on,
                    to_staff_ids=targets,
                    note="n",
                    on=ON,
                )
        assert _books(session) == BOOKS
        assert session.scalar(select(func.count()).select_from(Reassignment)) == 0
        assert _handover_tasks(session) == []
        statuses = dict(session.execute(select(Staff.staff_id, Staff.status)).all())
        assert statuses["S001"] is StaffStatus.active and statuses["S005"] is StaffStatus.active
        assert _audit(session, "staff.") == []
