"""Capability records: who records and reads what, the audit trail, expiry tasks and gaps (both databases)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from wealthcrm.audit.models import AuditEntry
from wealthcrm.config import ScorecardSettings, Settings
from wealthcrm.errors import Conflict, Forbidden, Invalid, NotFound
from wealthcrm.scorecards import capability, gaps, service
from wealthcrm.scorecards.schemas import (
    AssessmentCreate,
    AssessmentUpdate,
    QualificationCreate,
    QualificationUpdate,
    TrainingCreate,
    TrainingUpdate,
)
from wealthcrm.tasks.models import Task
from wealthcrm.users import service as users
from wealthcrm.users.models import User
from wealthcrm.vocab import TaskKind, TaskOutcome, TaskStatus

from ..conftest import TEST_FIELD_KEY
from .factories import MONTH, WINDOW, load

ON = date(2026, 11, 28)


@pytest.fixture
def cfg(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        field_key=TEST_FIELD_KEY,
        scorecards=ScorecardSettings(window_months=WINDOW),
    )


@pytest.fixture
def branch(session: Session) -> Session:
    load(session)
    return session


def _u(session: Session, name: str) -> User:
    return users.get(session, username=name)


def _qual(
    staff_id: str = "R1", number: str = "AFP-1", expires: date | None = date(2027, 1, 10)
) -> QualificationCreate:
    return QualificationCreate(
        staff_id=staff_id, kind="afp", number=number, obtained_on=date(2024, 3, 1), expires_on=expires
    )


def _audits(session: Session, action: str) -> list[AuditEntry]:
    return list(
        session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq))
    )


def _expiry_tasks(session: Session) -> list[tuple[str, str, str | None, date]]:
    rows = session.scalars(
        select(Task)
        .where(Task.kind == TaskKind.qualification_expiry, Task.source_key.like("qualification_expiry:%"))
        .order_by(Task.id)
    )
    return [(t.assignee_id, t.status.value, t.source_key, t.due_on) for t in rows]


def test_a_team_lead_records_a_qualification_for_the_team_and_it_raises_a_task(
    branch: Session, cfg: Settings
) -> None:
    lead = _u(branch, "lead1")
    row = capability.create_qualification(branch, user=lead, data=_qual(), settings=cfg, on=ON)
    assert (row.staff_id, row.kind, row.number, row.expires_on, row.days_left) == (
        "R1",
        "afp",
        "AFP-1",
        date(2027, 1, 10),
        43,
    )
    (entry,) = _audits(branch, "qualification.create")
    assert (entry.actor, entry.entity_id, entry.details["staff_id"]) == ("lead1", str(row.id), "R1")
    # 43 days to expiry, within the 60-day warning: a task on R1's list, due on the expiry date
    assert _expiry_tasks(branch) == [
        ("R1", "open", f"qualification_expiry:{row.id}@2027-01-10", date(2027, 1, 10))
    ]
    task = branch.scalar(select(Task).where(Task.source_key.like("qualification_expiry:%")))
    assert task is not None and task.customer_id is None
    assert task.evidence == {
        "qualification_id": row.id, "kind": "afp", "number": "AFP-1", "expires_on": "2027-01-10",
        "expired": False, "days": 43,
    }  # fmt: skip
    assert "AFP-1" in (task.note or "") and "2027-01-10" in (task.note or "")
    # again: nothing new
    assert capability.sync_expiry_tasks(branch, on=ON, settings=cfg).to_dict() == {"created": 0, "closed": 0}


def test_a_renewal_closes_the_old_task_and_an_expired_one_is_due_today(
    branch: Session, cfg: Settings
) -> None:
    boss = _u(branch, "boss")
    row = capability.create_qualification(branch, user=boss, data=_qual(), settings=cfg, on=ON)
    renewed = capability.update_qualification(
        branch,
        user=boss,
        id=row.id,
        data=QualificationUpdate(expires_on=date(2029, 1, 10)),
        settings=cfg,
        on=ON,
    )
    assert renewed.expires_on == date(2029, 1, 10)
    assert _expiry_tasks(branch) == [
        ("R1", "cancelled", f"qualification_expiry:{row.id}@2027-01-10", date(2027, 1, 10))
    ]
    (change,) = _audits(branch, "qualification.update")
    assert change.details == {"expires_on": ["2027-01-10", "2029-01-10"]}
    old = capability.create_qualification(
        branch, user=boss, data=_qual("R2", "FUND-9", date(2026, 11, 1)), settings=cfg, on=ON
    )
    assert _expiry_tasks(branch)[-1] == ("R2", "open", f"qualification_expiry:{old.id}@2026-11-01", ON)
    # none that never expire, none beyond the window
    capability.create_qualification(branch, user=boss, data=_qual("R3", "CFP-1", None), settings=cfg, on=ON)
    capability.create_qualification(
        branch, user=boss, data=_qual("R3", "CFP-2", date(2027, 6, 1)), settings=cfg, on=ON
    )
    assert len(_expiry_tasks(branch)) == 2
    found = capability.list_qualifications(branch, user=boss, expiring_within=60, on=ON)
    assert [(q.number, q.days_left) for q in found] == [("FUND-9", -27)]


def test_a_done_expiry_task_is_not_raised_again_and_a_leaver_gets_none(
    branch: Session, cfg: Settings
) -> None:
    boss = _u(branch, "boss")
    capability.create_qualification(branch, user=boss, data=_qual(), settings=cfg, on=ON)
    task = branch.scalar(select(Task).where(Task.source_key.like("qualification_expiry:%")))
    assert task is not None
    task.status, task.outcome = TaskStatus.done, TaskOutcome.contacted
    branch.flush()
    capability.create_qualification(branch, user=boss, data=_qual("R4", "X-1"), settings=cfg, on=ON)
    assert capability.sync_expiry_tasks(branch, on=ON, settings=cfg).to_dict() == {"created": 0, "closed": 0}
    assert [t[:2] for t in _expiry_tasks(branch)] == [("R1", "done")]


def test_who_may_record_and_read(branch: Session, cfg: Settings) -> None:
    lead, rm1, boss = _u(branch, "lead1"), _u(branch, "rm1"), _u(branch, "boss")
    with pytest.raises(Forbidden):
        capability.create_qualification(branch, user=rm1, data=_qual(), settings=cfg, on=ON)
    with pytest.raises(Forbidden):
        capability.create_training(
            branch,
            user=_u(branch, "audit"),
            data=TrainingCreate(staff_id="R1", course="KYC", hours=2, completed_on=date(2026, 10, 1)),
        )
    with pytest.raises(NotFound):  # R3 is in the other team: outside the lead's reach
        capability.create_qualification(branch, user=lead, data=_qual("R3"), settings=cfg, on=ON)
    with pytest.raises(NotFound):
        capability.create_qualification(branch, user=boss, data=_qual("NOBODY"), settings=cfg, on=ON)
    capability.create_qualification(branch, user=boss, data=_qual("R1", "A"), settings=cfg, on=ON)
    capability.create_qualification(branch, user=boss, data=_qual("R2", "B"), settings=cfg, on=ON)
    capability.create_qualification(branch, user=boss, data=_qual("R3", "C"), settings=cfg, on=ON)
    with pytest.raises(Conflict):
        capability.create_qualification(branch, user=boss, data=_qual("R1", "A"), settings=cfg, on=ON)
    seen = {
        name: sorted(q.staff_id for q in capability.list_qualifications(branch, user=_u(branch, name), on=ON))
        for name in ("boss", "audit", "lead1", "rm1", "rm3")
    }
    assert seen == {
        "boss": ["R1", "R2", "R3"],
        "audit": ["R1", "R2", "R3"],
        "lead1": ["R1", "R2"],
        "rm1": ["R1"],
        "rm3": ["R3"],
    }
    for name in ("svc", "analyst"):
        with pytest.raises(Forbidden):
            capability.list_qualifications(branch, user=_u(branch, name), on=ON)


def test_bad_input_is_refused_with_a_message(branch: Session, cfg: Settings) -> None:
    boss = _u(branch, "boss")
    with pytest.raises(ValidationError, match="expires_on is before obtained_on"):
        _qual(expires=date(2020, 1, 1))
    with pytest.raises(Invalid, match="in the future"):
        capability.create_qualification(
            branch,
            user=boss,
            data=QualificationCreate(staff_id="R1", kind="cfp", number="N", obtained_on=date(2027, 1, 1)),
            settings=cfg,
            on=ON,
        )
    with pytest.raises(ValidationError):
        AssessmentCreate(
            staff_id="R1",
            assessed_on=ON,
            product_knowledge=6,
            compliance=1,
            service=1,
            relationship=1,
            digital=1,
        )
    with pytest.raises(ValidationError):
        TrainingCreate(staff_id="R1", course=" ", hours=0, completed_on=ON)
    row = capability.create_qualification(branch, user=boss, data=_qual(), settings=cfg, on=ON)
    with pytest.raises(Invalid, match="nothing to change"):
        capability.update_qualification(
            branch, user=boss, id=row.id, data=QualificationUpdate(), settings=cfg, on=ON
        )
    later = QualificationUpdate(obtained_on=date(2027, 2, 1))
    with pytest.raises(Invalid, match="before obtained_on"):
        capability.update_qualification(
            branch, user=boss, id=row.id, data=later, settings=cfg, on=date(2027, 3, 1)
        )


def test_training_records(branch: Session) -> None:
    lead = _u(branch, "lead1")
    first = capability.create_training(
        branch,
        user=lead,
        data=TrainingCreate(
            staff_id="R2", course="基金销售合规", hours=6, completed_on=date(2026, 9, 12), score=88
        ),
        on=ON,
    )
    capability.create_training(
        branch,
        user=lead,
        data=TrainingCreate(staff_id="R2", course="KYC", hours=2.5, completed_on=date(2026, 10, 3)),
    )
    changed = capability.update_training(
        branch, user=lead, id=first.id, data=TrainingUpdate(score=91.5), on=ON
    )
    assert changed.score == 91.5
    assert _audits(branch, "training.update")[0].details == {"score": [88.0, 91.5]}
    rows = capability.list_trainings(branch, user=_u(branch, "rm2"), staff_id="R2")
    assert [(t.course, t.hours, t.score) for t in rows] == [("KYC", 2.5, None), ("基金销售合规", 6.0, 91.5)]
    assert capability.list_trainings(branch, user=_u(branch, "rm1")) == []
    assert [t.course for t in capability.list_trainings(branch, user=lead, since=date(2026, 10, 1))] == [
        "KYC"
    ]


def _assessment(staff_id: str, compliance: int = 2, on: date = date(2026, 10, 20)) -> AssessmentCreate:
    return AssessmentCreate(
        staff_id=staff_id,
        assessed_on=on,
        product_knowledge=4,
        compliance=compliance,
        service=4,
        relationship=5,
        digital=3,
        note="季度评估",
    )


def test_assessments_and_who_may_make_them(branch: Session) -> None:
    lead = _u(branch, "lead1")
    row = capability.create_assessment(branch, user=lead, data=_assessment("R1"), on=ON)
    assert row.scores == {
        "product_knowledge": 4,
        "compliance": 2,
        "service": 4,
        "relationship": 5,
        "digital": 3,
    }
    assert row.assessed_by == lead.id
    with pytest.raises(Conflict):
        capability.create_assessment(branch, user=lead, data=_assessment("R1"), on=ON)
    with pytest.raises(Forbidden, match="own"):
        capability.create_assessment(branch, user=lead, data=_assessment("L1"), on=ON)
    with pytest.raises(Forbidden):
        capability.create_assessment(branch, user=_u(branch, "rm2"), data=_assessment("R1", on=ON), on=ON)
    changed = capability.update_assessment(branch, user=lead, id=row.id, data=AssessmentUpdate(compliance=3))
    assert changed.scores["compliance"] == 3
    assert _audits(branch, "assessment.update")[0].details == {"compliance": [2, 3]}
    assert [a.id for a in capability.list_assessments(branch, user=_u(branch, "rm1"))] == [row.id]
    assert capability.list_assessments(branch, user=_u(branch, "rm2")) == []


def test_gaps_link_competencies_to_the_scorecard(branch: Session, cfg: Settings) -> None:
    boss = _u(branch, "boss")
    cards = service.compute(branch, month=MONTH, settings=cfg)
    capability.create_assessment(branch, user=boss, data=_assessment("R1", compliance=2), on=ON)
    capability.create_assessment(branch, user=boss, data=_assessment("R2", compliance=4), on=ON)
    found = gaps.gaps(branch, user=_u(branch, "lead1"), staff_id="R1", month=date(2026, 11, 1), settings=cfg)
    assert found.assessed_on == date(2026, 10, 20)
    compliance = next(c for c in found.competencies if c.competency == "compliance")
    assert (compliance.score, compliance.low_score, compliance.is_gap) == (2, True, True)
    # no scorecards for November: the figures are empty
    assert [(f.metric, f.value) for f in compliance.figures] == [("suitability_exceptions", None)]
    # October: R1 and R2 one exception each, the others none (rank 1 = fewest); the branch 3 (with C08)
    capability.create_assessment(branch, user=boss, data=_assessment("R1", 4, date(2026, 11, 5)), on=ON)
    assert gaps.gaps(
        branch, user=boss, staff_id="R1", month=date(2026, 11, 1), settings=cfg
    ).assessed_on == date(2026, 11, 5)
    october = gaps.gaps(branch, user=boss, staff_id="R1", month=MONTH, settings=cfg)
    assert october.assessed_on == date(2026, 10, 20)  # the latest up to the month's end
    (figure,) = next(c for c in october.competencies if c.competency == "compliance").figures
    assert (figure.value, figure.branch, figure.rank, figure.of) == (1.0, 3.0, 4, 5)
    assert figure.weak
    assert cards.rm("R1").figures["suitability_exceptions"] == 1
    relationship = next(c for c in found.competencies if c.competency == "relationship")
    assert [f.metric for f in relationship.figures] == [
        "risk_adjusted_retention",
        "contact_coverage",
        "nps",
        "rm_rating",
    ]
    assert found.to_dict()["competencies"][1]["is_gap"] is True
    with pytest.raises(NotFound):
        gaps.gaps(branch, user=_u(branch, "rm2"), staff_id="R1", month=MONTH, settings=cfg)
