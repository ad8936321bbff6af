"""The audit log: :func:`record` appends one entry to the hash chain; :func:`verify` walks the chain;
:func:`search` and :func:`export_csv` read it for auditors.

Every change a person makes and every read of unmasked PII calls :func:`record` in the same
transaction as the change, so the entry and the change commit (or roll back) together. Nothing here
commits.

The hash of an entry is SHA-256 over the previous entry's hash and the entry's canonical JSON
(:func:`entry_hash`), so editing, inserting or deleting any row breaks every later link.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any, Protocol, TextIO

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from wealthcrm.audit.models import AuditEntry, AuditHead
from wealthcrm.db import utcnow

GENESIS = "0" * 64
SYSTEM = "system"


class Actor(Protocol):
    """Who acts: a ``users.models.User`` or the web layer's signed-in value both fit."""

    @property
    def username(self) -> str: ...

    @property
    def role(self) -> Any: ...


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


def _locked_head(session: Session) -> AuditHead:
    """The head row, locked until the transaction ends; created (race-free) on the first entry ever.

    Two first writers both insert the genesis head with ON CONFLICT DO NOTHING, then both lock it: the
    second waits for the first and continues from its entry, so the chain never forks.
    """
    query = select(AuditHead).where(AuditHead.id == 1).with_for_update()
    head = session.execute(query).scalar_one_or_none()
    if head is None:
        dialect = session.get_bind().dialect.name
        insert = sqlite_insert if dialect == "sqlite" else pg_insert
        genesis = insert(AuditHead).values(id=1, seq=0, hash=GENESIS).on_conflict_do_nothing()
        session.execute(genesis)
        head = session.execute(query.execution_options(populate_existing=True)).scalar_one()
    return head


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
    head = _locked_head(session)
    role = None if actor is None else getattr(actor.role, "value", actor.role)
    entry = AuditEntry(
        seq=head.seq + 1,
        at=(at or utcnow()).replace(tzinfo=None),
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


# --- verifying the chain ----------------------------------------------------------------------------


class Problem(StrEnum):
    """Why the chain is broken at :attr:`VerifyResult.broken_seq`."""

    edited = "edited"  # the row's content no longer gives its stored hash
    relinked = "relinked"  # the row's prev_hash is not the previous row's hash (a row replaced or inserted)
    missing = "missing"  # a sequence number is absent (a row deleted in the middle)
    head_mismatch = "head_mismatch"  # the last row is not the one audit_head names (rows deleted at the end)


@dataclass(frozen=True, slots=True)
class VerifyResult:
    ok: bool
    checked: int  # rows read
    last_seq: int  # the last row's seq (0 for an empty log)
    head_seq: int  # what audit_head says the last seq is
    broken_seq: int | None = None  # the first seq where the chain breaks
    problem: Problem | None = None
    message: str = "the audit log is intact"

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["problem"] = None if self.problem is None else self.problem.value
        return out


def verify(session: Session, *, batch: int = 2000) -> VerifyResult:
    """Walk the whole chain in ``seq`` order, recomputing every hash; report the first break.

    Detects an edited row (its hash no longer matches its content), a replaced or inserted row (its
    ``prev_hash`` is not its predecessor's hash), a deleted row in the middle (a gap in ``seq``) and
    deleted rows at the end (``audit_head`` names a later row than the last one present).
    """
    expected_seq, prev_hash, checked = 1, GENESIS, 0
    last_seq = 0
    stmt = select(AuditEntry).order_by(AuditEntry.seq).execution_options(yield_per=batch)
    for entry in session.scalars(stmt):
        checked += 1
        broken: tuple[Problem, str] | None = None
        if entry.seq != expected_seq:
            broken = (
                Problem.missing,
                f"entry {expected_seq} is missing (the next one present is {entry.seq})",
            )
        elif entry.prev_hash != prev_hash:
            broken = (Problem.relinked, f"entry {entry.seq} does not follow entry {expected_seq - 1}")
        elif entry_hash(prev_hash, entry) != entry.hash:
            broken = (Problem.edited, f"entry {entry.seq} was changed after it was written")
        if broken is not None:
            head_seq = session.scalar(select(AuditHead.seq).where(AuditHead.id == 1)) or 0
            seq = expected_seq if broken[0] is Problem.missing else entry.seq
            return VerifyResult(False, checked, entry.seq, head_seq, seq, broken[0], broken[1])
        prev_hash, last_seq = entry.hash, entry.seq
        expected_seq += 1
    head = session.execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1)).one_or_none()
    head_seq, head_hash = (0, GENESIS) if head is None else (head.seq, head.hash)
    if (head_seq, head_hash) != (last_seq, prev_hash):
        message = (
            f"the log ends at entry {last_seq} but its head names entry {head_seq}"
            if head_seq != last_seq
            else f"the head's hash does not match entry {last_seq}"
        )
        return VerifyResult(False, checked, last_seq, head_seq, last_seq + 1, Problem.head_mismatch, message)
    return VerifyResult(True, checked, last_seq, head_seq)


