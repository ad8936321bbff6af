"""Writing the audit log: :func:`record` appends one entry to the hash chain.

Every change a person makes and every read of unmasked PII calls :func:`record` in the same
transaction as the change, so the entry and the change commit (or roll back) together. Nothing here
commits.

The hash of an entry is SHA-256 over the previous entry's hash and the entry's canonical JSON
(:func:`entry_hash`), so editing, inserting or deleting any row breaks every later link.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from wealthcrm.audit.models import AuditEntry, AuditHead

GENESIS = "0" * 64
SYSTEM = "system"


class Actor(Protocol):
    """Who acts: a ``users.models.User`` or the web layer's signed-in value both fit."""

    @property
    def username(self) -> str: ...

    @property
    def role(self) -> Any: ...


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def canonical(entry: AuditEntry) -> bytes:
    """The fields an entry's hash covers, as canonical JSON (sorted keys, no spaces, UTF-8)."""
    body = {
        "seq": entry.seq,
        "at": entry.at.isoformat(timespec="microseconds"),
        "actor": entry.actor,
        "actor_role": entry.actor_role,
        "action": entry.action,
        "entity": entry.entity,
        "entity_id": entry.entity_id,
        "customer_id": entry.customer_id,
        "reason": entry.reason,
        "details": entry.details,
        "ip": entry.ip,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def entry_hash(prev_hash: str, entry: AuditEntry) -> str:
    return hashlib.sha256(prev_hash.encode() + b"\n" + canonical(entry)).hexdigest()


def record(
    session: Session,
    *,
    actor: Actor | None,
    action: str,
    entity: str | None = None,
    entity_id: str | int | None = None,
    customer_id: str | None = None,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
    ip: str | None = None,
    at: datetime | None = None,
) -> AuditEntry:
    """Append one entry (``actor=None`` is the system, e.g. the nightly batch) and return it."""
    head = session.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update()).scalar_one_or_none()
    if head is None:
        head = AuditHead(id=1, seq=0, hash=GENESIS)
        session.add(head)
    role = None if actor is None else getattr(actor.role, "value", actor.role)
    entry = AuditEntry(
        seq=head.seq + 1,
        at=(at or _utcnow()).replace(tzinfo=None),
        actor=SYSTEM if actor is None else actor.username,
        actor_role=None if role is None else str(role),
        action=action,
        entity=entity,
        entity_id=None if entity_id is None else str(entity_id),
        customer_id=customer_id,
        reason=reason,
        # a JSON round trip now, so the hash covers exactly what the database will hand back
        details=json.loads(json.dumps(details or {}, default=str)),
        ip=ip,
        prev_hash=head.hash,
    )
    entry.hash = entry_hash(head.hash, entry)
    session.add(entry)
    head.seq = entry.seq
    head.hash = entry.hash
    session.flush()
    return entry
