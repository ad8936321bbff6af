"""Answers: checking them against the questionnaire, the one-time token's life, storing a response.

- :func:`check_answers` — every problem at once (an unknown item, a score off the scale, a code that is
  not an option, a required item left blank), each with its item and a code the form translates;
- :func:`open_token` — the invitation behind a token, or why it cannot be used (:class:`TokenUnknown`,
  :class:`TokenUsed`, :class:`WaveEnded`, :class:`WaveNotOpen`);
- :func:`submit` — the public form's answers become ``survey_answers`` rows of the customer, the token
  is spent (atomically: a second submission finds it used), and an NPS detractor puts a
  ``survey_recovery`` task on the RM's list at once (:func:`raise_recovery_task`);
- :func:`answers_frame` — stored answers in the long form :func:`wealthcrm.surveys.analysis.analyze`
  reads.

Required items are the ones the analysis rests on: every dimension item (and expectation item), the
overall satisfaction and loyalty items and the NPS item. Other declared items (complaints, profile,
free text) may be left blank. A multiple-choice answer is stored as its codes in ``text`` ("1,3").
Nothing here commits.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pandas as pd
from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from wealthcrm.analytics.models import CustomerMonth
from wealthcrm.audit import service as audit
from wealthcrm.audit.access import REQUEST_INFO
from wealthcrm.config import Settings
from wealthcrm.customers.models import Customer
from wealthcrm.errors import Conflict, Invalid, NotFound
from wealthcrm.surveys.distribution import hash_token, wave_state
from wealthcrm.surveys.models import SurveyAnswer, SurveyInvitation, SurveyWave
from wealthcrm.surveys.questionnaire import Questionnaire
from wealthcrm.tasks import service as tasks
from wealthcrm.tasks.models import Task
from wealthcrm.vocab import CustomerStatus, TaskKind

TEXT_MAX = 4000  # survey_answers.text in the data contract
#: what a token looks like (``secrets.token_urlsafe(24)`` gives 32 characters); anything else is unknown
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")

Raw = str | int | float | Sequence[str | int | float] | None


# --- domain errors of the public form ----------------------------------------------------------------


class TokenUnknown(NotFound):
    """No invitation has this token (mistyped, replaced by a re-issue, or never issued)."""


class TokenUsed(Conflict):
    """The survey was already answered with this token."""


class WaveEnded(Conflict):
    """The wave is past its closing day, or was closed early."""


class WaveNotOpen(Conflict):
    """The wave opens on a later day."""

    def __init__(self, message: str, opens_on: date) -> None:
        super().__init__(message)
        self.opens_on = opens_on


@dataclass(frozen=True, slots=True)
class AnswerProblem:
    item_id: str
    #: required, unknown, whole_number, out_of_range, option, too_long, bad_character
    code: str
    message: str


class AnswersInvalid(Invalid):
    """The answers break the questionnaire's rules; ``problems`` lists every one."""

    def __init__(self, problems: list[AnswerProblem]) -> None:
        self.problems = problems
        lines = "; ".join(f"{p.item_id}: {p.message}" for p in problems)
        super().__init__(f"{len(problems)} problem(s) with the answers: {lines}")


# --- checking answers --------------------------------------------------------------------------------


def required_items(q: Questionnaire) -> list[str]:
    """The items a submission must answer: dimension and expectation items, outcomes and NPS."""
    ids = [i for d in q.dimensions for i in (*d.items, *d.expectations.values())]
    ids += [*q.outcomes.satisfaction, *q.outcomes.loyalty]
    if q.outcomes.nps is not None:
        ids.append(q.outcomes.nps)
    return list(dict.fromkeys(ids))


def _values(raw: Raw) -> list[str]:
    """The non-blank values of one field, as text."""
    if raw is None:
        return []
    items = list(raw) if isinstance(raw, list | tuple) else [raw]
    out = []
    for v in items:
        text = (f"{v:g}" if isinstance(v, float) else str(v)).strip()
        if text:
            out.append(text)
    return out


def _whole(text: str) -> int | None:
    try:
        number = float(text)
    except ValueError:
        return None
    return int(number) if number.is_integer() else None


Stored = tuple[float | None, str | None]  # (score, text) of one survey_answers row