# --- searching and exporting ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """Search criteria; every one optional. ``since``/``until`` are inclusive days (of ``at``, UTC)."""

    actor: str | None = None
    action: str | None = None
    customer_id: str | None = None
    since: date | None = None
    until: date | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        out: list[ColumnElement[bool]] = []
        if self.actor:
            out.append(AuditEntry.actor == self.actor.strip())
        if self.action:
            action = self.action.strip()
            # "task" finds task.done, task.create…; "task.done" finds exactly that
            out.append(
                AuditEntry.action == action
                if "." in action
                else or_(
                    AuditEntry.action == action, AuditEntry.action.startswith(action + ".", autoescape=True)
                )
            )
        if self.customer_id:
            out.append(AuditEntry.customer_id == self.customer_id.strip())
        if self.since is not None:
            out.append(AuditEntry.at >= datetime.combine(self.since, time.min))
        if self.until is not None:
            out.append(AuditEntry.at < datetime.combine(self.until + timedelta(days=1), time.min))
        return out


@dataclass(frozen=True, slots=True)
class AuditRow:
    seq: int
    at: datetime
    actor: str
    actor_role: str | None
    action: str
    entity: str | None
    entity_id: str | None
    customer_id: str | None
    reason: str | None
    details: dict[str, Any]
    ip: str | None
    hash: str

    @classmethod
    def of(cls, e: AuditEntry) -> AuditRow:
        return cls(
            e.seq,
            e.at,
            e.actor,
            e.actor_role,
            e.action,
            e.entity,
            e.entity_id,
            e.customer_id,
            e.reason,
            dict(e.details or {}),
            e.ip,
            e.hash,
        )

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["at"] = self.at.isoformat()
        return out


@dataclass(frozen=True, slots=True)
class AuditPage:
    total: int
    page: int
    page_size: int
    rows: list[AuditRow]


def search(
    session: Session,
    *,
    actor: str | None = None,
    action: str | None = None,
    customer_id: str | None = None,
    since: date | None = None,
    until: date | None = None,
    page: int = 1,
    page_size: int = 50,
) -> AuditPage:
    """Entries matching every given criterion, newest first, one page of them with the total."""
    conditions = AuditFilter(actor, action, customer_id, since, until).conditions()
    total = session.scalar(select(func.count()).select_from(AuditEntry).where(*conditions)) or 0
    stmt = (
        select(AuditEntry)
        .where(*conditions)
        .order_by(AuditEntry.seq.desc())
        .limit(page_size)
        .offset((max(page, 1) - 1) * page_size)
    )
    return AuditPage(int(total), page, page_size, [AuditRow.of(e) for e in session.scalars(stmt)])


CSV_COLUMNS = (
    "seq",
    "at",
    "actor",
    "actor_role",
    "action",
    "entity",
    "entity_id",
    "customer_id",
    "reason",
    "details",
    "ip",
    "prev_hash",
    "hash",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    """A CSV cell; text a spreadsheet would run as a formula gets a leading apostrophe (OWASP)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(timespec="microseconds")
    if isinstance(value, dict):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True)
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def iter_csv_rows(
    session: Session, *, where: AuditFilter | None = None, batch: int = 2000
) -> Iterator[list[str]]:
    """The matching entries, oldest first, as CSV cells in the order of :data:`CSV_COLUMNS`."""
    stmt = (
        select(AuditEntry)
        .where(*(where or AuditFilter()).conditions())
        .order_by(AuditEntry.seq)
        .execution_options(yield_per=batch)
    )
    for entry in session.scalars(stmt):
        yield [_cell(getattr(entry, column)) for column in CSV_COLUMNS]


def export_csv(session: Session, out: TextIO, *, where: AuditFilter | None = None) -> int:
    """Write the matching entries, oldest first, as CSV (header :data:`CSV_COLUMNS`); return the count."""
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    count = 0
    for row in iter_csv_rows(session, where=where):
        writer.writerow(row)
        count += 1
    return count
