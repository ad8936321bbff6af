"""Import of survey answers collected elsewhere (paper, a call centre, another tool): all or nothing.

The file is *wide*: one row per response, the columns ``customer_id``, ``answered_on`` (YYYY-MM-DD),
optionally ``response_id``, and one column per item id of the questionnaire; CSV (UTF-8 or GB18030),
XLSX (first sheet) or Parquet. Blank cells are missing answers, as in the analysis; every other
value is checked against its item like a form submission (:func:`wealthcrm.surveys.responses.check_answers`).

Like every import, a file with any problem is rejected whole with every problem listed by file, row
(the spreadsheet's: header = 1) and column (:class:`wealthcrm.ingest.problems.ImportRejected`), and
nothing stored changes. With a wave, each row must be a customer invited to it who has not answered
yet, answering between the wave's dates; the invitations are then marked answered. Response ids are
derived from what identifies a response (the invitation, or questionnaire + customer + day) unless the
file gives them, so importing the same file again changes nothing. Detractors get their RM's recovery
task as on the form. Nothing here commits: the caller's transaction makes the import atomic.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from wealthcrm.audit import service as audit
from wealthcrm.config import Settings
from wealthcrm.customers.models import Customer
from wealthcrm.errors import DomainError
from wealthcrm.ingest.parsing import parse_date
from wealthcrm.ingest.problems import ImportRejected, Problem
from wealthcrm.surveys.data import BLANKS, read_answers
from wealthcrm.surveys.models import SurveyAnswer, SurveyInvitation, SurveyWave
from wealthcrm.surveys.questionnaire import Questionnaire
from wealthcrm.surveys.responses import Stored, check_answers, raise_recovery_task, store_answers

KEY_COLUMNS = ("customer_id", "answered_on")
RESPONSE_ID_MAX = 40
_CHUNK = 500


@dataclass(frozen=True, slots=True)
class SurveyImportResult:
    file: str
    questionnaire_id: str
    wave_id: int | None
    rows: int
    responses: int  # new responses stored
    unchanged: int  # responses already stored with the same answers
    answers: int  # survey_answers rows written
    tasks: int  # recovery tasks raised for detractors

    def to_dict(self) -> dict[str, Any]:
        return {"ok": True, **asdict(self)}


def _cell(value: Any) -> str | None:
    """A cell as trimmed text; None when blank (whatever the reader made of it)."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp | datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:g}"
    text = str(value).strip()
    return None if text in BLANKS else text


def _derived_id(questionnaire_id: str, customer_id: str, answered_on: date) -> str:
    digest = hashlib.sha256(
        f"{questionnaire_id}|{customer_id}|{answered_on.isoformat()}".encode()
    ).hexdigest()
    return f"I{digest[:20]}"


def _stored_answers(session: Session, response_ids: list[str]) -> dict[str, tuple[str, dict[str, Stored]]]:
    """Responses already stored: id → (customer, {item: (score, text)})."""
    out: dict[str, tuple[str, dict[str, Stored]]] = {}
    for start in range(0, len(response_ids), _CHUNK):
        chunk = response_ids[start : start + _CHUNK]
        for a in session.scalars(select(SurveyAnswer).where(SurveyAnswer.response_id.in_(chunk))):
            score = None if a.score is None else float(a.score)
            out.setdefault(a.response_id, (a.customer_id, {}))[1][a.item_id] = (score, a.text)
    return out


def _existing(session: Session, column: Any, values: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(values), _CHUNK):
        found.update(session.scalars(select(column).where(column.in_(values[start : start + _CHUNK]))))
    return found


@dataclass
class _Row:
    line: int
    customer_id: str
    answered_on: date
    response_id: str
    answers: dict[str, Stored]
    invitation: SurveyInvitation | None = None


