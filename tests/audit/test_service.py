"""The audit log: append-only in the database, a hash chain that shows edits and deletions, search, CSV."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session

from wealthcrm.audit import service
from wealthcrm.audit.models import AuditEntry
from wealthcrm.audit.service import Problem
from wealthcrm.db import session_scope

from .dba import bypassing_triggers


@dataclass(frozen=True)
class _Actor:
    username: str
    role: str


RM = _Actor("rm01", "rm")
AUDITOR = _Actor("audit", "auditor")


def _write(engine: Engine, n: int = 5) -> None:
    with session_scope(engine) as session:
        for i in range(1, n + 1):
            service.record(
                session,
                actor=RM if i % 2 else AUDITOR,
                action="unmask" if i % 2 else "task.done",
                entity="customer",
                entity_id=f"C00{i}",
                customer_id=f"C00{i}",
                reason=f"reason {i}" if i != 3 else "=HYPERLINK(1)",
                details={"field": "mobile", "n": i},
                at=datetime(2026, 11, i, 9, 30, 0, 123456),
            )


def _verify(engine: Engine) -> service.VerifyResult:
    with session_scope(engine) as session:
        return service.verify(session)


def test_an_untouched_chain_verifies(engine: Engine) -> None:
    assert _verify(engine) == service.VerifyResult(True, 0, 0, 0)  # empty
    _write(engine)
    result = _verify(engine)
    assert (result.ok, result.checked, result.last_seq, result.head_seq, result.broken_seq) == (
        True,
        5,
        5,
        5,
        None,
    )
    assert result.to_dict()["message"] == "the audit log is intact"


@pytest.mark.parametrize(
    "statement", ["UPDATE audit_log SET reason = 'x' WHERE seq = 2", "DELETE FROM audit_log WHERE seq = 5"]
)
def test_the_database_refuses_update_and_delete(engine: Engine, statement: str) -> None:
    _write(engine)
    with pytest.raises(DatabaseError, match="audit_log is append-only"), engine.begin() as conn:
        conn.execute(text(statement))
    assert _verify(engine).ok


def test_an_edited_row_is_found(engine: Engine) -> None:
    _write(engine)
    with bypassing_triggers(engine) as conn:
        conn.execute(text("UPDATE audit_log SET reason = 'nothing to see' WHERE seq = 3"))
    result = _verify(engine)
    assert (result.ok, result.broken_seq, result.problem) == (False, 3, Problem.edited)
    assert result.message == "entry 3 was changed after it was written"


def test_an_edit_that_rehashes_the_row_breaks_the_next_link(engine: Engine) -> None:
    _write(engine)
    with session_scope(engine) as session:
        row = session.get(AuditEntry, 2)
        assert row is not None
        row.reason = "rewritten"
        forged = service.entry_hash(row.prev_hash, row)
        session.expunge_all()
    with bypassing_triggers(engine) as conn:
        conn.execute(
            text("UPDATE audit_log SET reason = 'rewritten', hash = :h WHERE seq = 2"), {"h": forged}
        )
    result = _verify(engine)
    assert (result.ok, result.broken_seq, result.problem) == (False, 3, Problem.relinked)


def test_a_deleted_middle_row_is_found(engine: Engine) -> None:
    _write(engine)
    with bypassing_triggers(engine) as conn:
        conn.execute(text("DELETE FROM audit_log WHERE seq = 2"))
    result = _verify(engine)
    assert (result.ok, result.broken_seq, result.problem) == (False, 2, Problem.missing)
    assert result.message == "entry 2 is missing (the next one present is 3)"


def test_a_deleted_last_row_is_found_by_the_head(engine: Engine) -> None:
    _write(engine)
    with bypassing_triggers(engine) as conn:
        conn.execute(text("DELETE FROM audit_log WHERE seq = 5"))
    result = _verify(engine)
    assert (result.ok, result.checked, result.last_seq, result.head_seq) == (False, 4, 4, 5)
    assert (result.broken_seq, result.problem) == (5, Problem.head_mismatch)
    assert result.message == "the log ends at entry 4 but its head names entry 5"


def test_search_filters_and_pages(session: Session) -> None:
    for i in range(1, 6):
        service.record(
            session,
            actor=RM if i % 2 else AUDITOR,
            action="unmask" if i % 2 else "task.done",
            customer_id=f"C00{i % 2}",
            at=datetime(2026, 11, i, 23, 59),
        )
    service.record(session, actor=RM, action="taskforce", at=datetime(2026, 11, 6))

    def seqs(**kwargs: object) -> list[int]:
        return [r.seq for r in service.search(session, **kwargs).rows]  # type: ignore[arg-type]

    assert seqs() == [6, 5, 4, 3, 2, 1]  # newest first
    assert seqs(actor="rm01") == [6, 5, 3, 1]
    assert seqs(action="task") == [4, 2]  # task.* but not taskforce
    assert seqs(action="task.done") == [4, 2]
    assert seqs(customer_id="C000") == [4, 2]
    assert seqs(since=date(2026, 11, 2), until=date(2026, 11, 4)) == [4, 3, 2]  # whole days, inclusive
    page = service.search(session, page=2, page_size=4)
    assert (page.total, [r.seq for r in page.rows]) == (6, [2, 1])


def test_csv_export_has_every_column_and_defuses_formulas(engine: Engine) -> None:
    _write(engine, 3)
    out = io.StringIO()
    with session_scope(engine) as session:
        count = service.export_csv(session, out, where=service.AuditFilter(actor="rm01"))
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert count == 2
    assert rows[0] == list(service.CSV_COLUMNS)
    assert [r[:5] for r in rows[1:]] == [
        ["1", "2026-11-01T09:30:00.123456", "rm01", "rm", "unmask"],
        ["3", "2026-11-03T09:30:00.123456", "rm01", "rm", "unmask"],
    ]
    assert rows[2][8] == "'=HYPERLINK(1)"  # a spreadsheet must not run it
    assert rows[1][9] == '{"field": "mobile", "n": 1}'
    with session_scope(engine) as session:
        hashes = list(session.scalars(select(AuditEntry.hash).order_by(AuditEntry.seq)))
    assert [r[12] for r in rows[1:]] == [hashes[0], hashes[2]]
