"""One customer's survey answers, scored: what Customer 360 shows of what the customer told the branch.

Per response (a ``response_id`` of ``survey_answers``), newest first:

- a **dimension score** is the mean of the dimension's answered items after reverse keying
  (``min + max − x`` on the item's scale), on the questionnaire's scale: an item with a scale of its
  own is first mapped linearly onto the questionnaire's (``qmin + (x − min) × (qmax − qmin) / (max −
  min)``). Unanswered items are left out of the mean (``answered`` of ``items`` says how many counted);
  a dimension without any answer has no score;
- the **NPS answer** is the score of the questionnaire's ``outcomes.nps`` item, classed as the NPS
  counts it (:func:`nps_class`): ``promoter`` 9–10, ``passive`` 7–8, ``detractor`` 0–6;
- **comments** are the texts answered (free-text items), in item order.

A response to a questionnaire not in ``questionnaires`` is listed without dimension scores; its NPS
answer is read from the item ``NPS``, the id the data contract's example and the simulator use (as the
nightly batch reads it). Nothing here checks the caller's scope: callers read one customer they have
already opened in scope (``customers.service.get_customer``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from importlib import resources
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from wealthcrm.surveys.models import SurveyAnswer, SurveyWave
from wealthcrm.surveys.questionnaire import Questionnaire, shipped_questionnaire

#: the NPS item of a response to a questionnaire the caller does not know
DEFAULT_NPS_ITEM = "NPS"
#: the lowest promoter score and the highest detractor score of the Net Promoter Score
PROMOTER_MIN = 9
DETRACTOR_MAX = 6


def nps_class(score: float | None) -> str | None:
    """``promoter`` (9–10), ``passive`` (7–8) or ``detractor`` (0–6); None without an answer."""
    if score is None:
        return None
    if score >= PROMOTER_MIN:
        return "promoter"
    return "detractor" if score <= DETRACTOR_MAX else "passive"


@dataclass(frozen=True, slots=True)
class DimensionScore:
    dimension: str
    name: dict[str, str]  # {"zh": …, "en": …}; empty when the questionnaire names none
    score: float | None  # on the questionnaire's scale; None: no item answered
    answered: int
    items: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "dimension": self.dimension,
            "name": dict(self.name),
            "score": self.score,
            "answered": self.answered,
            "items": self.items,
        }


@dataclass(frozen=True, slots=True)
class ResponseScores:
    response_id: str
    questionnaire_id: str
    answered_on: date
    known: bool  # the questionnaire is one of those given (else: no dimension scores)
    title: dict[str, str]
    scale: tuple[int, int] | None  # the questionnaire's Likert scale
    dimensions: list[DimensionScore]
    nps: float | None
    nps_class: str | None
    comments: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "response_id": self.response_id,
            "questionnaire_id": self.questionnaire_id,
            "answered_on": self.answered_on.isoformat(),
            "known": self.known,
            "title": dict(self.title),
            "scale": None if self.scale is None else {"min": self.scale[0], "max": self.scale[1]},
            "dimensions": [d.to_dict() for d in self.dimensions],
            "nps": self.nps,
            "nps_class": self.nps_class,
            "comments": list(self.comments),
        }


def _on_scale(value: float, item: tuple[int, int], scale: tuple[int, int]) -> float:
    if item == scale:
        return value
    (lo, hi), (qlo, qhi) = item, scale
    return qlo + (value - lo) * (qhi - qlo) / (hi - lo)


def score_response(
    q: Questionnaire | None, answers: Mapping[str, float | None], texts: Mapping[str, str] | None = None
) -> tuple[list[DimensionScore], float | None, list[str]]:
    """Dimension scores, the NPS answer and the comments of one response (``answers``: item → score)."""
    comments = [t for t in (texts or {}).values() if t and t.strip()]
    if q is None:
        return [], answers.get(DEFAULT_NPS_ITEM), comments
    scale = (q.scale.min, q.scale.max)
    reversed_items = q.reversed_items()
    dimensions = []
    for d in q.dimensions:
        values = []
        for item_id in d.items:
            x = answers.get(item_id)
            if x is None:
                continue
            lo, hi = q.scale_of(item_id)
            keyed = lo + hi - x if item_id in reversed_items else x
            values.append(_on_scale(keyed, (lo, hi), scale))
        mean = sum(values) / len(values) if values else None
        name = {"zh": d.name.zh, "en": d.name.en} if d.name is not None else {}
        dimensions.append(DimensionScore(d.id, name, mean, len(values), len(d.items)))
    nps = answers.get(q.outcomes.nps) if q.outcomes.nps is not None else None
    return dimensions, nps, comments


def customer_scores(
    session: Session, *, customer_id: str, questionnaires: Mapping[str, Questionnaire], limit: int = 20
) -> list[ResponseScores]:
    """The customer's latest ``limit`` responses, newest first, each scored (see the module's note)."""
    answered_on = func.max(SurveyAnswer.answered_on)
    latest = session.execute(
        select(SurveyAnswer.response_id)
        .where(SurveyAnswer.customer_id == customer_id)
        .group_by(SurveyAnswer.response_id)
        .order_by(answered_on.desc(), SurveyAnswer.response_id.desc())
        .limit(limit)
    ).all()
    ids = [r.response_id for r in latest]
    if not ids:
        return []
    rows = session.scalars(
        select(SurveyAnswer).where(SurveyAnswer.customer_id == customer_id, SurveyAnswer.response_id.in_(ids))
    ).all()
    by_response: dict[str, list[SurveyAnswer]] = {}
    for row in rows:
        by_response.setdefault(row.response_id, []).append(row)
    out = []
    for response_id in ids:
        answers = sorted(by_response[response_id], key=lambda a: a.item_id)
        first = answers[0]
        q = questionnaires.get(first.questionnaire_id)
        scores = {a.item_id: a.score for a in answers}
        texts = {a.item_id: a.text for a in answers if a.text}  # in item order
        dimensions, nps, comments = score_response(q, scores, texts)
        out.append(
            ResponseScores(
                response_id=response_id,
                questionnaire_id=first.questionnaire_id,
                answered_on=max(a.answered_on for a in answers),
                known=q is not None,
                title={"zh": q.title.zh, "en": q.title.en} if q is not None and q.title else {},
                scale=(q.scale.min, q.scale.max) if q is not None else None,
                dimensions=dimensions,
                nps=nps,
                nps_class=nps_class(nps),
                comments=comments,
            )
        )
    return out


@cache
def _shipped() -> tuple[Questionnaire, ...]:
    folder = resources.files("wealthcrm.surveys").joinpath("questionnaires")
    names = sorted(p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml"))
    return tuple(shipped_questionnaire(name) for name in names)


def known_questionnaires(session: Session) -> dict[str, Questionnaire]:
    """The questionnaires answers can be scored with, by id: those shipped with wealthcrm, overridden
    by the one kept with the latest survey wave of the same id (a wave keeps its questionnaire as sent)."""
    out = {q.id: q for q in _shipped()}
    for stored in session.scalars(
        select(SurveyWave.questionnaire).order_by(SurveyWave.created_at, SurveyWave.id)
    ):
        q = Questionnaire.model_validate(stored)
        out[q.id] = q
    return out
