"""Attempts to open a customer outside one's scope, written to the audit log as ``access_denied``.

:func:`note_denied` is called by ``customers.service.get_customer`` just before it answers
:class:`~wealthcrm.errors.NotFound`. The caller then usually lets the error roll its transaction
back (a web request does), which would take an entry written in that transaction with it. So the
attempt is held on the session (``session.info``) and written by session events:

- when the session commits anyway (a caller that caught the NotFound and went on), in the same
  transaction, just before the commit (``before_commit``);
- otherwise, once its transaction has ended (rolled back or closed), in a short transaction of its own
  on the same engine (``after_transaction_end``). The request's own transaction is over by then, so on
  SQLite no lock of it is held and the write cannot wait on itself.

Only customers that exist are recorded: an unknown id is nobody's data (and still the same 404).
The web layer puts the request's path and client address into ``session.info[REQUEST_INFO]``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, event, select
from sqlalchemy.orm import Session, SessionTransaction

from wealthcrm.audit.service import record

log = logging.getLogger(__name__)

ACTION = "access_denied"
PENDING = "wealthcrm.audit.access_denied"
#: ``session.info`` key of ``{"path": …, "ip": …}`` for the entries of a web request
REQUEST_INFO = "wealthcrm.request"


@dataclass(frozen=True, slots=True)
class _Actor:
    username: str
    role: Any


@dataclass(frozen=True, slots=True)
class _Denied:
    actor: _Actor
    customer_id: str
    path: str | None
    ip: str | None


def note_denied(session: Session, *, user: Any, customer_id: str) -> None:
    """Hold an ``access_denied`` entry for ``user`` and ``customer_id`` if that customer exists."""
    from wealthcrm.customers.models import Customer  # audit is below customers in the layering

    if session.scalar(select(Customer.customer_id).where(Customer.customer_id == customer_id)) is None:
        return
    request: dict[str, Any] = session.info.get(REQUEST_INFO) or {}
    actor = _Actor(str(getattr(user, "username", None) or "unknown"), getattr(user, "role", None))
    denied = _Denied(actor, customer_id, request.get("path"), request.get("ip"))
    pending: list[_Denied] = session.info.setdefault(PENDING, [])
    if denied not in pending:
        pending.append(denied)


def _write(session: Session, entries: list[_Denied]) -> None:
    for d in entries:
        record(
            session,
            actor=d.actor,
            action=ACTION,
            entity="customer",
            entity_id=d.customer_id,
            customer_id=d.customer_id,
            details={"path": d.path} if d.path else {},
            ip=d.ip,
        )


@event.listens_for(Session, "before_commit")
def _in_the_committing_transaction(session: Session) -> None:
    entries: list[_Denied] | None = session.info.pop(PENDING, None)
    if entries:
        _write(session, entries)


@event.listens_for(Session, "after_transaction_end")
def _after_a_rollback(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is not None or not session.info.get(PENDING):
        return
    entries: list[_Denied] = session.info.pop(PENDING)
    try:
        bind = session.get_bind()
        if isinstance(bind, Connection):  # a session joined to an outer transaction (tests)
            with Session(bind=bind, join_transaction_mode="create_savepoint") as own:
                _write(own, entries)
                own.commit()
        else:
            with Session(bind=bind) as own, own.begin():
                _write(own, entries)
    except Exception:  # never hide the request's own outcome behind a failed audit write
        log.exception("could not record %d access_denied entries", len(entries))
