"""Settings: every business rule a bank would tune, in one class, read from one TOML file.

Precedence, highest first: keyword arguments, environment variables (``WEALTHCRM_…``, nested with
``__``, e.g. ``WEALTHCRM_TIERS__GRACE_MONTHS=4``), the settings file, the defaults below.
The settings file is ``--settings PATH`` / ``WEALTHCRM_SETTINGS_FILE``, else ``./wealthcrm.toml``, else
``wealthcrm.toml`` in the user data directory, if either exists. Nothing is read at import time:
call :func:`load_settings`.
"""

from __future__ import annotations

import itertools
import os
from datetime import date, time
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from wealthcrm.vocab import TIER_ORDER, Priority, ProductRisk, ProductType, Tier

SETTINGS_FILE_ENV = "WEALTHCRM_SETTINGS_FILE"
SETTINGS_FILE_NAME = "wealthcrm.toml"
#: the branch's time zone unless ``sla.time_zone`` says otherwise
DEFAULT_TIME_ZONE = "Asia/Shanghai"


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("wealthcrm", appauthor=False))


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TierSettings(_Section):
    """Tier thresholds on month-average daily AUM (CNY) and the downgrade grace period."""

    gold_min: float = Field(50_000, gt=0, description="Lowest month-average AUM of gold (CNY).")
    sunflower_min: float = Field(
        500_000, gt=0, description="Lowest month-average AUM of sunflower (CNY); CMB's published band."
    )
    diamond_min: float = Field(5_000_000, gt=0, description="Lowest month-average AUM of diamond (CNY).")
    private_min: float = Field(
        10_000_000, gt=0, description="Lowest month-average AUM of private banking (CNY); CMB's band."
    )
    grace_months: int = Field(
        3, ge=1, le=24, description="Consecutive months below the tier before a downgrade (gold to diamond)."
    )
    private_grace_months: int = Field(
        6,
        ge=1,
        le=24,
        description="Consecutive months below the tier before a private customer is downgraded.",
    )

    @model_validator(mode="after")
    def _ascending(self) -> TierSettings:
        mins = [self.gold_min, self.sunflower_min, self.diamond_min, self.private_min]
        if any(a >= b for a, b in itertools.pairwise(mins)):
            raise ValueError(
                "tier thresholds must rise: gold_min < sunflower_min < diamond_min < private_min"
            )
        return self

    def threshold(self, tier: Tier) -> float:
        """The lowest AUM of a tier (0 for mass)."""
        return {
            Tier.mass: 0.0,
            Tier.gold: self.gold_min,
            Tier.sunflower: self.sunflower_min,
            Tier.diamond: self.diamond_min,
            Tier.private: self.private_min,
        }[tier]

    def thresholds(self) -> list[float]:
        """Lowest AUM of each tier in ``TIER_ORDER``."""
        return [self.threshold(t) for t in TIER_ORDER]

    def grace(self, tier: Tier) -> int:
        return self.private_grace_months if tier is Tier.private else self.grace_months


class ChurnSettings(_Section):
    """What counts as customer loss and asset loss, and the prediction horizon."""

    customer_loss_min_tier: Tier = Field(
        Tier.sunflower, description="Customers at or above this tier count when they fall below it or close."
    )
    asset_loss_drop: float = Field(
        0.30, gt=0, lt=1, description="Asset loss: total AUM falls by at least this share …"
    )
    asset_loss_lookback_months: int = Field(3, ge=1, le=12, description="… against this many months earlier.")
    horizon_months: int = Field(
        3, ge=1, le=12, description="Prediction target: customer loss within this many months."
    )
    zero_aum_max: float = Field(
        1_000, ge=0, description="A customer whose month-average AUM is at most this (CNY) counts as AUM ≈ 0."
    )


class NightlySettings(_Section):
    """How the nightly batch works through a large branch."""

    slice_customers: int = Field(
        200_000,
        ge=1,
        description="The nightly reads and scores the customers in slices of this many (by customer ID), "
        "so its memory grows with the slice, not with the branch.",
    )


