"""Tasks: create, list, work (done with an outcome, snooze) — scoped to the caller; nothing commits.

(The workbench issue grows this module: generation from the nightly batch, Today's list, actions.)
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.orm import Session

from wealthcrm.audit import service as audit
from wealthcrm.audit.service import Actor
from wealthcrm.tasks.models import Task
from wealthcrm.vocab import TaskKind, TaskStatus


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def create(
    session: Session,
    *,
    kind: TaskKind,
    assignee_id: str,
    due_on: date,
    customer_id: str | None = None,
    note: str | None = None,
    evidence: dict[str, Any] | None = None,
    priority_amount: float = 0.0,
    source_key: str | None = None,
    alert_id: int | None = None,
    actor: Actor | None = None,
    actor_id: int | None = None,
) -> Task:
    """Add an open task to ``assignee_id``'s list; audited when a person (``actor``) creates it."""
    now = _utcnow()
    task = Task(
        kind=kind,
        status=TaskStatus.open,
        customer_id=customer_id,
        assignee_id=assignee_id,
        source_key=source_key,
        alert_id=alert_id,
        due_on=due_on,
        priority_amount=priority_amount,
        evidence=evidence or {},
        note=note,
        created_at=now,
        created_by=actor_id,
        updated_at=now,
    )
    session.add(task)
    session.flush()
    if actor is not None:
        audit.record(
            session,
            actor=actor,
            action="task.create",
            entity="task",
            entity_id=task.id,
            customer_id=customer_id,
            details={"kind": kind.value, "assignee_id": assignee_id, "due_on": due_on.isoformat()},
        )
    return task
