"""The audit log: append-only rows, each carrying the hash of its predecessor (a hash chain).

``audit_head`` holds the sequence number and hash of the last row. Writers lock it (``FOR UPDATE``
on PostgreSQL; SQLite has one writer at a time), so concurrent writers cannot fork the chain, and
deleting the newest rows is detected because the head no longer matches.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from wealthcrm.db import Base


class AuditEntry(Base):
    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_customer_id_at", "customer_id", "at"),
        Index("ix_audit_log_actor_at", "actor", "at"),
        Index("ix_audit_log_action_at", "action", "at"),
    )

    #: assigned from ``audit_head`` (1, 2, 3 … without gaps), not by the database
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime]
    #: username at the time (users may be renamed or removed later); "system" for the nightly batch
    actor: Mapped[str] = mapped_column(String(64))
    actor_role: Mapped[str | None] = mapped_column(String(32))
    #: e.g. "unmask", "access_denied", "task.done", "interaction.create", "customer.reassign", "login"
    action: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str | None] = mapped_column(String(64))  # "customer", "task", "user", …
    entity_id: Mapped[str | None] = mapped_column(String(64))
    customer_id: Mapped[str | None] = mapped_column(String(32))  # no FK: the log outlives its subjects
    reason: Mapped[str | None] = mapped_column(Text)
    #: what changed ({"field": [old, new]}) or what was read; never unmasked PII itself
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    ip: Mapped[str | None] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditHead(Base):
    """One row (id 1): the last entry's sequence number and hash."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))