class LifecycleSettings(_Section):
    """Thresholds of the monthly lifecycle stage."""

    onboarding_months: int = Field(
        6, ge=1, le=36, description="Months in tier during which a customer is onboarding."
    )
    declining_drop: float = Field(0.20, gt=0, lt=1, description="Declining: AUM down at least this share …")
    declining_lookback_months: int = Field(3, ge=1, le=12, description="… over this many months.")
    growing_rise: float = Field(
        0.05, gt=0, lt=1, description="Growing: AUM up at least this share over the declining look-back."
    )


class CadenceSettings(_Section):
    """Minimum meaningful contacts per tier (days between contacts); overdue contacts become tasks."""

    sunflower_days: int = Field(
        30, ge=1, description="Sunflower customers: at least one contact every N days."
    )
    diamond_days: int = Field(14, ge=1, description="Diamond customers: every N days.")
    private_days: int = Field(7, ge=1, description="Private banking customers: every N days.")
    gold_prospect_days: int = Field(
        90, ge=1, description="Gold prospects (see gold_prospect_min_aum): every N days."
    )
    gold_prospect_min_aum: float = Field(
        300_000, ge=0, description="A gold customer with at least this AUM and rising is a prospect."
    )


class TaskSettings(_Section):
    """The nightly task list (Today): who is at risk enough for a retention task, how far ahead to look."""

    retention_min_p_loss: float = Field(
        0.10, ge=0, le=1, description="Retention task: a scored customer with P(loss) at least this …"
    )
    retention_min_aum_at_risk: float = Field(
        50_000,
        ge=0,
        description="… and AUM at risk at least this (CNY), or with an open high-severity alert.",
    )
    maturity_days: int = Field(
        14, ge=1, le=90, description="Maturity task: positions maturing within N days."
    )
    birthday_days: int = Field(7, ge=0, le=31, description="Birthday task: birthdays within the next N days.")
    assessment_days: int = Field(
        30, ge=0, le=180, description="Assessment task: risk assessments expiring within N days (or expired)."
    )
    survey_days: int = Field(
        90, ge=1, le=365, description="Survey recovery task: a detractor NPS answer within the last N days."
    )
    cadence_max_per_rm: int = Field(
        20,
        ge=0,
        le=10_000,
        description="Contact-due tasks: at most N open per RM, most valuable customers first (0: no cap).",
    )


class AlertSettings(_Section):
    """Early-warning thresholds."""

    large_outflow_amount: float = Field(
        200_000, gt=0, description="A single outflow of at least this (CNY) alerts …"
    )
    large_outflow_share: float = Field(0.30, gt=0, le=1, description="… or of at least this share of AUM.")
    reinvest_days: int = Field(7, ge=1, description="A matured product not reinvested within N days alerts.")
    other_bank_min_amount: float = Field(
        50_000, ge=0, description="A month's transfers out to other banks alert from this total (CNY)."
    )
    near_threshold_margin: float = Field(
        0.10, gt=0, lt=1, description="AUM within this share above the tier threshold and falling alerts."
    )
    activity_collapse_ratio: float = Field(
        0.5, gt=0, lt=1, description="Logins or transactions below this share of their 3-month average alert."
    )
    detractor_max_score: int = Field(
        6, ge=0, le=10, description="NPS answers up to this score are detractors."
    )


class SuitabilitySettings(_Section):
    """Investor suitability (投资者适当性)."""

    assessment_valid_months: int = Field(
        12, ge=1, le=36, description="A risk assessment is valid this many months."
    )
    recording_required_types: list[str] = Field(
        default_factory=lambda: ["wmp", "fund", "insurance", "precious_metal"],
        description="Product types whose in-branch sale needs an audio-video recording (双录).",
    )


