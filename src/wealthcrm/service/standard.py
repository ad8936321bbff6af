"""The service standard (服务标准): what each tier — and the gold-prospect value segment — gets, all read
from the settings, so the page staff read and the rules the app applies cannot drift apart.

Per segment: the AUM band (``tiers``), the default priority of its requests (``sla.default_priority``)
and of its complaints (one step higher with ``sla.complaint_priority_raise``), the SLA of each request
type in business hours (``sla.acknowledge_hours`` / ``sla.resolve_hours``), the contact cadence
(``cadence``), the benefits with their yearly quotas (``entitlements.benefits``) and whether VIP
appointments are open to it (``appointments.min_tier``).

*Priority*: the desk serves urgent requests first, then high, then normal, and within a priority the
soonest SLA due time first (:func:`wealthcrm.service.service.list_requests`). A new request gets the
default priority shown here (:func:`wealthcrm.service.rules.default_priority`) unless staff choose
another; whether the tier has the ``priority_queue`` benefit is shown beside it. A gold prospect
(gold, AUM ≥ ``cadence.gold_prospect_min_aum`` and rising) has gold's SLAs and benefits, its own
cadence, and its own default priority when ``sla.default_priority.gold_prospect`` is set (else gold's).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from wealthcrm.config import Settings
from wealthcrm.service.rules import default_priority
from wealthcrm.vocab import TIER_ORDER, RequestType, Tier

GOLD_PROSPECT = "gold_prospect"
PRIORITY_QUEUE = "priority_queue"


@dataclass(frozen=True, slots=True)
class BenefitLine:
    benefit: str
    quota: int | None  # uses a year; None: unlimited
    cost: float


@dataclass(frozen=True, slots=True)
class Segment:
    segment: str  # a tier, or "gold_prospect"
    tier: str
    min_aum: float
    max_aum: float | None  # below this; None: no upper bound
    default_priority: str  # of a new request when staff choose none
    complaint_priority: str  # of a new complaint when staff choose none
    priority_queue: bool
    acknowledge_hours: dict[str, float]
    resolve_hours: dict[str, float]
    cadence_days: int | None
    benefits: list[BenefitLine]
    appointments: bool


@dataclass(frozen=True, slots=True)
class ServiceStandard:
    segments: list[Segment]
    request_types: list[str]
    business_hours: str  # "09:00–17:00"
    time_zone: str
    benefit_grace_months: int
    escalation_after_hours: list[float]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _cadence(settings: Settings, segment: str) -> int | None:
    c = settings.cadence
    return {
        Tier.sunflower.value: c.sunflower_days,
        Tier.diamond.value: c.diamond_days,
        Tier.private.value: c.private_days,
        GOLD_PROSPECT: c.gold_prospect_days,
    }.get(segment)


def _priorities(settings: Settings, tier: Tier, *, gold_prospect: bool = False) -> dict[str, Any]:
    """The default priority of the segment's requests, and of its complaints."""
    return {
        "default_priority": default_priority(
            settings.sla, tier=tier, request_type=RequestType.inquiry, gold_prospect=gold_prospect
        ).value,
        "complaint_priority": default_priority(
            settings.sla, tier=tier, request_type=RequestType.complaint, gold_prospect=gold_prospect
        ).value,
    }


def service_standard(settings: Settings) -> ServiceStandard:
    """The standard of every tier, lowest first, with the gold prospects after gold."""
    sla = settings.sla
    types = [t.value for t in RequestType]
    thresholds = settings.tiers.thresholds()
    segments = []
    for i, tier in enumerate(TIER_ORDER):
        benefits = [
            BenefitLine(b.code, b.quota(tier), b.cost)
            for b in settings.entitlements.benefits
            if b.quota(tier) != 0
        ]
        upper = thresholds[i + 1] if i + 1 < len(thresholds) else None
        common: dict[str, Any] = {
            "tier": tier.value,
            "priority_queue": any(b.benefit == PRIORITY_QUEUE for b in benefits),
            "acknowledge_hours": {k: sla.acknowledge_hours.hours(k, tier) for k in types},
            "resolve_hours": {k: sla.resolve_hours.hours(k, tier) for k in types},
            "benefits": benefits,
            "appointments": tier.rank >= settings.appointments.min_tier.rank,
        }
        segments.append(
            Segment(
                segment=tier.value,
                min_aum=thresholds[i],
                max_aum=upper,
                cadence_days=_cadence(settings, tier.value),
                **_priorities(settings, tier),
                **common,
            )
        )
        if tier is Tier.gold:
            segments.append(
                Segment(
                    segment=GOLD_PROSPECT,
                    min_aum=settings.cadence.gold_prospect_min_aum,
                    max_aum=upper,
                    cadence_days=_cadence(settings, GOLD_PROSPECT),
                    **_priorities(settings, tier, gold_prospect=True),
                    **common,
                )
            )
    return ServiceStandard(
        segments=segments,
        request_types=types,
        business_hours=f"{sla.business_start:%H:%M}–{sla.business_end:%H:%M}",
        time_zone=sla.time_zone,
        benefit_grace_months=settings.entitlements.grace_months,
        escalation_after_hours=list(sla.escalation_after_hours),
    )
