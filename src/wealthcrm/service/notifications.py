"""In-app notifications: a text code and its parameters for one staff member (or user), read or unread.

Pages render the code in the reader's language (:data:`CODES` lists them). ``dedupe_key`` makes a
notification that a batch may try to send twice (an escalation step) exist once. Nothing here commits.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import ColumnElement, false, func, or_, select
from sqlalchemy.orm import Session

from wealthcrm.errors import NotFound
from wealthcrm.service.models import Notification

#: the codes and what their parameters are
CODES = {
    "service.escalation": "request_id, customer_id, request_type, sla, step, target, due_at",
    "service.assigned": "request_id, customer_id, request_type, by",
}


class Recipient(Protocol):
    @property
    def id(self) -> int: ...

    @property
    def staff_id(self) -> str | None: ...


def notify(
    session: Session,
    *,
    code: str,
    params: dict[str, Any],
    now: datetime,
    staff_id: str | None = None,
    user_id: int | None = None,
    dedupe_key: str | None = None,
) -> Notification | None:
    """Add a notification; None (and nothing added) when ``dedupe_key`` was used before."""
    if staff_id is None and user_id is None:
        raise ValueError("a notification needs a staff member or a user")
    if dedupe_key is not None and session.scalar(
        select(Notification.id).where(Notification.dedupe_key == dedupe_key)
    ):
        return None
    note = Notification(
        staff_id=staff_id,
        user_id=user_id,
        code=code,
        params=params,
        created_at=now,
        read_at=None,
        dedupe_key=dedupe_key,
    )
    session.add(note)
    return note


def _mine(user: Recipient) -> ColumnElement[bool]:
    conditions = [Notification.user_id == user.id]
    if user.staff_id is not None:
        conditions.append(Notification.staff_id == user.staff_id)
    return or_(false(), *conditions)


def list_notifications(
    session: Session, *, user: Recipient, unread_only: bool = False, limit: int = 50
) -> list[Notification]:
    """The user's notifications (to their staff record or to them), newest first."""
    stmt = select(Notification).where(_mine(user))
    if unread_only:
        stmt = stmt.where(Notification.read_at.is_(None))
    return list(
        session.scalars(stmt.order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit))
    )


def unread_count(session: Session, *, user: Recipient) -> int:
    stmt = select(func.count()).select_from(Notification).where(_mine(user), Notification.read_at.is_(None))
    return int(session.scalar(stmt) or 0)


def mark_read(session: Session, *, user: Recipient, notification_id: int, now: datetime) -> Notification:
    """Mark one of the user's notifications read (someone else's is :class:`NotFound`)."""
    note = session.scalar(select(Notification).where(Notification.id == notification_id, _mine(user)))
    if note is None:
        raise NotFound(f"no notification {notification_id}")
    if note.read_at is None:
        note.read_at = now
        session.flush()
    return note