class RecommendationSettings(_Section):
    """Next best actions: when each generator proposes something (see docs/workbench-recommendations.md)."""

    reinvest_window_days: int = Field(
        30, ge=1, le=365, description="Reinvest: open positions maturing within this many days from today."
    )
    idle_share: float = Field(
        0.30, gt=0, lt=1, description="Idle deposits: demand deposits above this share of AUM …"
    )
    idle_min_amount: float = Field(
        200_000, ge=0, description="… and of at least this amount (CNY) are proposed for a low-risk product."
    )
    idle_reserve_amount: float = Field(
        50_000,
        ge=0,
        description="Idle deposits: this much (CNY) stays liquid; the rest is the amount proposed.",
    )
    idle_max_product_risk: ProductRisk = Field(
        ProductRisk.R2, description="Idle deposits: the highest product risk proposed (a low-risk product)."
    )
    idle_product_types: list[str] = Field(
        default_factory=lambda: ["wmp", "time_deposit", "bond"],
        description="Idle deposits: product types proposed, preferred first.",
    )
    deepen_min_aum: float = Field(
        50_000, ge=0, description="Single-product customers from this AUM (CNY) are offered a second class."
    )
    deepen_min_class_amount: float = Field(
        1_000, ge=0, description="An asset class counts as held from this month-average balance (CNY)."
    )
    deepen_product_types: list[str] = Field(
        default_factory=lambda: ["time_deposit", "wmp", "fund", "bond", "insurance", "precious_metal"],
        description="Single-product customers: product types offered as the second class, preferred first.",
    )
    upgrade_min_aum: float = Field(
        400_000,
        ge=0,
        description="Upgrade prospects: gold customers from this AUM (CNY) up to sunflower_min …",
    )
    upgrade_lookback_months: int = Field(
        3, ge=1, le=12, description="… whose AUM is higher than this many months earlier."
    )
    upgrade_product_types: list[str] = Field(
        default_factory=lambda: ["wmp", "time_deposit", "fund"],
        description="Upgrade prospects: product types proposed for the new money, preferred first.",
    )

    @model_validator(mode="after")
    def _known_types(self) -> RecommendationSettings:
        known = {t.value for t in ProductType}
        for name in ("idle_product_types", "deepen_product_types", "upgrade_product_types"):
            unknown = [t for t in getattr(self, name) if t not in known]
            if unknown:
                raise ValueError(f"{name}: unknown product types {unknown}; known: {sorted(known)}")
        return self


class ImportSettings(_Section):
    """The data-contract importer."""

    max_future_days: int = Field(0, ge=0, description="Dates up to this many days after today are accepted.")
    fallback_encoding: str = Field(
        "gb18030", description="Encoding tried for a CSV that is not valid UTF-8 (GB18030 covers GBK/GB2312)."
    )


class WebSettings(_Section):
    """The web application: login sessions and account lockout."""

    session_secret: SecretStr | None = Field(
        None,
        description="Key that signs the session cookie; default: a random key file created in data_dir.",
    )
    session_max_age_minutes: int = Field(
        480, ge=5, le=7 * 24 * 60, description="A login lasts this many minutes; then the user logs in again."
    )
    lockout_attempts: int = Field(
        5, ge=1, le=100, description="Wrong passwords in a row that lock an account …"
    )
    lockout_minutes: int = Field(15, ge=1, le=24 * 60, description="… for this many minutes.")
    cookie_secure: bool = Field(
        False, description="Send the session cookie over HTTPS only (set true when served behind TLS)."
    )
    threads: int = Field(
        1,
        ge=1,
        le=64,
        description="Requests whose database work runs at once in one server process. Scale with "
        "processes (uvicorn --workers, 2 per core), not threads: threads of one process share its "
        "interpreter lock, and more than one made requests slower under load (docs/workbench.md).",
    )


class SecuritySettings(_Section):
    """Who may unmask PII; how long API tokens, service-desk look-ups and delegations last."""

    unmask_roles: list[str] = Field(
        default_factory=lambda: ["rm", "team_lead", "branch_manager"],
        description="Roles that may unmask a national ID or mobile number of a customer in their scope.",
    )
    unmask_reason_min_length: int = Field(
        4,
        ge=1,
        le=200,
        description="Unmasking and look-ups need a reason at least this many characters long.",
    )
    api_token_hours: int = Field(
        8,
        ge=1,
        le=24 * 90,
        description="An API token issued by POST /api/v1/auth/token lasts this many hours.",
    )
    lookup_grant_hours: int = Field(
        8,
        ge=1,
        le=24 * 7,
        description="A service-desk look-up lets the user open the customer this many hours.",
    )
    delegation_max_days: int = Field(
        92, ge=1, le=366, description="A delegation (holiday cover) lasts at most this many days."
    )

    @model_validator(mode="after")
    def _known_roles(self) -> SecuritySettings:
        from wealthcrm.vocab import Role

        unknown = sorted(set(self.unmask_roles) - {r.value for r in Role})
        if unknown:
            raise ValueError(f"unmask_roles: unknown roles {unknown}")
        if {"service", "analyst"} & set(self.unmask_roles):
            raise ValueError("unmask_roles: service staff and analysts never see unmasked PII (SPEC)")
        return self


