"""Recommendations: generated each night behind the suitability gate, worked by RMs, overridden by leads.

- :func:`generate` — the nightly: every generator of :mod:`.rules` on the customers that may qualify,
  stored as ``proposed`` or ``blocked`` (with the reasons); idempotent through ``source_key``;
- :func:`list_for_customer`, :func:`get` — inside the caller's scope (else :class:`NotFound`);
- :func:`record_outcome` — the customer accepted or declined; an acceptance re-runs the gate with the
  sale's channel, recording and consent and is refused (:class:`SaleBlocked`) when it fails;
- :func:`request_override`, :func:`decide_override`, :func:`pending_overrides` — a blocked
  recommendation goes ahead only when a team lead of the customer's RM's team (or the branch manager),
  never the requester, approves it.

Every change is written to the audit log in the same transaction. Nothing here commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, aliased

from wealthcrm.audit.service import record
from wealthcrm.config import Settings
from wealthcrm.customers.models import Customer
from wealthcrm.customers.scope import scope_filter
from wealthcrm.customers.service import get_customer
from wealthcrm.db import utcnow
from wealthcrm.errors import Conflict, Forbidden, Invalid, NotFound
from wealthcrm.holdings.models import AumMonthly
from wealthcrm.products.models import Product
from wealthcrm.recommendations import facts, rules
from wealthcrm.recommendations.models import Recommendation
from wealthcrm.staff.models import Staff
from wealthcrm.users.models import User
from wealthcrm.vocab import (
    ProductStatus,
    RecommendationKind,
    RecommendationStatus,
    Role,
    SaleChannel,
)

S = RecommendationStatus
#: still to be worked: a new proposal for the same customer and kind waits until these are settled
OPEN = (S.proposed, S.blocked, S.override_requested, S.approved)
#: roles that work recommendations with customers (record outcomes, request overrides)
SELLERS = frozenset({Role.rm, Role.team_lead, Role.branch_manager})
#: roles that decide override requests
APPROVERS = frozenset({Role.team_lead, Role.branch_manager})
MAX_TEXT = 2000
MAX_RECORDING_ID = 64
_CHUNK = 500  # ids per IN (...) list

# The messages of the errors below: the web layer lists the same strings for translation.
NOT_SELLER = "Your role may not work recommendations."
NOT_APPROVER = "Only a team lead or the branch manager decides override requests."
OUTCOME_INVALID = "The outcome is accepted or declined."
CANNOT_ACCEPT = "Only a proposed recommendation, or one whose override was approved, can be accepted."
CANNOT_DECLINE = "This recommendation is settled already."
CHANNEL_REQUIRED = "Choose the channel of the sale: in branch or remote."
NO_PRODUCT = "The recommendation names no product on the shelf."
RECORDING_TOO_LONG = "The recording id is too long (at most 64 characters)."
TEXT_TOO_LONG = "The text is too long (at most 2,000 characters)."
REASON_REQUIRED = "Give the reason for the override."
NOT_BLOCKED = "Only a blocked recommendation needs an override."
NOT_OVERRIDABLE = "The audio-video recording and the customer's consent cannot be overridden."
NOTE_REQUIRED = "Say why the override is rejected."
NO_REQUEST = "There is no override request to decide."
OWN_REQUEST = "You cannot decide your own override request."
NOT_TEAM = "Only a team lead of the customer's RM's team may decide this request."
SALE_BLOCKED = "The sale is blocked by the suitability gate."
NUL_CHARACTER = "The text contains a NUL character."
MESSAGES = (
    NOT_SELLER, NOT_APPROVER, OUTCOME_INVALID, CANNOT_ACCEPT, CANNOT_DECLINE, CHANNEL_REQUIRED, NO_PRODUCT,
    RECORDING_TOO_LONG, TEXT_TOO_LONG, REASON_REQUIRED, NOT_BLOCKED, NOT_OVERRIDABLE, NOTE_REQUIRED,
    NO_REQUEST, OWN_REQUEST, NOT_TEAM, SALE_BLOCKED, NUL_CHARACTER,
)  # fmt: skip


class Person(Protocol):
    """Who acts: a ``users.models.User`` or the web layer's signed-in value both fit."""

    @property
    def id(self) -> int: ...

    @property
    def username(self) -> str: ...

    @property
    def role(self) -> Role: ...

    @property
    def staff_id(self) -> str | None: ...


class SaleBlocked(Conflict):
    """The suitability gate refuses the sale; ``reasons`` are its codes (see :mod:`.rules`)."""

    def __init__(self, reasons: Sequence[str]) -> None:
        self.reasons = list(reasons)
        super().__init__(SALE_BLOCKED + " (" + ", ".join(self.reasons) + ")")


def _plain(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, StrEnum):
        return value.value
    return value