def import_answers(
    session: Session,
    *,
    path: Path,
    questionnaire: Questionnaire,
    today: date,
    settings: Settings,
    wave_id: int | None = None,
    now: datetime,
) -> SurveyImportResult:
    """Check every row of ``path``, then store the answers; raises :class:`ImportRejected` listing every
    problem before anything is written."""
    q, label = questionnaire, path.name
    try:
        frame = read_answers(path)
    except DomainError as exc:
        raise ImportRejected([Problem(label, None, None, str(exc))]) from None
    problems: list[Problem] = []

    def whole(message: str, column: str | None = None) -> None:
        problems.append(Problem(label, None, column, message))

    wave = None
    if wave_id is not None:
        wave = session.get(SurveyWave, wave_id)
        if wave is None:
            raise ImportRejected([Problem(label, None, None, f"no survey wave {wave_id}")])
        if wave.questionnaire_id != q.id:
            whole(f"wave {wave_id} asks questionnaire {wave.questionnaire_id!r}, not {q.id!r}")
    columns = [str(c) for c in frame.columns]
    items = q.item_map()
    for name in KEY_COLUMNS:
        if name not in columns:
            whole("a required column is missing", name)
    for name in columns:
        if name not in items and name not in (*KEY_COLUMNS, "response_id"):
            whole(f"not an item of questionnaire {q.id} (nor customer_id, answered_on, response_id)", name)
    if len(set(columns)) != len(columns):
        whole("two columns have the same name")
    item_columns = [c for c in columns if c in items]
    if not item_columns:
        whole(f"no column is an item of questionnaire {q.id}")
    if frame.empty:
        whole("the file holds no rows")
    if problems:
        raise ImportRejected(problems)

    cells = frame.map(_cell)
    latest = today + timedelta(days=settings.imports.max_future_days)
    days, failures = parse_date(cells["answered_on"])
    known = _existing(session, Customer.customer_id, sorted(set(cells["customer_id"].dropna())))
    invitations: dict[str, SurveyInvitation] = {}
    if wave is not None:
        invitations = {
            i.customer_id: i
            for i in session.scalars(select(SurveyInvitation).where(SurveyInvitation.wave_id == wave.id))
        }
    rows: list[_Row] = []
    for n, raw in enumerate(cells.to_dict("records")):
        record = {str(k): _cell(v) for k, v in raw.items()}  # pandas may have made None a NaN again
        line = n + 2
        row_problems = len(problems)
        customer = record["customer_id"]
        if customer is None:
            problems.append(Problem(label, line, "customer_id", "required"))
        elif customer not in known:
            problems.append(Problem(label, line, "customer_id", f"{customer!r}: no such customer"))
        answered = None
        if record["answered_on"] is None:
            problems.append(Problem(label, line, "answered_on", "required"))
        elif any(mask[n] for _message, mask in failures):
            problems.append(
                Problem(label, line, "answered_on", f"{record['answered_on']!r}: not a date: use YYYY-MM-DD")
            )
        else:
            answered = days.iloc[n].date()
            if answered > latest:
                problems.append(
                    Problem(label, line, "answered_on", f"{answered.isoformat()}: is in the future")
                )
            elif wave is not None and not wave.opens_on <= answered <= wave.closes_on:
                span = f"{wave.opens_on.isoformat()} to {wave.closes_on.isoformat()}"
                problems.append(
                    Problem(label, line, "answered_on", f"{answered.isoformat()}: outside the wave ({span})")
                )
        given_id = record.get("response_id")
        if given_id is not None and len(given_id) > RESPONSE_ID_MAX:
            problems.append(Problem(label, line, "response_id", f"longer than {RESPONSE_ID_MAX} characters"))
        stored, answer_problems = check_answers(q, {c: record[c] for c in item_columns}, require=False)
        problems += [Problem(label, line, p.item_id or None, p.message) for p in answer_problems]
        invitation = None
        if wave is not None and customer in known:
            invitation = invitations.get(customer)
            if invitation is None:
                problems.append(
                    Problem(label, line, "customer_id", f"{customer!r}: not invited to wave {wave.id}")
                )
        if len(problems) > row_problems or customer is None or answered is None:
            continue
        if given_id is not None:
            response_id = given_id
        elif invitation is not None:
            response_id = f"W{invitation.wave_id}-{invitation.id}"
        else:
            response_id = _derived_id(q.id, customer, answered)
        rows.append(_Row(line, customer, answered, response_id, stored, invitation))

    first_line: dict[str, int] = {}
    for row in rows:
        if row.response_id in first_line:
            problems.append(
                Problem(
                    label,
                    row.line,
                    None,
                    f"the same response as row {first_line[row.response_id]} ({row.response_id})",
                )
            )
        first_line.setdefault(row.response_id, row.line)
    stored_before = _stored_answers(session, sorted(first_line))
    new_rows: list[_Row] = []
    unchanged = 0
    for row in rows:
        before = stored_before.get(row.response_id)
        if before is not None:
            if before == (row.customer_id, row.answers):
                unchanged += 1
            else:
                problems.append(
                    Problem(
                        label,
                        row.line,
                        None,
                        f"response {row.response_id} is already stored with other answers",
                    )
                )
            continue
        inv = row.invitation
        if inv is not None and inv.used_at is not None:
            problems.append(
                Problem(
                    label,
                    row.line,
                    "customer_id",
                    f"{row.customer_id!r} has already answered wave {inv.wave_id}",
                )
            )
            continue
        new_rows.append(row)
    taken = _existing(session, SurveyInvitation.response_id, [r.response_id for r in new_rows])
    problems += [
        Problem(
            label, r.line, "response_id", f"{r.response_id!r} is already the response of a wave invitation"
        )
        for r in new_rows
        if r.response_id in taken
    ]
    if problems:
        raise ImportRejected(problems)

    written = 0
    for row in new_rows:
        store_answers(
            session,
            response_id=row.response_id,
            customer_id=row.customer_id,
            questionnaire_id=q.id,
            answered_on=row.answered_on,
            answers=row.answers,
        )
        written += len(row.answers)
        if row.invitation is not None:
            row.invitation.used_at = now
            row.invitation.response_id = row.response_id
    session.flush()
    raised = 0
    for customer in sorted({r.customer_id for r in new_rows}):
        if raise_recovery_task(session, customer_id=customer, on=today, settings=settings) is not None:
            raised += 1
    result = SurveyImportResult(label, q.id, wave_id, len(cells), len(new_rows), unchanged, written, raised)
    audit.record(
        session,
        actor=None,
        action="survey.import",
        entity="survey_wave" if wave_id is not None else None,
        entity_id=wave_id,
        details={**asdict(result), "sha256": hashlib.sha256(path.read_bytes()).hexdigest()},
    )
    return result