_TIERS_NOTE = "business hours by tier: mass, gold, sunflower, diamond, private"


def _hours(*values: float) -> list[float]:
    return [float(v) for v in values]


def _five(values: list[float], name: str) -> list[float]:
    if len(values) != len(TIER_ORDER) or any(v <= 0 for v in values):
        raise ValueError(f"{name}: {len(TIER_ORDER)} positive numbers of hours (mass … private)")
    return values


class AcknowledgeHours(_Section):
    """Business hours to acknowledge a request, per type: five numbers, mass … private."""

    inquiry: list[float] = Field(
        default_factory=lambda: _hours(8, 4, 2, 1, 1), description=f"Inquiry: {_TIERS_NOTE}."
    )
    transaction_problem: list[float] = Field(
        default_factory=lambda: _hours(4, 2, 1, 1, 0.5), description=f"Transaction problem: {_TIERS_NOTE}."
    )
    complaint: list[float] = Field(
        default_factory=lambda: _hours(4, 2, 2, 1, 1), description=f"Complaint: {_TIERS_NOTE}."
    )
    appointment: list[float] = Field(
        default_factory=lambda: _hours(8, 8, 4, 2, 1), description=f"Appointment: {_TIERS_NOTE}."
    )
    entitlement: list[float] = Field(
        default_factory=lambda: _hours(8, 8, 4, 2, 1), description=f"Entitlement: {_TIERS_NOTE}."
    )

    @model_validator(mode="after")
    def _shape(self) -> AcknowledgeHours:
        for name in type(self).model_fields:
            _five(getattr(self, name), f"sla.acknowledge_hours.{name}")
        return self

    def hours(self, request_type: str, tier: Tier) -> float:
        return float(getattr(self, request_type)[TIER_ORDER.index(tier)])


class ResolveHours(_Section):
    """Business hours to resolve a request, per type (8 h = one working day of 09:00–17:00)."""

    inquiry: list[float] = Field(
        default_factory=lambda: _hours(16, 16, 8, 8, 4), description=f"Inquiry: {_TIERS_NOTE}."
    )
    transaction_problem: list[float] = Field(
        default_factory=lambda: _hours(24, 24, 16, 8, 8), description=f"Transaction problem: {_TIERS_NOTE}."
    )
    complaint: list[float] = Field(
        default_factory=lambda: _hours(40, 40, 16, 16, 8),
        description=f"Complaint: {_TIERS_NOTE} (sunflower: 2 working days).",
    )
    appointment: list[float] = Field(
        default_factory=lambda: _hours(16, 16, 8, 8, 4), description=f"Appointment: {_TIERS_NOTE}."
    )
    entitlement: list[float] = Field(
        default_factory=lambda: _hours(40, 40, 24, 16, 8), description=f"Entitlement: {_TIERS_NOTE}."
    )

    @model_validator(mode="after")
    def _shape(self) -> ResolveHours:
        for name in type(self).model_fields:
            _five(getattr(self, name), f"sla.resolve_hours.{name}")
        return self

    def hours(self, request_type: str, tier: Tier) -> float:
        return float(getattr(self, request_type)[TIER_ORDER.index(tier)])


_PRIORITIES = ", ".join(p.value for p in Priority)