# --- reading ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RecommendationRow:
    id: int
    customer_id: str
    customer_name: str
    rm_id: str | None
    kind: str
    status: str
    product_code: str | None
    product_name: str | None
    product_type: str | None
    product_risk: str | None
    amount: float | None
    rationale: dict[str, Any]
    blocked_reasons: list[str]
    channel: str | None
    recording_id: str | None
    recording_consent: bool | None
    override_reason: str | None
    override_requested_by: str | None  # user name
    decided_by: str | None  # user name
    decided_at: datetime | None
    created_at: datetime
    updated_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {k: _plain(v) for k, v in asdict(self).items()}


def _rows(session: Session, *conditions: Any) -> list[RecommendationRow]:
    requester, decider = aliased(User), aliased(User)
    status_rank = case(
        {s: i for i, s in enumerate((S.override_requested, S.blocked, S.proposed, S.approved))},
        value=Recommendation.status,
        else_=9,
    )
    stmt = (
        select(
            Recommendation,
            Customer.name,
            Customer.rm_id,
            Product.name,
            Product.product_type,
            Product.risk_level,
            requester.username,
            decider.username,
        )
        .join(Customer, Customer.customer_id == Recommendation.customer_id)
        .outerjoin(Product, Product.product_code == Recommendation.product_code)
        .outerjoin(requester, requester.id == Recommendation.override_requested_by)
        .outerjoin(decider, decider.id == Recommendation.decided_by)
        .where(*conditions)
        .order_by(status_rank, Recommendation.created_at.desc(), Recommendation.id.desc())
    )
    return [
        RecommendationRow(
            id=r.id,
            customer_id=r.customer_id,
            customer_name=cname,
            rm_id=rm_id,
            kind=str(r.kind),
            status=str(r.status),
            product_code=r.product_code,
            product_name=pname,
            product_type=None if ptype is None else str(ptype),
            product_risk=None if prisk is None else str(prisk),
            amount=r.amount,
            rationale=dict(r.rationale or {}),
            blocked_reasons=list(r.blocked_reasons or []),
            channel=None if r.channel is None else str(r.channel),
            recording_id=r.recording_id,
            recording_consent=r.recording_consent,
            override_reason=r.override_reason,
            override_requested_by=req,
            decided_by=dec,
            decided_at=r.decided_at,
            created_at=r.created_at,
            updated_at=r.updated_at,
        )
        for r, cname, rm_id, pname, ptype, prisk, req, dec in session.execute(stmt)
    ]


def list_for_customer(session: Session, *, user: Person, customer_id: str) -> list[RecommendationRow]:
    """The customer's recommendations, open ones first (override requests, blocked, proposed), newest
    first within a status; :class:`NotFound` for a customer outside ``user``'s scope."""
    customer = get_customer(session, user=user, customer_id=customer_id)
    return _rows(session, Recommendation.customer_id == customer.customer_id)


def get(session: Session, *, user: Person, id: int) -> Recommendation:
    """One recommendation of a customer in ``user``'s scope, else :class:`NotFound` (as for a missing id)."""
    found = session.scalar(
        select(Recommendation)
        .join(Customer, Customer.customer_id == Recommendation.customer_id)
        .where(Recommendation.id == id, scope_filter(user))
    )
    if found is None:
        raise NotFound(f"no recommendation {id}")
    return found


def row(session: Session, *, user: Person, id: int) -> RecommendationRow:
    """:func:`get` as a :class:`RecommendationRow`."""
    rec = get(session, user=user, id=id)
    return _rows(session, Recommendation.id == rec.id)[0]


def pending_overrides(session: Session, *, user: Person) -> list[RecommendationRow]:
    """Override requests ``user`` may decide: their team's (a team lead) or the branch's (a manager)."""
    if Role(user.role) not in APPROVERS:
        raise Forbidden(NOT_APPROVER)
    conditions: list[Any] = [Recommendation.status == S.override_requested, scope_filter(user)]
    if Role(user.role) is Role.team_lead:
        conditions.append(Customer.rm_id.in_(_team_staff(user)))
    return _rows(session, *conditions)


def _team_staff(user: Person) -> Any:
    """The staff ids of the team ``user`` (a team lead) leads (none without a staff record or team)."""
    own_team = select(Staff.team_id).where(Staff.staff_id == user.staff_id).scalar_subquery()
    return select(Staff.staff_id).where(Staff.team_id.is_not(None), Staff.team_id == own_team)


# --- generating -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GenerateResult:
    month: date | None
    candidates: int  # customers looked at
    created: int
    proposed: int
    blocked: int
    existing: int  # proposals already stored (same source key) or with an open one of the same kind

    def to_dict(self) -> dict[str, Any]:
        return {k: _plain(v) for k, v in asdict(self).items()}


