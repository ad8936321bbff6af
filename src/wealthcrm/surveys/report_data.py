"""The stored answers a user may analyse, their analysis (cached) and the audit of report downloads.

The web page runs :func:`wealthcrm.surveys.analysis.analyze` on the ``survey_answers`` of the customers
in the user's scope (:func:`wealthcrm.customers.scope.scope_filter`): a team lead's analysis covers
only the team's customers, a branch manager's or an analyst's the whole branch. Each respondent gets
the customer's RM (``rm_id``), tier in the latest month the nightly batch scored (``tier``) and age
band at the answer's date (``age_band``), the groups the report compares; a grouping with fewer than
two values in the data is left out. Names, mobile numbers and ID numbers are never read.

The analysis takes seconds (the CFA and the structural model most), so results are kept in a small
per-process cache keyed by the questionnaire, the options and a hash of the very answers and customer
columns analysed: a download of the page's report reuses the page's analysis, and any new answer, or
a customer moving to another RM, gives a new key.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from wealthcrm.analytics.models import CustomerMonth
from wealthcrm.audit import service as audit
from wealthcrm.customers.models import Customer
from wealthcrm.customers.scope import Viewer, scope_filter
from wealthcrm.errors import Invalid, NotFound
from wealthcrm.surveys.analysis import MISSING_RULES, analyze
from wealthcrm.surveys.data import SurveyData, attach_customers, prepare
from wealthcrm.surveys.models import SurveyAnswer
from wealthcrm.surveys.questionnaire import Questionnaire
from wealthcrm.surveys.report import PROFILE_COLUMNS, sample_profile

#: the groupings compared, when the data holds two or more values of them
GROUPS = ("tier", "age_band", "rm_id", "wave")
CACHE_SIZE = 8
LONG_COLUMNS = ["response_id", "item_id", "customer_id", "questionnaire_id", "answered_on", "score"]


@dataclass(frozen=True, slots=True)
class StoredAnalysis:
    questionnaire: Questionnaire
    missing: str
    models: bool
    result: dict[str, Any]
    profile: dict[str, dict[str, int]]

    @property
    def respondents(self) -> int:
        return int(self.result.get("n_respondents") or 0)


class AnalysisCache:
    """Analyses by key, newest use last, at most ``size``; one computation at a time (the lock), so a
    burst of requests for the same answers computes them once and the web server's two cores are not
    both taken by statistics."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.size = size
        self._items: OrderedDict[tuple[Any, ...], StoredAnalysis] = OrderedDict()
        self._lock = threading.Lock()
        self.computed = 0

    def get(self, key: tuple[Any, ...], compute: Callable[[], StoredAnalysis]) -> StoredAnalysis:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
            value = compute()
            self.computed += 1
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)
            return value


def questionnaires_answered(session: Session, *, user: Viewer) -> dict[str, int]:
    """Respondents per questionnaire id among the customers ``user`` may see."""
    rows = session.execute(
        select(SurveyAnswer.questionnaire_id, func.count(func.distinct(SurveyAnswer.response_id)))
        .join(Customer, Customer.customer_id == SurveyAnswer.customer_id)
        .where(scope_filter(user))
        .group_by(SurveyAnswer.questionnaire_id)
        .order_by(SurveyAnswer.questionnaire_id)
    ).all()
    return {str(q): int(n) for q, n in rows}


def stored_answers(session: Session, *, user: Viewer, questionnaire_id: str) -> pd.DataFrame:
    """The answers to ``questionnaire_id`` of the customers in scope, in the data contract's long form."""
    rows = session.execute(
        select(
            SurveyAnswer.response_id,
            SurveyAnswer.item_id,
            SurveyAnswer.customer_id,
            SurveyAnswer.questionnaire_id,
            SurveyAnswer.answered_on,
            SurveyAnswer.score,
        )
        .join(Customer, Customer.customer_id == SurveyAnswer.customer_id)
        .where(SurveyAnswer.questionnaire_id == questionnaire_id, scope_filter(user))
        .order_by(SurveyAnswer.response_id, SurveyAnswer.item_id)
    ).all()
    frame = pd.DataFrame([tuple(r) for r in rows], columns=LONG_COLUMNS)
    frame["score"] = frame["score"].astype(float)
    frame["answered_on"] = frame["answered_on"].astype(str)
    return frame


