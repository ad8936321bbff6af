"""RM capability records: qualifications, training and competency assessments.

Who may do what (a record outside the reader's reach is :class:`~wealthcrm.errors.NotFound`, like a
missing one; a role that may never write is :class:`~wealthcrm.errors.Forbidden`):

- **read**: an RM their own records; a team lead the records of the team's staff (and their own); the
  branch manager and auditors everyone's;
- **write**: a team lead for the team's staff, the branch manager for anyone. A competency assessment
  is never of oneself. Every change is audited (``qualification.create`` … ``assessment.update``, with
  the changed fields as ``[old, new]``).

Expiring qualifications become tasks on the holder's list (:func:`sync_expiry_tasks`, kind
``qualification_expiry``, one per qualification and expiry date); the capability gaps and their links
to the scorecard are in :mod:`wealthcrm.scorecards.gaps`. Nothing here commits.
"""

from __future__ import annotations

import builtins
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any, Protocol

from pydantic import BaseModel
from sqlalchemy import ColumnElement, or_, select, true
from sqlalchemy.orm import Session

from wealthcrm.audit import service as audit
from wealthcrm.config import Settings
from wealthcrm.db import utcnow
from wealthcrm.errors import Conflict, Forbidden, Invalid, NotFound
from wealthcrm.scorecards.models import Competency, CompetencyAssessment, Qualification, Training
from wealthcrm.scorecards.schemas import (
    AssessmentCreate,
    AssessmentUpdate,
    QualificationCreate,
    QualificationUpdate,
    TrainingCreate,
    TrainingUpdate,
)
from wealthcrm.staff.models import Staff
from wealthcrm.tasks import service as tasks
from wealthcrm.tasks.models import Task
from wealthcrm.vocab import Role, StaffStatus, TaskKind, TaskOutcome, TaskStatus

READ_ALL = frozenset({Role.branch_manager, Role.auditor})
KIND = TaskKind.qualification_expiry
_LIVE = (TaskStatus.open.value, TaskStatus.snoozed.value)


class Person(Protocol):
    """Who acts: a ``users.models.User`` or the web layer's signed-in value both fit."""

    @property
    def id(self) -> int: ...

    @property
    def username(self) -> str: ...

    @property
    def role(self) -> Role: ...

    @property
    def staff_id(self) -> str | None: ...


# --- scope --------------------------------------------------------------------------------------------


def _team(session: Session, staff_id: str | None) -> str | None:
    if staff_id is None:
        return None
    return session.scalar(select(Staff.team_id).where(Staff.staff_id == staff_id))


def readable_staff(session: Session, *, user: Person) -> ColumnElement[bool]:
    """A condition on a ``staff_id`` column's owner (:class:`Staff`) ``user`` may read records of."""
    role = Role(user.role)
    if role in READ_ALL:
        return true()
    if user.staff_id is None or role not in (Role.rm, Role.team_lead):
        raise Forbidden(f"the {role.value} role may not read capability records")
    if role is Role.team_lead:
        team = _team(session, user.staff_id)
        return (
            or_(Staff.staff_id == user.staff_id, Staff.team_id == team)
            if team
            else Staff.staff_id == user.staff_id
        )
    return Staff.staff_id == user.staff_id


def _subject(session: Session, *, user: Person, staff_id: str, write: bool) -> Staff:
    """The staff member a record is about, checked against ``user``'s reach."""
    role = Role(user.role)
    if write and role not in (Role.team_lead, Role.branch_manager):
        raise Forbidden(f"the {role.value} role may not change capability records")
    found = session.scalar(
        select(Staff).where(Staff.staff_id == staff_id, readable_staff(session, user=user))
    )
    if found is None:
        raise NotFound(f"no staff member {staff_id!r}")
    return found


def _audit(
    session: Session, user: Person, action: str, entity: str, entity_id: int, details: dict[str, Any]
) -> None:
    audit.record(session, actor=user, action=action, entity=entity, entity_id=entity_id, details=details)


def _changes(obj: Any, data: BaseModel) -> dict[str, list[Any]]:
    """Apply the fields set in ``data`` to ``obj``; the changed ones as ``{field: [old, new]}``."""
    changed: dict[str, list[Any]] = {}
    for name in sorted(data.model_fields_set):
        new = getattr(data, name)
        old = getattr(obj, name)
        if new != old:
            setattr(obj, name, new)
            changed[name] = [old, new]
    return changed