def generate(
    session: Session,
    *,
    on: date,
    settings: Settings,
    month: date | None = None,
    now: datetime | None = None,
) -> GenerateResult:
    """Run every generator for the customers that may qualify on ``on``, with the AUM of ``month``
    (default: the latest month with AUM data up to ``on``), and store what is new.

    Idempotent: a proposal whose ``source_key`` is stored already, or whose customer has an open
    recommendation of the same kind (customer-level kinds), is skipped.
    """
    if month is None:
        month = session.scalar(select(func.max(AumMonthly.month)).where(AumMonthly.month <= on))
    stamp = now or utcnow()
    gate = facts.gate_for(settings, on)
    config = facts.generator_settings(settings)
    shelf = [
        facts.product_facts(p)
        for p in session.scalars(select(Product).where(Product.status == ProductStatus.on_sale))
    ]
    ids = facts.candidates(session, on=on, month=month, settings=settings)
    created = proposed = blocked = existing = 0
    for chunk in facts.chunks(ids):
        found = facts.customer_facts(
            session,
            customer_ids=chunk,
            month=month,
            lookback_months=settings.recommendations.upgrade_lookback_months,
        )
        proposals = [
            p for cid in chunk if cid in found for p in rules.recommend(found[cid], shelf, gate, config)
        ]
        if not proposals:
            continue
        keys = set(
            session.scalars(
                select(Recommendation.source_key).where(
                    Recommendation.source_key.in_([p.source_key for p in proposals])
                )
            )
        )
        open_kinds = set(
            session.execute(
                select(Recommendation.customer_id, Recommendation.kind).where(
                    Recommendation.customer_id.in_(chunk),
                    Recommendation.status.in_(OPEN),
                    Recommendation.kind != RecommendationKind.reinvest_maturity,
                )
            ).all()
        )
        for p in proposals:
            if p.source_key in keys or (p.customer_id, p.kind) in open_kinds:
                existing += 1
                continue
            keys.add(p.source_key)
            status = S.blocked if p.blocked_reasons else S.proposed
            session.add(
                Recommendation(
                    customer_id=p.customer_id,
                    product_code=p.product_code,
                    kind=p.kind,
                    status=status,
                    source_key=p.source_key,
                    amount=p.amount,
                    rationale=p.rationale,
                    blocked_reasons=p.blocked_reasons,
                    created_at=stamp,
                    updated_at=stamp,
                )
            )
            created += 1
            blocked += status is S.blocked
            proposed += status is S.proposed
        session.flush()
    result = GenerateResult(month, len(ids), created, proposed, blocked, existing)
    if created:
        record(
            session,
            actor=None,
            action="recommendation.generate",
            entity="recommendation",
            details=result.to_dict(),
            at=stamp,
        )
    return result


def generate_nightly(session: Session, *, month: date, today: date, settings: Settings) -> int:
    """The nightly batch's call: recommendations for ``month``'s AUM as of ``today`` (or the month's last
    day, when the batch runs for a later month than today, as with simulated data); the number created."""
    month_end = rules.add_months(month, 1) - timedelta(days=1)
    return generate(session, on=max(today, month_end), settings=settings, month=month).created


# --- working a recommendation -----------------------------------------------------------------------


def _clean(text: str | None, *, required: str | None = None, limit: int = MAX_TEXT) -> str | None:
    """``text`` stripped; None when blank (:class:`Invalid` with ``required`` when that is given)."""
    value = (text or "").strip()
    if not value:
        if required:
            raise Invalid(required)
        return None
    if len(value) > limit:
        raise Invalid(RECORDING_TOO_LONG if limit == MAX_RECORDING_ID else TEXT_TOO_LONG)
    if "\x00" in value:  # PostgreSQL text cannot hold it
        raise Invalid(NUL_CHARACTER)
    return value


def _may_sell(user: Person) -> None:
    if Role(user.role) not in SELLERS:
        raise Forbidden(NOT_SELLER)


def _approved_reasons(rec: Recommendation) -> list[str]:
    return list(rec.blocked_reasons or []) if rec.status == S.approved else []