def _check_one(q: Questionnaire, item_id: str, values: list[str]) -> Stored | AnswerProblem:
    item = q.item_map()[item_id]
    if item.type == "text":
        text = "\n".join(values).strip()
        if len(text) > TEXT_MAX:
            return AnswerProblem(item_id, "too_long", f"longer than {TEXT_MAX} characters")
        if "\x00" in text:
            return AnswerProblem(item_id, "bad_character", "holds a character that cannot be stored")
        return None, text
    if item.type == "multiple":
        parts = [p.strip() for v in values for p in re.split(r"[,;]", v) if p.strip()]
        codes = [_whole(p) for p in parts]
        allowed = {o.code for o in item.options}
        if any(c is None or c not in allowed for c in codes) or len(set(codes)) != len(codes):
            return AnswerProblem(item_id, "option", f"not distinct codes among {sorted(allowed)}")
        return None, ",".join(str(c) for c in sorted(c for c in codes if c is not None))
    if len(values) > 1:
        return AnswerProblem(item_id, "whole_number", "more than one answer")
    number = _whole(values[0])
    if item.type == "single":
        allowed = {o.code for o in item.options}
        if number is None or number not in allowed:
            return AnswerProblem(
                item_id, "option", f"{values[0]!r} is not one of the codes {sorted(allowed)}"
            )
        return float(number), None
    lo, hi = q.scale_of(item_id)
    if number is None:
        return AnswerProblem(item_id, "whole_number", f"{values[0]!r} is not a whole number")
    if not lo <= number <= hi:
        return AnswerProblem(item_id, "out_of_range", f"{number} is not from {lo} to {hi}")
    return float(number), None


def check_answers(
    q: Questionnaire, answers: Mapping[str, Raw], *, require: bool = True
) -> tuple[dict[str, Stored], list[AnswerProblem]]:
    """The answers to store (item → (score, text)) and every problem; blank answers are left out.

    ``require=False`` accepts blanks in required items (answers collected elsewhere, see the importer)
    but not a response with no answer at all.
    """
    items = q.item_map()
    problems: list[AnswerProblem] = []
    stored: dict[str, Stored] = {}
    for item_id, raw in answers.items():
        if item_id not in items:
            problems.append(AnswerProblem(item_id, "unknown", f"not an item of questionnaire {q.id}"))
            continue
        values = _values(raw)
        if not values:
            continue
        checked = _check_one(q, item_id, values)
        if isinstance(checked, AnswerProblem):
            problems.append(checked)
        elif checked != (None, ""):
            stored[item_id] = checked
    answered = set(stored) | {p.item_id for p in problems}
    if require:
        problems += [
            AnswerProblem(i, "required", "an answer is required")
            for i in required_items(q)
            if i not in answered
        ]
    elif not answered:
        problems.append(AnswerProblem("", "required", "no item is answered"))
    order = {item_id: n for n, item_id in enumerate(items)}
    problems.sort(key=lambda p: order.get(p.item_id, len(order)))
    return stored, problems


# --- the token and the submission --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Opened:
    wave: SurveyWave
    invitation: SurveyInvitation
    questionnaire: Questionnaire


def open_token(session: Session, *, token: str, today: date) -> Opened:
    """The invitation a token opens, if it can still be answered; else one of the domain errors."""
    invitation = None
    if TOKEN_RE.match(token):
        invitation = session.scalar(
            select(SurveyInvitation).where(SurveyInvitation.token_hash == hash_token(token))
        )
    if invitation is None:
        raise TokenUnknown("this survey link is not valid")
    if invitation.used_at is not None:
        raise TokenUsed("this survey has already been answered with this link")
    wave = session.get(SurveyWave, invitation.wave_id)
    assert wave is not None  # a foreign key
    state = wave_state(wave, today)
    if state in ("ended", "closed"):
        raise WaveEnded(f"this survey ended on {min(wave.closes_on, today).isoformat()}")
    if state == "scheduled":
        raise WaveNotOpen(f"this survey opens on {wave.opens_on.isoformat()}", wave.opens_on)
    return Opened(wave, invitation, Questionnaire.model_validate(wave.questionnaire))


def response_id_for(invitation: SurveyInvitation) -> str:
    return f"W{invitation.wave_id}-{invitation.id}"


def store_answers(
    session: Session,
    *,
    response_id: str,
    customer_id: str,
    questionnaire_id: str,
    answered_on: date,
    answers: Mapping[str, Stored],
) -> None:
    session.execute(
        insert(SurveyAnswer),
        [
            {
                "response_id": response_id,
                "item_id": item_id,
                "customer_id": customer_id,
                "questionnaire_id": questionnaire_id,
                "answered_on": answered_on,
                "score": score,
                "text": text,
            }
            for item_id, (score, text) in answers.items()
        ],
    )


@dataclass(frozen=True, slots=True)
class Submitted:
    response_id: str
    customer_id: str
    wave_id: int
    task_id: int | None  # the survey_recovery task raised for a detractor