def _not_future(day: date, field: str, on: date) -> None:
    if day > on:
        raise Invalid(f"{field} {day.isoformat()} is in the future")


# --- qualifications -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QualificationRow:
    id: int
    staff_id: str
    staff_name: str
    kind: str
    number: str
    obtained_on: date
    expires_on: date | None
    note: str | None
    #: days from ``on`` to the expiry (negative: expired), None when it does not expire
    days_left: int | None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["obtained_on"] = self.obtained_on.isoformat()
        out["expires_on"] = None if self.expires_on is None else self.expires_on.isoformat()
        return out


def _qualification_row(q: Qualification, name: str, on: date) -> QualificationRow:
    left = None if q.expires_on is None else (q.expires_on - on).days
    return QualificationRow(
        q.id, q.staff_id, name, q.kind.value, q.number, q.obtained_on, q.expires_on, q.note, left
    )


def _check_qualification(q: Qualification, on: date) -> None:
    _not_future(q.obtained_on, "obtained_on", on)
    if q.expires_on is not None and q.expires_on < q.obtained_on:
        raise Invalid("expires_on is before obtained_on")


def _duplicate(session: Session, q: Qualification) -> None:
    clash = session.scalar(
        select(Qualification.id).where(
            Qualification.staff_id == q.staff_id,
            Qualification.kind == q.kind,
            Qualification.number == q.number,
            Qualification.id != (q.id or -1),
        )
    )
    if clash is not None:
        raise Conflict(f"{q.staff_id} already has {q.kind.value} {q.number}")


def create_qualification(
    session: Session, *, user: Person, data: QualificationCreate, settings: Settings, on: date | None = None
) -> QualificationRow:
    """Record a qualification; raises its expiry task at once when it expires within the warning window."""
    today = on or date.today()
    staff = _subject(session, user=user, staff_id=data.staff_id, write=True)
    now = utcnow()
    q = Qualification(**data.model_dump(), created_at=now, created_by=user.id, updated_at=now)
    _check_qualification(q, today)
    _duplicate(session, q)
    session.add(q)
    session.flush()
    _audit(session, user, "qualification.create", "qualification", q.id, data.model_dump(mode="json"))
    sync_expiry_tasks(session, on=today, settings=settings, staff_id=q.staff_id)
    return _qualification_row(q, staff.name, today)


def update_qualification(
    session: Session,
    *,
    user: Person,
    id: int,
    data: QualificationUpdate,
    settings: Settings,
    on: date | None = None,
) -> QualificationRow:
    """Change a qualification (a renewal: a new ``expires_on``); the expiry task follows the new date."""
    today = on or date.today()
    q = session.get(Qualification, id)
    if q is None:
        raise NotFound(f"no qualification {id}")
    staff = _subject(session, user=user, staff_id=q.staff_id, write=True)
    if not data.model_fields_set:
        raise Invalid("nothing to change")
    changed = _changes(q, data)
    _check_qualification(q, today)
    _duplicate(session, q)
    if changed:
        q.updated_at = utcnow()
        session.flush()
        details = {k: [str(v) if isinstance(v, date) else v for v in pair] for k, pair in changed.items()}
        _audit(session, user, "qualification.update", "qualification", q.id, details)
        sync_expiry_tasks(session, on=today, settings=settings, staff_id=q.staff_id)
    return _qualification_row(q, staff.name, today)


def list_qualifications(
    session: Session,
    *,
    user: Person,
    staff_id: str | None = None,
    expiring_within: int | None = None,
    on: date | None = None,
) -> builtins.list[QualificationRow]:
    """Qualifications ``user`` may read (of one staff member, or only those expiring within N days or
    expired), soonest expiry first."""
    today = on or date.today()
    stmt = select(Qualification, Staff.name).join(Staff, Staff.staff_id == Qualification.staff_id)
    stmt = stmt.where(readable_staff(session, user=user))
    if staff_id is not None:
        stmt = stmt.where(Qualification.staff_id == staff_id)
    if expiring_within is not None:
        stmt = stmt.where(Qualification.expires_on <= today + timedelta(days=expiring_within))
    stmt = stmt.order_by(Qualification.expires_on.is_(None), Qualification.expires_on, Qualification.id)
    return [_qualification_row(q, name, today) for q, name in session.execute(stmt)]