def record_outcome(
    session: Session,
    *,
    user: Person,
    id: int,
    outcome: RecommendationStatus,
    settings: Settings,
    on: date,
    channel: SaleChannel | None = None,
    recording_id: str | None = None,
    consent: bool | None = None,
    now: datetime | None = None,
) -> RecommendationRow:
    """The customer accepted or declined. An acceptance needs the channel and passes the gate again,
    today, with the sale's recording and consent (an approved override lifts the reasons it was
    approved for, never the recording or consent); else :class:`SaleBlocked` and nothing changes."""
    _may_sell(user)
    if outcome not in (S.accepted, S.declined):
        raise Invalid(OUTCOME_INVALID)
    rec = get(session, user=user, id=id)
    recording = _clean(recording_id, limit=MAX_RECORDING_ID)
    if outcome is S.accepted:
        if rec.status not in (S.proposed, S.approved):
            raise Conflict(CANNOT_ACCEPT)
        if channel is None:
            raise Invalid(CHANNEL_REQUIRED)
        if rec.product_code is None:
            raise Conflict(NO_PRODUCT)
        product = session.get(Product, rec.product_code)
        if product is None:
            raise Conflict(NO_PRODUCT)
        customer = facts.customer_facts(session, customer_ids=[rec.customer_id], month=None)[rec.customer_id]
        gate = facts.gate_for(settings, on)
        reasons = rules.check(
            customer,
            facts.product_facts(product),
            channel,
            rules.Recording(recording, consent),
            on,
            valid_months=gate.valid_months,
            wealth_types=gate.wealth_types,
        )
        remaining = rules.still_blocking(reasons, _approved_reasons(rec))
        if remaining:
            raise SaleBlocked(remaining)
    elif rec.status not in OPEN and rec.status != S.rejected:
        raise Conflict(CANNOT_DECLINE)
    overridden = bool(_approved_reasons(rec))
    rec.status = outcome
    rec.channel = channel
    rec.recording_id = recording
    rec.recording_consent = consent
    rec.updated_at = now or utcnow()
    record(
        session,
        actor=user,
        action=f"recommendation.{outcome.value}",
        entity="recommendation",
        entity_id=rec.id,
        customer_id=rec.customer_id,
        details={
            "kind": str(rec.kind),
            "product_code": rec.product_code,
            "channel": None if channel is None else channel.value,
            "recording_id": recording,
            "consent": consent,
            "overridden": overridden,
        },
        at=rec.updated_at,
    )
    session.flush()
    return row(session, user=user, id=rec.id)


def request_override(
    session: Session, *, user: Person, id: int, reason: str, now: datetime | None = None
) -> RecommendationRow:
    """An RM asks a team lead to let a blocked recommendation go ahead, saying why."""
    _may_sell(user)
    text = _clean(reason, required=REASON_REQUIRED)
    rec = get(session, user=user, id=id)
    if rec.status != S.blocked:
        raise Conflict(NOT_BLOCKED)
    if not set(rec.blocked_reasons or []) - rules.NEVER_OVERRIDDEN:
        raise Conflict(NOT_OVERRIDABLE)
    rec.status = S.override_requested
    rec.override_reason = text
    rec.override_requested_by = user.id
    rec.updated_at = now or utcnow()
    record(
        session,
        actor=user,
        action="suitability.override_requested",
        entity="recommendation",
        entity_id=rec.id,
        customer_id=rec.customer_id,
        reason=text,
        details={"blocked_reasons": list(rec.blocked_reasons or []), "product_code": rec.product_code},
        at=rec.updated_at,
    )
    session.flush()
    return row(session, user=user, id=rec.id)


def decide_override(
    session: Session,
    *,
    user: Person,
    id: int,
    approve: bool,
    note: str | None = None,
    now: datetime | None = None,
) -> RecommendationRow:
    """A team lead of the customer's RM's team, or the branch manager, approves or rejects an override
    request; never the one who asked. A rejection says why (``note``)."""
    if Role(user.role) not in APPROVERS:
        raise Forbidden(NOT_APPROVER)
    text = _clean(note, required=None if approve else NOTE_REQUIRED)
    rec = get(session, user=user, id=id)
    if rec.status != S.override_requested:
        raise Conflict(NO_REQUEST)
    if rec.override_requested_by == user.id:
        raise Forbidden(OWN_REQUEST)
    if Role(user.role) is Role.team_lead:
        rm_id = session.scalar(select(Customer.rm_id).where(Customer.customer_id == rec.customer_id))
        in_team = rm_id is not None and session.scalar(
            select(func.count())
            .select_from(Staff)
            .where(Staff.staff_id == rm_id, Staff.staff_id.in_(_team_staff(user)))
        )
        if not in_team:
            raise Forbidden(NOT_TEAM)
    stamp = now or utcnow()
    rec.status = S.approved if approve else S.rejected
    rec.decided_by = user.id
    rec.decided_at = stamp
    rec.updated_at = stamp
    if text:
        rec.rationale = {**(rec.rationale or {}), "decision_note": text}
    requester = session.scalar(select(User.username).where(User.id == rec.override_requested_by))
    record(
        session,
        actor=user,
        action="suitability.override_approved" if approve else "suitability.override_rejected",
        entity="recommendation",
        entity_id=rec.id,
        customer_id=rec.customer_id,
        reason=text,
        details={
            "blocked_reasons": list(rec.blocked_reasons or []),
            "product_code": rec.product_code,
            "requested_by": requester,
        },
        at=stamp,
    )
    session.flush()
    return row(session, user=user, id=rec.id)