class DefaultPriority(_Section):
    """The priority a new request gets when staff choose none, per tier and value segment."""

    mass: Priority = Field(
        Priority.normal,
        description=f"Priority of a new request of a mass customer when staff choose none ({_PRIORITIES}).",
    )
    gold: Priority = Field(Priority.normal, description="… of a gold customer.")
    sunflower: Priority = Field(Priority.normal, description="… of a sunflower customer.")
    diamond: Priority = Field(Priority.high, description="… of a diamond customer.")
    private: Priority = Field(Priority.high, description="… of a private banking customer.")
    gold_prospect: Priority | None = Field(
        None,
        description="… of a gold prospect (see cadence.gold_prospect_min_aum); not set: as gold.",
    )

    @field_validator("*", mode="before")
    @classmethod
    def _known(cls, value: object, info: Any) -> object:
        if value is None or isinstance(value, Priority):
            return value
        if not isinstance(value, str) or value.strip().lower() not in {p.value for p in Priority}:
            raise ValueError(
                f"sla.default_priority.{info.field_name}: {value!r} is not a priority (use {_PRIORITIES})"
            )
        return value.strip().lower()

    def of(self, tier: Tier, *, gold_prospect: bool = False) -> Priority:
        """The default of ``tier``; a gold prospect's own when it is set."""
        if gold_prospect and tier is Tier.gold and self.gold_prospect is not None:
            return self.gold_prospect
        priority: Priority = getattr(self, tier.value)
        return priority


class SlaSettings(_Section):
    """Service SLAs per tier × request type, counted in business hours on the branch's working calendar."""

    time_zone: str = Field(
        DEFAULT_TIME_ZONE,
        description="The branch's time zone: business hours, working days, years and the app's today are "
        "local, and so are the date-times of imported files.",
    )
    business_start: time = Field(time(9, 0), description="Business hours start (local time) …")
    business_end: time = Field(time(17, 0), description="… and end; SLA clocks run only in between.")
    public_holidays: list[date] = Field(
        default_factory=list,
        description="Public holidays (法定节假日): no SLA time on these days (State Council notice).",
    )
    makeup_workdays: list[date] = Field(
        default_factory=list,
        description="Make-up working days (调休上班日), e.g. a Saturday that is a working day.",
    )
    acknowledge_hours: AcknowledgeHours = Field(default_factory=AcknowledgeHours)
    resolve_hours: ResolveHours = Field(default_factory=ResolveHours)
    escalation_after_hours: list[float] = Field(
        default_factory=lambda: _hours(0, 4, 8),
        description="Escalation on breach: business hours after the missed due time when the assignee, "
        "the team lead and the branch manager are told (one number per step).",
    )
    default_priority: DefaultPriority = Field(default_factory=DefaultPriority)
    complaint_priority_raise: bool = Field(
        True,
        description="A complaint's default priority is one step above its tier's (normal → high → urgent).",
    )

    @model_validator(mode="after")
    def _check(self) -> SlaSettings:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"sla.time_zone: unknown time zone {self.time_zone!r}") from exc
        if self.business_start >= self.business_end:
            raise ValueError("sla: business_start must be before business_end")
        both = sorted(set(self.public_holidays) & set(self.makeup_workdays))
        if both:
            raise ValueError(f"sla: days both holiday and make-up working day: {both}")
        steps = self.escalation_after_hours
        if (
            not 1 <= len(steps) <= 3
            or any(a < 0 for a in steps)
            or any(a >= b for a, b in itertools.pairwise(steps))
        ):
            raise ValueError(
                "sla.escalation_after_hours: 1 to 3 rising numbers ≥ 0 (assignee, team lead, manager)"
            )
        return self


class BenefitSettings(_Section):
    """One benefit of the entitlement catalogue."""

    code: str = Field(pattern=r"^[a-z][a-z0-9_]{1,49}$", description="Code name, e.g. airport_lounge.")
    cost: float = Field(ge=0, description="What one use costs the branch (CNY).")
    quotas: dict[str, int | Literal["unlimited"]] = Field(
        description="Uses per calendar year for each eligible tier; a tier not listed is not eligible."
    )

    @model_validator(mode="after")
    def _tiers(self) -> BenefitSettings:
        unknown = sorted(set(self.quotas) - {t.value for t in Tier})
        if unknown:
            raise ValueError(f"benefit {self.code}: unknown tiers {unknown}")
        if any(q != "unlimited" and q < 1 for q in self.quotas.values()):
            raise ValueError(f'benefit {self.code}: a quota is at least 1 (or "unlimited")')
        return self

    def quota(self, tier: Tier) -> int | None:
        """Yearly uses for ``tier``: None when unlimited; 0 when not eligible."""
        q = self.quotas.get(tier.value, 0)
        return None if q == "unlimited" else int(q)