def submit(
    session: Session,
    *,
    token: str,
    answers: Mapping[str, Raw],
    today: date,
    now: datetime,
    settings: Settings,
) -> Submitted:
    """Store a customer's answers to their wave and spend the token; raises :class:`AnswersInvalid`
    listing every problem (the token stays usable), or a token error."""
    opened = open_token(session, token=token, today=today)
    q, invitation = opened.questionnaire, opened.invitation
    stored, problems = check_answers(q, answers)
    if problems:
        raise AnswersInvalid(problems)
    response_id = response_id_for(invitation)
    # spend the token first, atomically: of two simultaneous submissions only one finds it unused
    spent = session.execute(
        update(SurveyInvitation)
        .where(SurveyInvitation.id == invitation.id, SurveyInvitation.used_at.is_(None))
        .values(used_at=now, response_id=response_id)
        .execution_options(synchronize_session=False)
    )
    if getattr(spent, "rowcount", 0) != 1:
        raise TokenUsed("this survey has already been answered with this link")
    store_answers(
        session,
        response_id=response_id,
        customer_id=invitation.customer_id,
        questionnaire_id=q.id,
        answered_on=today,
        answers=stored,
    )
    session.flush()
    task = raise_recovery_task(session, customer_id=invitation.customer_id, on=today, settings=settings)
    audit.record(
        session,
        actor=None,
        action="survey.answer",
        entity="survey_response",
        entity_id=response_id,
        customer_id=invitation.customer_id,
        details={
            "wave_id": invitation.wave_id,
            "items": len(stored),
            "task_id": None if task is None else task.id,
        },
        ip=(session.info.get(REQUEST_INFO) or {}).get("ip"),  # the web layer's client address
    )
    return Submitted(
        response_id, invitation.customer_id, invitation.wave_id, None if task is None else task.id
    )


# --- the detractor's recovery task -------------------------------------------------------------------


def raise_recovery_task(session: Session, *, customer_id: str, on: date, settings: Settings) -> Task | None:
    """The RM's ``survey_recovery`` task when the customer's latest NPS answer is a detractor's, made now
    exactly as the nightly rule (:func:`wealthcrm.tasks.rules.survey`) would make it tonight: same
    ``source_key`` (``survey_recovery:<response_id>``), evidence and priority, so the nightly batch finds
    it stored and neither duplicates nor cancels it. None when no task is called for, or it exists."""
    customer = session.get(Customer, customer_id)
    if customer is None or customer.rm_id is None or customer.status is not CustomerStatus.active:
        return None  # the nightly rule covers active customers with an RM only
    since = on - timedelta(days=settings.tasks.survey_days)
    latest = session.execute(
        select(SurveyAnswer.response_id, SurveyAnswer.answered_on, SurveyAnswer.score)
        .where(
            SurveyAnswer.customer_id == customer_id,
            SurveyAnswer.item_id == tasks.NPS_ITEM,
            SurveyAnswer.score.is_not(None),
            SurveyAnswer.answered_on <= on,
            SurveyAnswer.answered_on >= since,
        )
        .order_by(SurveyAnswer.answered_on.desc(), SurveyAnswer.response_id.desc())
        .limit(1)
    ).first()
    if latest is None or float(latest.score) > settings.alerts.detractor_max_score:
        return None
    key = f"survey_recovery:{latest.response_id}"
    if session.scalar(select(Task.id).where(Task.source_key == key)) is not None:
        return None
    month = session.scalar(select(func.max(CustomerMonth.month)))
    at_risk = None
    if month is not None:
        at_risk = session.scalar(
            select(CustomerMonth.aum_at_risk).where(
                CustomerMonth.customer_id == customer_id, CustomerMonth.month == month
            )
        )
    return tasks.create(
        session,
        kind=TaskKind.survey_recovery,
        assignee_id=customer.rm_id,
        due_on=on,
        customer_id=customer_id,
        evidence={
            "response_id": latest.response_id,
            "answered_on": latest.answered_on.isoformat(),
            "nps": float(latest.score),
        },
        priority_amount=float(at_risk or 0.0),
        source_key=key,
    )


# --- reading answers for the analysis ----------------------------------------------------------------


def answers_frame(session: Session, *, questionnaire_id: str, wave_id: int | None = None) -> pd.DataFrame:
    """Stored answers to a questionnaire (of one wave's responses, if given) in the long form
    ``analyze`` reads: response_id, item_id, customer_id, questionnaire_id, answered_on, score, text."""
    stmt = select(
        SurveyAnswer.response_id,
        SurveyAnswer.item_id,
        SurveyAnswer.customer_id,
        SurveyAnswer.questionnaire_id,
        SurveyAnswer.answered_on,
        SurveyAnswer.score,
        SurveyAnswer.text,
    ).where(SurveyAnswer.questionnaire_id == questionnaire_id)
    if wave_id is not None:
        stmt = stmt.where(
            SurveyAnswer.response_id.in_(
                select(SurveyInvitation.response_id).where(SurveyInvitation.wave_id == wave_id)
            )
        )
    rows = session.execute(stmt.order_by(SurveyAnswer.response_id, SurveyAnswer.item_id)).all()
    columns = ["response_id", "item_id", "customer_id", "questionnaire_id", "answered_on", "score", "text"]
    frame = pd.DataFrame([tuple(r) for r in rows], columns=columns)
    frame["score"] = frame["score"].astype(float)
    return frame