# --- training ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TrainingRow:
    id: int
    staff_id: str
    staff_name: str
    course: str
    provider: str | None
    hours: float
    completed_on: date
    score: float | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"completed_on": self.completed_on.isoformat()}


def _training_row(t: Training, name: str) -> TrainingRow:
    return TrainingRow(t.id, t.staff_id, name, t.course, t.provider, float(t.hours), t.completed_on, t.score)


def create_training(
    session: Session, *, user: Person, data: TrainingCreate, on: date | None = None
) -> TrainingRow:
    staff = _subject(session, user=user, staff_id=data.staff_id, write=True)
    _not_future(data.completed_on, "completed_on", on or date.today())
    t = Training(**data.model_dump(), created_at=utcnow(), created_by=user.id)
    session.add(t)
    session.flush()
    _audit(session, user, "training.create", "training", t.id, data.model_dump(mode="json"))
    return _training_row(t, staff.name)


def update_training(
    session: Session, *, user: Person, id: int, data: TrainingUpdate, on: date | None = None
) -> TrainingRow:
    t = session.get(Training, id)
    if t is None:
        raise NotFound(f"no training record {id}")
    staff = _subject(session, user=user, staff_id=t.staff_id, write=True)
    changed = _changes(t, data)
    _not_future(t.completed_on, "completed_on", on or date.today())
    if changed:
        session.flush()
        details = {k: [str(v) if isinstance(v, date) else v for v in pair] for k, pair in changed.items()}
        _audit(session, user, "training.update", "training", t.id, details)
    return _training_row(t, staff.name)


def list_trainings(
    session: Session,
    *,
    user: Person,
    staff_id: str | None = None,
    since: date | None = None,
    until: date | None = None,
) -> builtins.list[TrainingRow]:
    """Training records ``user`` may read, newest first."""
    stmt = select(Training, Staff.name).join(Staff, Staff.staff_id == Training.staff_id)
    stmt = stmt.where(readable_staff(session, user=user))
    if staff_id is not None:
        stmt = stmt.where(Training.staff_id == staff_id)
    if since is not None:
        stmt = stmt.where(Training.completed_on >= since)
    if until is not None:
        stmt = stmt.where(Training.completed_on <= until)
    stmt = stmt.order_by(Training.completed_on.desc(), Training.id.desc())
    return [_training_row(t, name) for t, name in session.execute(stmt)]


# --- competency assessments ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AssessmentRow:
    id: int
    staff_id: str
    staff_name: str
    assessed_on: date
    assessed_by: int | None
    scores: dict[str, int]
    note: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"assessed_on": self.assessed_on.isoformat()}


def _assessment_row(a: CompetencyAssessment, name: str) -> AssessmentRow:
    scores = {c.value: a.score(c) for c in Competency}
    return AssessmentRow(a.id, a.staff_id, name, a.assessed_on, a.assessed_by, scores, a.note)


def create_assessment(
    session: Session, *, user: Person, data: AssessmentCreate, on: date | None = None
) -> AssessmentRow:
    """Record a competency assessment of a team's RM (team lead) or of anyone (branch manager)."""
    staff = _subject(session, user=user, staff_id=data.staff_id, write=True)
    if user.staff_id is not None and user.staff_id == data.staff_id:
        raise Forbidden("nobody assesses their own competencies")
    _not_future(data.assessed_on, "assessed_on", on or date.today())
    clash = session.scalar(
        select(CompetencyAssessment.id).where(
            CompetencyAssessment.staff_id == data.staff_id,
            CompetencyAssessment.assessed_on == data.assessed_on,
        )
    )
    if clash is not None:
        raise Conflict(f"{data.staff_id} was already assessed on {data.assessed_on.isoformat()} (id {clash})")
    now = utcnow()
    a = CompetencyAssessment(**data.model_dump(), assessed_by=user.id, created_at=now, updated_at=now)
    session.add(a)
    session.flush()
    _audit(session, user, "assessment.create", "competency_assessment", a.id, data.model_dump(mode="json"))
    return _assessment_row(a, staff.name)


def update_assessment(session: Session, *, user: Person, id: int, data: AssessmentUpdate) -> AssessmentRow:
    a = session.get(CompetencyAssessment, id)
    if a is None:
        raise NotFound(f"no competency assessment {id}")
    staff = _subject(session, user=user, staff_id=a.staff_id, write=True)
    if user.staff_id is not None and user.staff_id == a.staff_id:
        raise Forbidden("nobody assesses their own competencies")
    changed = _changes(a, data)
    if changed:
        a.updated_at = utcnow()
        session.flush()
        _audit(session, user, "assessment.update", "competency_assessment", a.id, changed)
    return _assessment_row(a, staff.name)