def _default_benefits() -> list[BenefitSettings]:
    u: Literal["unlimited"] = "unlimited"
    return [
        BenefitSettings(
            code="airport_lounge", cost=150, quotas={"sunflower": 2, "diamond": 6, "private": 12}
        ),
        BenefitSettings(code="airport_vip_lane", cost=300, quotas={"diamond": 2, "private": 6}),
        BenefitSettings(code="health_checkup", cost=800, quotas={"sunflower": 1, "diamond": 1, "private": 2}),
        BenefitSettings(code="priority_queue", cost=0, quotas={"sunflower": u, "diamond": u, "private": u}),
        BenefitSettings(
            code="fee_waiver", cost=25, quotas={"gold": 12, "sunflower": u, "diamond": u, "private": u}
        ),
    ]


class EntitlementSettings(_Section):
    """The catalogue of tier benefits with yearly quotas (see docs/service.md)."""

    grace_months: int = Field(
        3, ge=0, le=24, description="A downgraded customer keeps the higher tier's benefits this many months."
    )
    benefits: list[BenefitSettings] = Field(
        default_factory=_default_benefits,
        description="The catalogue: code, cost per use (CNY), quotas per tier per calendar year.",
    )

    @model_validator(mode="after")
    def _unique(self) -> EntitlementSettings:
        codes = [b.code for b in self.benefits]
        if len(codes) != len(set(codes)):
            raise ValueError("entitlements.benefits: codes must be unique")
        return self

    def benefit(self, code: str) -> BenefitSettings | None:
        return next((b for b in self.benefits if b.code == code), None)


class AppointmentSettings(_Section):
    """VIP appointments (wealth consultation, lounge, special counter): slots in business hours."""

    slot_minutes: int = Field(30, ge=5, le=240, description="Length of one appointment slot (minutes).")
    min_tier: Tier = Field(Tier.sunflower, description="The lowest tier that may book VIP services.")
    max_days_ahead: int = Field(
        30, ge=1, le=365, description="Slots may be booked up to this many days ahead."
    )
    wealth_consultation_capacity: int = Field(
        2, ge=1, le=100, description="Wealth consultations per slot (advisers on duty)."
    )
    lounge_capacity: int = Field(8, ge=1, le=500, description="Lounge places per slot.")
    special_counter_capacity: int = Field(1, ge=1, le=100, description="Special-counter customers per slot.")

    def capacity(self, service: str) -> int:
        return int(getattr(self, f"{service}_capacity"))


class SurveySettings(_Section):
    """Survey distribution: the public answer form's rate limits (per client address and per token)."""

    form_ip_requests: int = Field(
        60,
        ge=1,
        le=100_000,
        description="Public survey form: at most this many requests per client address per window (429).",
    )
    form_token_requests: int = Field(
        20, ge=1, le=10_000, description="Public survey form: at most this many requests per link per window."
    )
    form_window_seconds: int = Field(
        600, ge=1, le=86_400, description="The public survey form's rate-limit window (seconds)."
    )


class WorkloadSettings(_Section):
    """Customers per RM: the most of each tier one RM looks after (the rebalancing proposal's capacity)."""

    mass_target: int = Field(0, ge=0, description="Mass customers per RM (0: no target, never rebalanced).")
    gold_target: int = Field(200, ge=0, description="Gold customers per RM (0: no target).")
    sunflower_target: int = Field(80, ge=0, description="Sunflower customers per RM (0: no target).")
    diamond_target: int = Field(15, ge=0, description="Diamond customers per RM (0: no target).")
    private_target: int = Field(5, ge=0, description="Private banking customers per RM (0: no target).")

    def target(self, tier: Tier) -> int:
        """Customers of ``tier`` one RM looks after at most; 0 when the tier has no target."""
        return int(getattr(self, f"{tier.value}_target"))


class ScorecardSettings(_Section):
    """The RM scorecard (docs/scorecards.md)."""

    window_months: int = Field(
        12,
        ge=1,
        le=36,
        description="Risk window: customers are followed for up to N months against the churn model's "
        "expectation; survey answers of the last N months count.",
    )


