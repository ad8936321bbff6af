"""The fixed vocabulary of the domain (see GLOSSARY.md): code names shared by models, rules and imports.

Values are the code names; what a bank may tune (thresholds, periods) lives in settings, not here.
"""

from __future__ import annotations

from enum import StrEnum


class Tier(StrEnum):
    """Customer tiers in ascending order of month-average AUM."""

    mass = "mass"
    gold = "gold"
    sunflower = "sunflower"
    diamond = "diamond"
    private = "private"

    @property
    def rank(self) -> int:
        return TIER_ORDER.index(self)


TIER_ORDER: tuple[Tier, ...] = (Tier.mass, Tier.gold, Tier.sunflower, Tier.diamond, Tier.private)


class Role(StrEnum):
    rm = "rm"
    team_lead = "team_lead"
    branch_manager = "branch_manager"
    service = "service"
    analyst = "analyst"
    auditor = "auditor"
    admin = "admin"


class StaffStatus(StrEnum):
    active = "active"
    on_leave = "on_leave"
    left = "left"


class Gender(StrEnum):
    male = "M"
    female = "F"


class RiskLevel(StrEnum):
    """Customer risk tolerance from the suitability questionnaire (C1 conservative … C5 aggressive)."""

    C1 = "C1"
    C2 = "C2"
    C3 = "C3"
    C4 = "C4"
    C5 = "C5"


class ProductRisk(StrEnum):
    """Product risk rating (R1 low … R5 high)."""

    R1 = "R1"
    R2 = "R2"
    R3 = "R3"
    R4 = "R4"
    R5 = "R5"


class CustomerStatus(StrEnum):
    active = "active"
    closed = "closed"


class AssetClass(StrEnum):
    """Asset classes that make up AUM (SPEC "AUM"); foreign-currency deposits are converted to CNY."""

    demand_deposit = "demand_deposit"
    time_deposit = "time_deposit"
    wmp = "wmp"
    fund = "fund"
    insurance = "insurance"
    bond = "bond"
    precious_metal = "precious_metal"
    custody = "custody"


class ProductType(StrEnum):
    demand_deposit = "demand_deposit"
    time_deposit = "time_deposit"
    wmp = "wmp"
    fund = "fund"
    insurance = "insurance"
    bond = "bond"
    precious_metal = "precious_metal"
    custody = "custody"


class ProductStatus(StrEnum):
    on_sale = "on_sale"
    closed = "closed"


class PositionStatus(StrEnum):
    open = "open"
    matured = "matured"
    redeemed = "redeemed"


class Direction(StrEnum):
    inflow = "in"
    outflow = "out"


class TxnChannel(StrEnum):
    counter = "counter"
    mobile = "mobile"
    online = "online"
    atm = "atm"
    rm = "rm"
    batch = "batch"


class Counterparty(StrEnum):
    """Who is on the other side of a transaction; `other_bank` is the outflow the early warning watches."""

    own_account = "own_account"
    same_bank = "same_bank"
    other_bank = "other_bank"
    payroll = "payroll"
    merchant = "merchant"
    product = "product"
    cash = "cash"


class InteractionChannel(StrEnum):
    phone = "phone"
    visit = "visit"
    branch = "branch"
    video = "video"
    wechat = "wechat"
    sms = "sms"
    email = "email"


class InteractionPurpose(StrEnum):
    service = "service"
    review = "review"
    retention = "retention"
    sales = "sales"
    maturity = "maturity"
    complaint_followup = "complaint_followup"
    care = "care"
    other = "other"


class InteractionOutcome(StrEnum):
    reached = "reached"
    no_answer = "no_answer"
    declined = "declined"
    interested = "interested"
    sold = "sold"
    retained = "retained"
    lost = "lost"
    other = "other"


class Stage(StrEnum):
    """Lifecycle stage, assigned monthly in this order of precedence (SPEC "Lifecycle stages")."""

    churned = "churned"
    declining = "declining"
    onboarding = "onboarding"
    growing = "growing"
    mature = "mature"
    won_back = "won_back"


class AlertType(StrEnum):
    """Early-warning signals (SPEC "Early-warning signals")."""

    large_outflow = "large_outflow"
    outflow_other_bank = "outflow_other_bank"
    not_reinvested = "not_reinvested"
    near_threshold = "near_threshold"
    watch = "watch"
    payroll_stopped = "payroll_stopped"
    activity_collapse = "activity_collapse"
    complaint = "complaint"
    sla_breach = "sla_breach"
    detractor = "detractor"
    rm_changed = "rm_changed"
    risk_assessment_expired = "risk_assessment_expired"


class Severity(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"


class AlertStatus(StrEnum):
    open = "open"
    closed = "closed"


class RequestType(StrEnum):
    """Kinds of service request (SPEC "Service SLAs")."""

    inquiry = "inquiry"
    transaction_problem = "transaction_problem"
    complaint = "complaint"
    appointment = "appointment"
    entitlement = "entitlement"


class RequestStatus(StrEnum):
    new = "new"
    acknowledged = "acknowledged"
    in_progress = "in_progress"
    waiting_customer = "waiting_customer"
    resolved = "resolved"
    closed = "closed"


class ServiceChannel(StrEnum):
    branch = "branch"
    phone = "phone"
    mobile_app = "mobile_app"
    online = "online"
    wechat = "wechat"
    letter = "letter"


class Priority(StrEnum):
    normal = "normal"
    high = "high"
    urgent = "urgent"


class TaskKind(StrEnum):
    """Why a task is on an RM's list (issue "RM workbench": Today)."""

    retention = "retention"  # a customer at risk (AUM at risk, or a high-severity alert)
    maturity = "maturity"  # a product matures in the next days: propose reinvestment
    cadence = "cadence"  # the tier's minimum contact is overdue
    birthday = "birthday"
    assessment_expiry = "assessment_expiry"  # the risk assessment expires (or has expired)
    service_followup = "service_followup"  # a complaint or service request to follow up
    follow_up = "follow_up"  # a follow-up date set when logging an interaction
    handover = "handover"  # a customer reassigned to this RM, with the handover note
    survey_recovery = "survey_recovery"  # a survey detractor
    qualification_expiry = "qualification_expiry"  # the RM's own qualification expires (a staff task)
    other = "other"


class TaskStatus(StrEnum):
    open = "open"
    snoozed = "snoozed"
    done = "done"
    cancelled = "cancelled"


class TaskOutcome(StrEnum):
    """How a worked task ended; ``retained`` on a retention task counts as a save."""

    retained = "retained"
    reinvested = "reinvested"
    contacted = "contacted"
    no_answer = "no_answer"
    declined = "declined"
    lost = "lost"
    not_needed = "not_needed"


class RecommendationKind(StrEnum):
    """Next best actions (issue "RM workbench": Recommendations)."""

    reinvest_maturity = "reinvest_maturity"
    move_idle_deposits = "move_idle_deposits"
    deepen_single_product = "deepen_single_product"
    upgrade_prospect = "upgrade_prospect"


class RecommendationStatus(StrEnum):
    proposed = "proposed"  # passed the suitability gate
    blocked = "blocked"  # failed it; the reasons are stored
    override_requested = "override_requested"  # an RM asked a team lead to approve despite the block
    approved = "approved"  # a team lead approved the override (audited)
    rejected = "rejected"  # a team lead refused the override
    accepted = "accepted"  # the customer took it
    declined = "declined"  # the customer did not


class SaleChannel(StrEnum):
    in_branch = "in_branch"  # needs the audio-video recording (双录) and the customer's consent
    remote = "remote"