def respondent_customers(session: Session, *, user: Viewer, questionnaire_id: str) -> pd.DataFrame:
    """customer_id, rm_id, birth_date and latest scored tier of the respondents in scope (no PII)."""
    latest = select(func.max(CustomerMonth.month)).scalar_subquery()
    answered = select(SurveyAnswer.customer_id).where(SurveyAnswer.questionnaire_id == questionnaire_id)
    rows = session.execute(
        select(Customer.customer_id, Customer.rm_id, Customer.birth_date, CustomerMonth.tier)
        .outerjoin(
            CustomerMonth,
            and_(CustomerMonth.customer_id == Customer.customer_id, CustomerMonth.month == latest),
        )
        .where(scope_filter(user), Customer.customer_id.in_(answered))
        .order_by(Customer.customer_id)
    ).all()
    frame = pd.DataFrame(
        [
            (c, rm, born, None if tier is None else getattr(tier, "value", str(tier)))
            for c, rm, born, tier in rows
        ],
        columns=["customer_id", "rm_id", "birth_date", "tier"],
    )
    frame["birth_date"] = pd.to_datetime(frame["birth_date"], errors="coerce")
    return frame


def _fingerprint(*frames: pd.DataFrame) -> tuple[int, ...]:
    out: list[int] = []
    for frame in frames:
        out.append(len(frame))
        out.append(int(pd.util.hash_pandas_object(frame.astype(str), index=False).sum()) if len(frame) else 0)
    return tuple(out)


def _groups(data: SurveyData) -> list[str]:
    return [g for g in GROUPS if g in data.extra.columns and data.extra[g].dropna().nunique() >= 2]


def analyse_stored(
    session: Session,
    *,
    user: Viewer,
    questionnaire: Questionnaire,
    missing: str = "pairwise",
    models: bool = True,
    cache: AnalysisCache | None = None,
) -> StoredAnalysis | None:
    """The analysis of the stored answers to ``questionnaire`` in ``user``'s scope; None without any."""
    if missing not in MISSING_RULES:
        raise Invalid(f"missing must be one of {', '.join(MISSING_RULES)}, not {missing!r}")
    answers = stored_answers(session, user=user, questionnaire_id=questionnaire.id)
    if answers.empty:
        return None
    customers = respondent_customers(session, user=user, questionnaire_id=questionnaire.id)
    key = (
        questionnaire.id,
        questionnaire.version,
        questionnaire.model_dump_json(),
        missing,
        models,
        _fingerprint(answers, customers),
    )

    def compute() -> StoredAnalysis:
        data = attach_customers(prepare(answers, questionnaire), customers)
        groups = _groups(data)
        # one thread for the numerical libraries: their thread pools spin against the web server's
        with threadpool_limits(limits=1):
            result = analyze(data, questionnaire, missing=missing, groups=groups, models=models)
        profile = sample_profile(data, list(dict.fromkeys([*groups, *PROFILE_COLUMNS])))
        return StoredAnalysis(questionnaire, missing, models, result, profile)

    return (cache or AnalysisCache()).get(key, compute)


def pick_questionnaire(
    known: dict[str, Questionnaire], answered: Sequence[str], wanted: str | None
) -> Questionnaire:
    """The questionnaire asked for (``wanted``), else the first answered one that is known, else the
    first known one; :class:`NotFound` for an unknown id."""
    if wanted is not None:
        if wanted not in known:
            raise NotFound(
                f"questionnaire {wanted!r} is unknown; known: {', '.join(sorted(known)) or 'none'}"
            )
        return known[wanted]
    for qid in answered:
        if qid in known:
            return known[qid]
    if not known:
        raise NotFound("no questionnaire is known")
    return known[sorted(known)[0]]


def record_download(
    session: Session, *, actor: audit.Actor, analysis: StoredAnalysis, fmt: str, locale: str
) -> None:
    """The audit entry of a report download: questionnaire, options, format and respondents (no answers)."""
    audit.record(
        session,
        actor=actor,
        action="survey_report.export",
        entity="survey_answers",
        entity_id=analysis.questionnaire.id,
        details={
            "questionnaire": analysis.questionnaire.id,
            "version": analysis.questionnaire.version,
            "format": fmt,
            "locale": locale,
            "missing": analysis.missing,
            "models": analysis.models,
            "respondents": analysis.respondents,
        },
    )