def list_assessments(
    session: Session, *, user: Person, staff_id: str | None = None, until: date | None = None
) -> builtins.list[AssessmentRow]:
    """Assessments ``user`` may read, newest first (up to ``until`` when given)."""
    stmt = select(CompetencyAssessment, Staff.name).join(
        Staff, Staff.staff_id == CompetencyAssessment.staff_id
    )
    stmt = stmt.where(readable_staff(session, user=user))
    if staff_id is not None:
        stmt = stmt.where(CompetencyAssessment.staff_id == staff_id)
    if until is not None:
        stmt = stmt.where(CompetencyAssessment.assessed_on <= until)
    stmt = stmt.order_by(CompetencyAssessment.assessed_on.desc(), CompetencyAssessment.id.desc())
    return [_assessment_row(a, name) for a, name in session.execute(stmt)]


# --- expiring qualifications → tasks ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ExpiryTasks:
    created: int
    closed: int

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


def expiry_key(q: Qualification) -> str:
    """The task's ``source_key``: one task per qualification and expiry date (a renewal is a new one)."""
    return f"qualification_expiry:{q.id}@{q.expires_on.isoformat() if q.expires_on else 'never'}"


def expiry_note(q: Qualification, on: date) -> str:
    """The task's note, in English and Chinese (the task list shows a staff task's note as its reason)."""
    assert q.expires_on is not None
    when = q.expires_on.isoformat()
    if q.expires_on < on:
        en, zh = f"expired on {when}: renew it", f"已于 {when} 到期，请尽快续证"
    else:
        en, zh = f"expires on {when}: renew it", f"将于 {when} 到期，请及时续证"
    return f"{q.kind.value} {q.number} {en} / 资格证书 {q.kind.value} {q.number} {zh}"


def sync_expiry_tasks(
    session: Session, *, on: date, settings: Settings, staff_id: str | None = None
) -> ExpiryTasks:
    """Give every active staff member a task for each qualification expiring within
    ``capability.qualification_warning_days`` of ``on`` (or expired), due on the expiry date (today once
    expired); cancel open ones whose qualification was renewed or removed. Running it again changes
    nothing. Only ``staff_id``'s qualifications when given."""
    horizon = on + timedelta(days=settings.capability.qualification_warning_days)
    stmt = (
        select(Qualification)
        .join(Staff, Staff.staff_id == Qualification.staff_id)
        .where(
            Qualification.expires_on.is_not(None),
            Qualification.expires_on <= horizon,
            Staff.status != StaffStatus.left,
        )
        .order_by(Qualification.id)
    )
    if staff_id is not None:
        stmt = stmt.where(Qualification.staff_id == staff_id)
    wanted = {expiry_key(q): q for q in session.scalars(stmt)}
    known = set(session.scalars(select(Task.source_key).where(Task.source_key.in_(builtins.list(wanted)))))
    created = 0
    for key, q in wanted.items():
        if key in known or q.expires_on is None:
            continue
        tasks.create(
            session,
            kind=KIND,
            assignee_id=q.staff_id,
            due_on=max(on, q.expires_on),
            note=expiry_note(q, on),
            evidence={
                "qualification_id": q.id,
                "kind": q.kind.value,
                "number": q.number,
                "expires_on": q.expires_on.isoformat(),
                "expired": q.expires_on < on,
                "days": (q.expires_on - on).days,
            },
            source_key=key,
        )
        created += 1
    live = select(Task).where(Task.kind == KIND, Task.status.in_(_LIVE))
    if staff_id is not None:
        live = live.where(Task.assignee_id == staff_id)
    closed = 0
    now = utcnow()
    for task in session.scalars(live):
        if task.source_key not in wanted:
            task.status = TaskStatus.cancelled
            task.outcome = TaskOutcome.not_needed
            task.completed_at = now
            task.updated_at = now
            closed += 1
    session.flush()
    result = ExpiryTasks(created, closed)
    if created or closed:
        audit.record(
            session, actor=None, action="qualification.expiry_tasks", entity="task", details=result.to_dict()
        )
    return result
