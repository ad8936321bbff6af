"""Capability gaps: an RM's latest competency assessment read next to the scorecard figures each
competency shows in (:data:`LINKS`, e.g. low *compliance* ↔ many suitability exceptions).

A competency is a **gap** when its score is at most ``capability.gap_max_score`` (2 of 5), or when a
figure linked to it is **weak**: at least three quarters of the month's other RMs with a value do
strictly better (by the figure's direction; at least :data:`MIN_RMS` RMs with a value). A low score
with strong figures is still a gap (the assessor saw something the numbers do not), and weak figures
with a good score are flagged so the two views can be reconciled. Nothing here writes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from wealthcrm.config import Settings
from wealthcrm.errors import NotFound
from wealthcrm.scorecards import capability, service
from wealthcrm.scorecards.capability import Person
from wealthcrm.scorecards.data import add_months
from wealthcrm.scorecards.metrics import METRICS
from wealthcrm.scorecards.models import Competency

#: the scorecard figures each competency shows in
LINKS: dict[Competency, tuple[str, ...]] = {
    Competency.product_knowledge: ("products_per_customer", "investment_penetration"),
    Competency.compliance: ("suitability_exceptions",),
    Competency.service: ("sla_compliance", "service_rating", "complaints"),
    Competency.relationship: ("risk_adjusted_retention", "contact_coverage", "nps", "rm_rating"),
    Competency.digital: ("digital_contact_share",),
}
#: fewer RMs with a value than this: no quartile, no figure is called weak
MIN_RMS = 4


@dataclass(frozen=True, slots=True)
class LinkedFigure:
    metric: str
    value: float | None
    branch: float | None
    #: the RM's rank among the month's RMs with a value, 1 = best (None: no value)
    rank: int | None
    of: int
    weak: bool


@dataclass(frozen=True, slots=True)
class CompetencyGap:
    competency: str
    score: int | None
    low_score: bool
    figures: list[LinkedFigure] = field(default_factory=list)

    @property
    def weak_figures(self) -> list[str]:
        return [f.metric for f in self.figures if f.weak]

    @property
    def is_gap(self) -> bool:
        return self.low_score or bool(self.weak_figures)


@dataclass(frozen=True, slots=True)
class CapabilityGaps:
    staff_id: str
    month: date
    assessed_on: date | None
    competencies: list[CompetencyGap]

    @property
    def gaps(self) -> list[CompetencyGap]:
        return [c for c in self.competencies if c.is_gap]

    def to_dict(self) -> dict[str, Any]:
        return {
            "staff_id": self.staff_id,
            "month": f"{self.month:%Y-%m}",
            "assessed_on": None if self.assessed_on is None else self.assessed_on.isoformat(),
            "competencies": [
                asdict(c) | {"is_gap": c.is_gap, "weak_figures": c.weak_figures} for c in self.competencies
            ],
        }


def _rank(values: dict[str, float], staff_id: str, higher_is_better: bool) -> tuple[int | None, int]:
    if staff_id not in values:
        return None, len(values)
    mine = values[staff_id]
    better = sum(1 for v in values.values() if (v > mine if higher_is_better else v < mine))
    return better + 1, len(values)


def gaps(session: Session, *, user: Person, staff_id: str, month: date, settings: Settings) -> CapabilityGaps:
    """``staff_id``'s competencies in ``month``: the latest assessment up to the month's end and the linked
    figures of the month's stored scorecards (none when the month is not computed)."""
    month = month.replace(day=1)
    found = capability.list_assessments(session, user=user, staff_id=staff_id)
    month_end = add_months(month, 1)
    latest = next((a for a in found if a.assessed_on < month_end), None)
    if latest is None and not capability.list_qualifications(session, user=user, staff_id=staff_id):
        # an RM with no records at all may still exist: let the scope check speak
        capability._subject(session, user=user, staff_id=staff_id, write=False)
    try:
        cards = service.get_all(session, month=month)
    except NotFound:
        cards = None
    values: dict[str, dict[str, float]] = {}
    branch: dict[str, float | None] = {}
    if cards is not None:
        for key in {k for keys in LINKS.values() for k in keys}:
            values[key] = {r.unit_id: v for r in cards.rms if (v := r.figures.get(key)) is not None}
        branches = [r for r in cards.rows if r.level.value == "branch"]
        branch = dict(branches[0].figures) if len(branches) == 1 else {}
    out = []
    for competency, keys in LINKS.items():
        score = None if latest is None else latest.scores[competency.value]
        figures = []
        for key in keys:
            better = METRICS[key].higher_is_better is not False
            ranked = values.get(key, {})
            rank, of = _rank(ranked, staff_id, better)
            weak = rank is not None and of >= MIN_RMS and (rank - 1) >= 0.75 * (of - 1)
            figures.append(LinkedFigure(key, ranked.get(staff_id), branch.get(key), rank, of, weak))
        low = score is not None and score <= settings.capability.gap_max_score
        out.append(CompetencyGap(competency.value, score, low, figures))
    return CapabilityGaps(staff_id, month, None if latest is None else latest.assessed_on, out)
