"""The cap on contact-due (cadence) tasks per RM: the most valuable overdue customers take the places;
open tasks keep theirs; the others wait for a later night (rules on hand-made facts, then the batch)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from wealthcrm.config import Settings, TaskSettings
from wealthcrm.db import session_scope
from wealthcrm.tasks import service
from wealthcrm.tasks.models import Task
from wealthcrm.tasks.rules import CustomerFacts, cadence_rank, candidates, cap_cadence
from wealthcrm.vocab import TaskKind, TaskOutcome, TaskStatus

from ..customers.workbench import load_workbench

ON = date(2026, 11, 28)
S = Settings()


def facts(
    customer_id: str, rm_id: str, tier: str, aum: float, last: date | None, **values: Any
) -> CustomerFacts:
    base: dict[str, Any] = {
        "customer_id": customer_id,
        "rm_id": rm_id,
        "risk_level": "C3",
        "risk_assessed_on": date(2026, 6, 1),
        "month": date(2026, 10, 1),
        "tier": tier,
        "stage": "mature",
        "aum": aum,
        "previous_aum": aum / 2,  # rising: a gold customer of 300k+ is a prospect
        "last_contact": last,
    }
    return CustomerFacts(**(base | values))


#: S1's book, all overdue; S2 has one customer. By rank: private, diamond, the larger and then the
#: longer-waiting sunflower, the never-contacted sunflower of equal AUM first, the gold prospect last.
BOOK = [
    facts("A", "S1", "sunflower", 900_000, date(2026, 9, 1)),
    facts("B", "S1", "gold", 450_000, None),
    facts("C", "S1", "private", 20_000_000, date(2026, 11, 1)),
    facts("D", "S1", "sunflower", 2_000_000, date(2026, 10, 1)),
    facts("E", "S1", "diamond", 6_000_000, date(2026, 11, 10)),
    facts("F", "S1", "sunflower", 900_000, None),
    facts("G", "S2", "sunflower", 600_000, None),
]
FACTS = {f.customer_id: f for f in BOOK}


def _found() -> list[Any]:
    out = [c for f in BOOK for c in candidates(f, on=ON, settings=S)]
    assert {c.customer_id for c in out if c.kind is TaskKind.cadence} == set("ABCDEFG")
    return out


def _cadence(found: list[Any]) -> list[str]:
    return sorted(c.customer_id for c in found if c.kind is TaskKind.cadence)


def test_the_rank_is_tier_then_aum_then_waiting() -> None:
    ranked = sorted(BOOK, key=lambda f: cadence_rank(f, ON))
    assert [f.customer_id for f in ranked] == ["C", "E", "D", "F", "A", "G", "B"]


@pytest.mark.parametrize(
    ("limit", "kept"),
    [
        (0, "ABCDEFG"),  # no cap
        (1, "CG"),
        (3, "CDEG"),
        (5, "ACDEFG"),
        (6, "ABCDEFG"),
    ],
)
def test_at_most_limit_cadence_tasks_per_rm(limit: int, kept: str) -> None:
    found = _found()
    capped = cap_cadence(found, facts=FACTS, on=ON, live=set(), worked=set(), limit=limit)
    assert _cadence(capped) == list(kept)
    # other kinds are never capped (birthdays, assessments…), and the order of the list is kept
    others = [c for c in found if c.kind is not TaskKind.cadence]
    assert [c for c in capped if c.kind is not TaskKind.cadence] == others
    assert capped == [c for c in found if c in capped]


def test_open_tasks_keep_their_places_and_worked_ones_take_none() -> None:
    found = _found()
    # B (the gold prospect) already has an open task: it stays, and takes one of S1's two places
    capped = cap_cadence(found, facts=FACTS, on=ON, live={"cadence:B"}, worked=set(), limit=2)
    assert _cadence(capped) == ["B", "C", "G"]
    # C was worked in this period (done without a contact): kept as it is, no place taken
    worked = {c.source_key for c in found if c.customer_id == "C" and c.kind is TaskKind.cadence}
    capped = cap_cadence(found, facts=FACTS, on=ON, live={"cadence:B"}, worked=worked, limit=2)
    assert _cadence(capped) == ["B", "C", "E", "G"]
    # more open tasks than places: none is dropped, no new one comes
    live = {"cadence:A", "cadence:B", "cadence:F"}
    capped = cap_cadence(found, facts=FACTS, on=ON, live=live, worked=set(), limit=2)
    assert _cadence(capped) == ["A", "B", "F", "G"]


def test_a_customer_without_a_tier_ranks_last() -> None:
    untiered = replace(BOOK[0], customer_id="X", tier=None)
    assert sorted([untiered, BOOK[1]], key=lambda f: cadence_rank(f, ON))[0].customer_id == "B"


# --- the nightly batch ---------------------------------------------------------------------------------


@pytest.fixture
def wb(engine: Engine, settings: Settings, tmp_path: Path) -> Engine:
    load_workbench(engine, settings, tmp_path / "branch")
    return engine


def _open_cadence(engine: Engine) -> dict[str, str]:
    with session_scope(engine) as session:
        rows = session.scalars(
            select(Task)
            .where(Task.kind == TaskKind.cadence, Task.status == TaskStatus.open)
            .order_by(Task.id)
        )
        return {t.customer_id or "": t.assignee_id for t in rows}


def test_the_batch_creates_the_capped_tasks_and_fills_places_as_they_free(
    wb: Engine, settings: Settings
) -> None:
    capped = settings.model_copy(update={"tasks": TaskSettings(cadence_max_per_rm=1)})
    with session_scope(wb) as session:
        first = service.generate(session, on=ON, settings=capped)
    # rm01 (S001) has two overdue customers: the diamond C003 gets the place, C001 (sunflower) waits
    assert _open_cadence(wb) == {"C003": "S001", "C004": "S004"}
    assert first.created == 7  # 8 without the cap (tests/tasks/test_service.py): C001's contact waits
    with session_scope(wb) as session:
        assert service.generate(session, on=ON, settings=capped).to_dict() == {
            "created": 0,
            "updated": 0,
            "closed": 0,
            "woken": 0,
            "open": 7,
        }
        task = session.scalars(select(Task).where(Task.source_key == "cadence:C003@never")).one()
        task.status, task.outcome = TaskStatus.done, TaskOutcome.not_needed  # worked: the place is free
    with session_scope(wb) as session:
        assert service.generate(session, on=ON, settings=capped).created == 1
    assert _open_cadence(wb) == {"C004": "S004", "C001": "S001"}
    # without a cap every overdue contact is a task
    with session_scope(wb) as session:
        service.generate(session, on=ON, settings=settings)
    assert _open_cadence(wb) == {"C004": "S004", "C001": "S001"}