class CapabilitySettings(_Section):
    """RM capability records: qualifications, training, competency assessments."""

    qualification_warning_days: int = Field(
        60, ge=1, le=365, description="A qualification expiring within N days (or expired) raises a task."
    )
    gap_max_score: int = Field(
        2, ge=1, le=4, description="A competency scored at most this (of 5) is a capability gap."
    )


class Settings(BaseSettings):
    """The effective settings of one wealthcrm installation."""

    model_config = SettingsConfigDict(
        env_prefix="WEALTHCRM_", env_nested_delimiter="__", extra="forbid", frozen=True
    )

    database_url: str | None = Field(None, description="SQLAlchemy URL; default: a SQLite file in data_dir.")
    data_dir: Path = Field(
        default_factory=default_data_dir, description="Where the default database and keys live."
    )
    field_key: SecretStr | None = Field(
        None,
        description="Base64 32-byte key for PII encrypted at rest; default: a key file created in data_dir.",
    )
    locale: Literal["zh_CN", "en"] = Field(
        "zh_CN", description="Default language of pages and reports: zh_CN or en."
    )
    tiers: TierSettings = Field(default_factory=TierSettings)
    churn: ChurnSettings = Field(default_factory=ChurnSettings)
    lifecycle: LifecycleSettings = Field(default_factory=LifecycleSettings)
    nightly: NightlySettings = Field(default_factory=NightlySettings)
    cadence: CadenceSettings = Field(default_factory=CadenceSettings)
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    tasks: TaskSettings = Field(default_factory=TaskSettings)
    suitability: SuitabilitySettings = Field(default_factory=SuitabilitySettings)
    recommendations: RecommendationSettings = Field(default_factory=RecommendationSettings)
    imports: ImportSettings = Field(default_factory=ImportSettings)
    web: WebSettings = Field(default_factory=WebSettings)
    security: SecuritySettings = Field(default_factory=SecuritySettings)
    sla: SlaSettings = Field(default_factory=SlaSettings)
    entitlements: EntitlementSettings = Field(default_factory=EntitlementSettings)
    appointments: AppointmentSettings = Field(default_factory=AppointmentSettings)
    surveys: SurveySettings = Field(default_factory=SurveySettings)
    workload: WorkloadSettings = Field(default_factory=WorkloadSettings)
    scorecards: ScorecardSettings = Field(default_factory=ScorecardSettings)
    capability: CapabilitySettings = Field(default_factory=CapabilitySettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_file = settings_cls.model_config.get("toml_file")
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if toml_file:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_file))
        return tuple(sources)

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'wealthcrm.db'}"


def find_settings_file(explicit: Path | None = None) -> Path | None:
    """The settings file in force: explicit, then $WEALTHCRM_SETTINGS_FILE, ./wealthcrm.toml, data dir."""
    if explicit is not None:
        if not explicit.is_file():
            raise FileNotFoundError(f"settings file not found: {explicit}")
        return explicit
    env = os.environ.get(SETTINGS_FILE_ENV)
    if env:
        path = Path(env)
        if not path.is_file():
            raise FileNotFoundError(f"{SETTINGS_FILE_ENV} names a missing file: {path}")
        return path
    for candidate in (Path.cwd() / SETTINGS_FILE_NAME, default_data_dir() / SETTINGS_FILE_NAME):
        if candidate.is_file():
            return candidate
    return None


def load_settings(settings_file: Path | None = None, **overrides: Any) -> Settings:
    """Read the effective settings (see module docstring for precedence)."""
    path = find_settings_file(settings_file)
    if path is None:
        return Settings(**overrides)

    class _FromFile(Settings):
        model_config = SettingsConfigDict(toml_file=path)

    return _FromFile(**overrides)


def iter_setting_fields(model: type[BaseModel] = Settings, prefix: str = "") -> list[tuple[str, Any, str]]:
    """Every leaf setting as (dotted name, default, description): the source of `config show` and the docs."""
    out: list[tuple[str, Any, str]] = []
    for name, field in model.model_fields.items():
        ann = field.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            out.extend(iter_setting_fields(ann, f"{prefix}{name}."))
        else:
            default = (
                field.get_default(call_default_factory=True) if name != "data_dir" else "<user data dir>"
            )
            out.append((f"{prefix}{name}", default, field.description or ""))
    return out
