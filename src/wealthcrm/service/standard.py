"""The service standard (服务标准): what each tier — and the gold-prospect value segment — gets, all read
from the settings, so the page staff read and the rules the app applies cannot drift apart.

Per segment: the AUM band (``tiers``), the service priority, the SLA of each request type in business
hours (``sla.acknowledge_hours`` / ``sla.resolve_hours``), the contact cadence (``cadence``), the
benefits with their yearly quotas (``entitlements.benefits``) and whether VIP appointments are open to it
(``appointments.min_tier``).

*Priority*: the desk serves requests in order of their SLA due time, so a tier's priority is how short
its SLAs are. The standard ranks the tiers by their mean acknowledgement target over the request types
(P1 = the shortest; equal means share a rank) and shows whether the tier has the ``priority_queue``
benefit. A gold prospect (gold, AUM ≥ ``cadence.gold_prospect_min_aum`` and rising) has gold's SLAs and
benefits and its own cadence.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from wealthcrm.config import Settings
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
    priority: int  # 1 = served first
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


def _priorities(settings: Settings) -> dict[Tier, int]:
    """Dense rank of the tiers by mean acknowledgement hours over the request types, shortest first."""
    sla = settings.sla
    mean = {
        t: round(sum(sla.acknowledge_hours.hours(k.value, t) for k in RequestType) / len(RequestType), 6)
        for t in TIER_ORDER
    }
    levels = sorted(set(mean.values()))
    return {t: levels.index(mean[t]) + 1 for t in TIER_ORDER}


def service_standard(settings: Settings) -> ServiceStandard:
    """The standard of every tier, lowest first, with the gold prospects after gold."""
    sla = settings.sla
    types = [t.value for t in RequestType]
    priority = _priorities(settings)
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
            "priority": priority[tier],
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
