"""Workload and handover: customers per RM against a target per tier, a rebalancing proposal that keeps
relationships stable, and how the customers handed over when an RM left fared afterwards.

**Workload.** Each active customer counts in the tier of the latest month the nightly batch scored
(customers without a row that month count as unscored: in the total, in no tier). An RM is *over* in
a tier when they hold more customers of it than ``workload.<tier>_target`` (0: no target).

**Rebalancing** (:func:`propose`, pure and deterministic). For each tier with a target, an RM's
*excess* is what they hold above the target and an active RM's *room* what they hold below it. Donors
are taken largest total excess first (then by staff id). A donor gives away *units* — a customer, or
all of the donor's customers of one household when the data has households — in this order of
preference, so that the relationships least built up move first:

1. no open retention task before one (a customer being won back keeps their RM);
2. the shortest tenure with the RM first (``since``: the last reassignment to them, else the later of
   onboarding and the RM joining);
3. the least recent contact by the RM first (never contacted first);
4. customer id.

A unit moves only when every tier it holds is in the donor's excess (so the donor never drops below
its target and no customer moves without need: the moves equal the excess removed, the fewest
possible) and to an active RM with room in each of those tiers (the receiver never goes over its
target): same team first, then the most room in the unit's tiers, then staff id. A household is never
split. Excess that finds no room is reported as ``unplaced``.

**Applying** a proposal (:func:`apply_proposal`) recomputes it, refuses a changed one (the digest the
user confirmed must match) and hands the customers over through
:func:`wealthcrm.customers.reassign.reassign` — handover task, reassignment row and audit entry each.

**Departures** (:func:`departure_outcomes`): of the customers handed over when an RM left who were
sunflower or above (``churn.customer_loss_min_tier``) and not lost in the month before the handover
month (the book as handed over), the share lost within 3 and 6 months counting from the handover
month, against the branch's base rate: the same share among every other such customer of the same
months. A window counts once the nightly results (``customer_months``) cover it.

Nothing here commits.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, case, exists, func, select
from sqlalchemy.orm import Session, aliased

from wealthcrm.analytics.models import CustomerMonth
from wealthcrm.config import Settings, WorkloadSettings
from wealthcrm.customers import reassign
from wealthcrm.customers.models import Customer, Reassignment
from wealthcrm.errors import Conflict, Invalid
from wealthcrm.interactions.models import Interaction
from wealthcrm.staff.models import Staff
from wealthcrm.staff.service import BOOK_ROLES, pick_team
from wealthcrm.tasks.models import Task
from wealthcrm.vocab import TIER_ORDER, CustomerStatus, Role, StaffStatus, TaskKind, TaskStatus, Tier

#: the windows (months after the handover month) the departure measure looks at
OUTCOME_WINDOWS = (3, 6)


@dataclass(frozen=True, slots=True)
class Rm:
    staff_id: str
    name: str
    team_id: str | None
    status: str = StaffStatus.active.value

    @property
    def receives(self) -> bool:
        return self.status == StaffStatus.active.value


@dataclass(frozen=True, slots=True)
class BookCustomer:
    """One customer of a book, with what the proposal weighs."""

    customer_id: str
    rm_id: str
    tier: str | None  # None: not scored in the month
    since: date  # with this RM since
    last_contact: date | None = None  # by this RM
    open_retention: bool = False
    household: str | None = None


@dataclass(frozen=True, slots=True)
class Move:
    customer_id: str
    from_staff_id: str
    to_staff_id: str
    tier: str | None
    household: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class RmLoad:
    """One RM's book by tier against the targets."""

    staff_id: str
    name: str
    team_id: str | None
    status: str
    counts: dict[str, int]  # tier → customers (every tier, 0 included)
    unscored: int
    total: int
    over: dict[str, int]  # tier → customers above the target (tiers with a target only)
    room: dict[str, int]  # tier → customers below the target

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Proposal:
    month: date | None
    team_id: str | None  # None: the whole branch
    targets: dict[str, int]
    before: list[RmLoad]
    after: list[RmLoad]
    moves: list[Move]
    unplaced: dict[str, dict[str, int]]  # staff id → tier → excess left
    digest: str = field(default="")

    def to_dict(self) -> dict[str, Any]:
        return {
            "month": None if self.month is None else self.month.isoformat(),
            "team_id": self.team_id,
            "targets": self.targets,
            "before": [r.to_dict() for r in self.before],
            "after": [r.to_dict() for r in self.after],
            "moves": [m.to_dict() for m in self.moves],
            "unplaced": self.unplaced,
            "digest": self.digest,
        }


def targets_of(settings: WorkloadSettings) -> dict[str, int]:
    """Tier → target for every tier (0: none)."""
    return {t.value: settings.target(t) for t in TIER_ORDER}


# --- the pure part ---------------------------------------------------------------------------------------


def loads(rms: Sequence[Rm], book: Sequence[BookCustomer], targets: Mapping[str, int]) -> list[RmLoad]:
    """Each RM's counts by tier, excess over and room under the targets (room only for active RMs)."""
    counts: dict[str, Counter[str | None]] = {r.staff_id: Counter() for r in rms}
    for c in book:
        if c.rm_id in counts:
            counts[c.rm_id][c.tier] += 1
    out = []
    for r in rms:
        held = counts[r.staff_id]
        by_tier = {t.value: held[t.value] for t in TIER_ORDER}
        aimed = {t: n for t, n in targets.items() if n > 0}
        out.append(
            RmLoad(
                staff_id=r.staff_id,
                name=r.name,
                team_id=r.team_id,
                status=r.status,
                counts=by_tier,
                unscored=held[None],
                total=sum(held.values()),
                over={t: max(0, by_tier[t] - n) for t, n in aimed.items()},
                room={t: max(0, n - by_tier[t]) if r.receives else 0 for t, n in aimed.items()},
            )
        )
    return out


def _unit_order(members: list[BookCustomer]) -> tuple[bool, int, int, str]:
    """Preference of a unit (smaller first): no open retention task, shortest tenure, oldest contact."""
    longest = min(m.since for m in members)  # a household is as settled as its longest relationship
    contacts = [m.last_contact for m in members if m.last_contact is not None]
    latest = max(contacts).toordinal() if contacts else 0
    return (
        any(m.open_retention for m in members),
        -longest.toordinal(),
        latest,
        min(m.customer_id for m in members),
    )


def propose(
    rms: Sequence[Rm], book: Sequence[BookCustomer], targets: Mapping[str, int]
) -> tuple[list[Move], dict[str, dict[str, int]]]:
    """The moves that bring every RM to at most their targets (see the module's note), and the excess
    that found no room (staff id → tier → customers)."""
    aimed = {t: n for t, n in targets.items() if n > 0}
    start = {load.staff_id: load for load in loads(rms, book, targets)}
    excess = {s: dict(load.over) for s, load in start.items()}
    room = {s: dict(load.room) for s, load in start.items()}
    by_id = {r.staff_id: r for r in rms}
    donors = sorted(
        (s for s in excess if sum(excess[s].values()) > 0), key=lambda s: (-sum(excess[s].values()), s)
    )
    moves: list[Move] = []
    for donor in donors:
        units: dict[str, list[BookCustomer]] = defaultdict(list)
        for c in book:
            if c.rm_id == donor:
                units[f"h:{c.household}" if c.household else f"c:{c.customer_id}"].append(c)
        for members in sorted(units.values(), key=_unit_order):
            if sum(excess[donor].values()) == 0:
                break
            need = Counter(m.tier for m in members if m.tier in aimed)
            if not need or any(n > excess[donor][str(t)] for t, n in need.items()):
                continue  # moving it would not help, or would take the donor below a target
            fits = [
                r.staff_id
                for r in rms
                if r.receives
                and r.staff_id != donor
                and all(room[r.staff_id][str(t)] >= n for t, n in need.items())
            ]
            if not fits:
                continue
            team = by_id[donor].team_id
            to = min(
                fits,
                key=lambda s: (by_id[s].team_id != team, -sum(room[s][str(t)] for t in need), s),
            )
            for t, n in need.items():
                excess[donor][str(t)] -= n
                room[to][str(t)] -= n
            moves.extend(
                Move(m.customer_id, donor, to, m.tier, m.household)
                for m in sorted(members, key=lambda m: m.customer_id)
            )
    unplaced = {s: {t: n for t, n in left.items() if n} for s, left in excess.items() if any(left.values())}
    return moves, unplaced


def _digest(moves: Sequence[Move]) -> str:
    text = json.dumps([[m.customer_id, m.from_staff_id, m.to_staff_id] for m in moves])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# --- reading the books -----------------------------------------------------------------------------------


def _as_date(value: Any) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return datetime.fromisoformat(str(value)).date()


def scoped_rms(session: Session, *, user: Any, team_id: str | None) -> tuple[str | None, list[Rm]]:
    """The team (None: the branch, for a branch manager who names no team) and its book-holding staff
    who are not gone (active or on leave; a departed RM's book is handed over by the departure flow)."""
    if Role(user.role) is Role.team_lead or team_id is not None:
        team, _ = pick_team(session, user=user, team_id=team_id)
        team_id = team.team_id
    elif Role(user.role) is not Role.branch_manager:
        raise Invalid("workload: only team leads and branch managers balance books")
    stmt = select(Staff).where(Staff.role.in_(BOOK_ROLES), Staff.status != StaffStatus.left)
    if team_id is not None:
        stmt = stmt.where(Staff.team_id == team_id)
    rms = [
        Rm(s.staff_id, s.name, s.team_id, s.status.value)
        for s in session.scalars(stmt.order_by(Staff.staff_id))
    ]
    return team_id, rms


def book_of(session: Session, *, rm_ids: Sequence[str]) -> tuple[date | None, list[BookCustomer]]:
    """The active customers of ``rm_ids`` as the proposal weighs them, in the latest scored month."""
    month = session.scalar(select(func.max(CustomerMonth.month)))
    if not rm_ids:
        return month, []
    since = (
        select(func.max(Reassignment.at))
        .where(Reassignment.customer_id == Customer.customer_id, Reassignment.to_staff_id == Customer.rm_id)
        .correlate(Customer)
        .scalar_subquery()
    )
    contact = (
        select(func.max(Interaction.occurred_at))
        .where(Interaction.customer_id == Customer.customer_id, Interaction.staff_id == Customer.rm_id)
        .correlate(Customer)
        .scalar_subquery()
    )
    retention = exists().where(
        Task.customer_id == Customer.customer_id,
        Task.kind == TaskKind.retention,
        Task.status.in_((TaskStatus.open, TaskStatus.snoozed)),
    )
    rows = session.execute(
        select(
            Customer.customer_id,
            Customer.rm_id,
            CustomerMonth.tier,
            Customer.onboarded_on,
            Staff.joined_on,
            since.label("since"),
            contact.label("contact"),
            retention.label("retention"),
        )
        .join(Staff, Staff.staff_id == Customer.rm_id)
        .outerjoin(
            CustomerMonth,
            and_(CustomerMonth.customer_id == Customer.customer_id, CustomerMonth.month == month),
        )
        .where(Customer.rm_id.in_(list(rm_ids)), Customer.status == CustomerStatus.active)
        .order_by(Customer.customer_id)
    ).all()
    book = []
    for r in rows:
        moved_in = _as_date(r.since)
        start = moved_in if moved_in is not None else max(r.onboarded_on, r.joined_on)
        book.append(
            BookCustomer(
                customer_id=r.customer_id,
                rm_id=r.rm_id,
                tier=None if r.tier is None else Tier(r.tier).value,
                since=start,
                last_contact=_as_date(r.contact),
                open_retention=bool(r.retention),
            )
        )
    return month, book


def proposal(session: Session, *, user: Any, team_id: str | None, settings: Settings) -> Proposal:
    """The workload of the team (or the branch) and the rebalancing proposal for it."""
    scope, rms = scoped_rms(session, user=user, team_id=team_id)
    month, book = book_of(session, rm_ids=[r.staff_id for r in rms])
    targets = targets_of(settings.workload)
    moves, unplaced = propose(rms, book, targets)
    where = {m.customer_id: m.to_staff_id for m in moves}
    moved = [BookCustomer(c.customer_id, where.get(c.customer_id, c.rm_id), c.tier, c.since) for c in book]
    return Proposal(
        month=month,
        team_id=scope,
        targets=targets,
        before=loads(rms, book, targets),
        after=loads(rms, moved, targets),
        moves=moves,
        unplaced=unplaced,
        digest=_digest(moves),
    )


def apply_proposal(
    session: Session,
    *,
    user: reassign.Manager,
    team_id: str | None,
    digest: str,
    note: str | None,
    on: date,
    settings: Settings,
) -> list[reassign.Moved]:
    """Carry out the proposal the user confirmed (``digest``), each receiver's customers in one
    :func:`~wealthcrm.customers.reassign.reassign` call; :class:`Conflict` when it has changed."""
    current = proposal(session, user=user, team_id=team_id, settings=settings)
    if not current.moves:
        raise Conflict("nothing to rebalance: every RM is within the targets, or no one has room")
    if digest != current.digest:
        raise Conflict("the proposal changed since it was shown: review it again")
    per_target: dict[str, list[str]] = defaultdict(list)
    for m in current.moves:
        per_target[m.to_staff_id].append(m.customer_id)
    done: list[reassign.Moved] = []
    for to, ids in sorted(per_target.items()):
        done += reassign.reassign(session, user=user, customer_ids=ids, to_staff_id=to, note=note, on=on)
    return done


# --- departures, measured afterwards ---------------------------------------------------------------------


def _mno(d: date) -> int:
    return d.year * 12 + d.month - 1


def _month(n: int) -> date:
    return date(n // 12, n % 12 + 1, 1)


@dataclass(frozen=True, slots=True)
class Rate:
    """Customers whose window is observed, and how many of them were lost in it (None: not observed)."""

    customers: int
    lost: int

    @property
    def share(self) -> float | None:
        return None if self.customers == 0 else round(self.lost / self.customers, 4)

    def to_dict(self) -> dict[str, Any]:
        return {"customers": self.customers, "lost": self.lost, "share": self.share}


@dataclass(frozen=True, slots=True)
class DepartureOutcome:
    staff_id: str
    name: str
    left_on: date | None
    month: date  # the handover month
    handed_over: int
    eligible: int  # sunflower-or-above at the handover, not lost that month
    within: dict[int, Rate]  # months → lost among the eligible

    def to_dict(self) -> dict[str, Any]:
        return {
            "staff_id": self.staff_id,
            "name": self.name,
            "left_on": None if self.left_on is None else self.left_on.isoformat(),
            "month": self.month.strftime("%Y-%m"),
            "handed_over": self.handed_over,
            "eligible": self.eligible,
            "within": {str(n): r.to_dict() for n, r in self.within.items()},
        }


@dataclass(frozen=True, slots=True)
class DepartureOutcomes:
    latest_month: date | None
    departures: list[DepartureOutcome]
    handed_over: dict[int, Rate]  # pooled over the departures
    base: dict[int, Rate]  # the branch's other eligible customers in the same months

    def to_dict(self) -> dict[str, Any]:
        return {
            "latest_month": None if self.latest_month is None else self.latest_month.strftime("%Y-%m"),
            "departures": [d.to_dict() for d in self.departures],
            "handed_over": {str(n): r.to_dict() for n, r in self.handed_over.items()},
            "base": {str(n): r.to_dict() for n, r in self.base.items()},
        }


def _rate(
    session: Session, *, month: date, months: int, tiers: Sequence[Tier], customers: Any, inside: bool
) -> Rate:
    """Eligible customers of ``month`` (in ``customers`` or, with ``inside`` false, not in it) and how
    many of them were lost in the ``months`` months after it."""
    later = aliased(CustomerMonth)
    lost = exists().where(
        later.customer_id == CustomerMonth.customer_id,
        later.month > month,
        later.month <= _month(_mno(month) + months),
        later.customer_loss.is_(True),
    )
    member = CustomerMonth.customer_id.in_(customers)
    count, hits = session.execute(
        select(func.count(), func.coalesce(func.sum(case((lost, 1), else_=0)), 0)).where(
            CustomerMonth.month == month,
            CustomerMonth.tier.in_(list(tiers)),
            CustomerMonth.customer_loss.is_(False),
            member if inside else ~member,
        )
    ).one()
    return Rate(int(count), int(hits))


def departure_outcomes(
    session: Session, *, settings: Settings, team_id: str | None = None
) -> DepartureOutcomes:
    """The departures' handed-over customers' losses against the base rate (see the module's note)."""
    latest = session.scalar(select(func.max(CustomerMonth.month)))
    floor = settings.churn.customer_loss_min_tier
    tiers = [t for t in TIER_ORDER if t.rank >= floor.rank]
    stmt = (
        select(Reassignment.from_staff_id, Staff.name, Staff.left_on, func.min(Reassignment.at), func.count())
        .join(Staff, Staff.staff_id == Reassignment.from_staff_id)
        .where(Reassignment.departure.is_(True))
        .group_by(Reassignment.from_staff_id, Staff.name, Staff.left_on)
        .order_by(func.min(Reassignment.at), Reassignment.from_staff_id)
    )
    if team_id is not None:
        stmt = stmt.where(Staff.team_id == team_id)
    out: list[DepartureOutcome] = []
    pooled: dict[int, list[int]] = {n: [0, 0] for n in OUTCOME_WINDOWS}
    base: dict[int, list[int]] = {n: [0, 0] for n in OUTCOME_WINDOWS}
    base_months: dict[int, set[date]] = {n: set() for n in OUTCOME_WINDOWS}
    for staff_id, name, left_on, first_at, count in session.execute(stmt).all():
        handover = _mno(_as_date(first_at) or date.min)
        month = _month(handover - 1)  # the book as handed over: the last month known at the handover
        handed = select(Reassignment.customer_id).where(
            Reassignment.departure.is_(True), Reassignment.from_staff_id == staff_id
        )
        eligible = _rate(session, month=month, months=0, tiers=tiers, customers=handed, inside=True)
        within: dict[int, Rate] = {}
        for n in OUTCOME_WINDOWS:
            if latest is None or _mno(latest) < handover + n - 1:
                continue  # the window is not over yet in the nightly results
            rate = _rate(session, month=month, months=n, tiers=tiers, customers=handed, inside=True)
            within[n] = rate
            pooled[n][0] += rate.customers
            pooled[n][1] += rate.lost
            if month not in base_months[n]:
                base_months[n].add(month)
                everyone = select(Reassignment.customer_id).where(Reassignment.departure.is_(True))
                other = _rate(session, month=month, months=n, tiers=tiers, customers=everyone, inside=False)
                base[n][0] += other.customers
                base[n][1] += other.lost
        out.append(
            DepartureOutcome(
                str(staff_id), name, left_on, _month(handover), int(count), eligible.customers, within
            )
        )
    return DepartureOutcomes(
        latest_month=latest,
        departures=out,
        handed_over={n: Rate(*pooled[n]) for n in OUTCOME_WINDOWS},
        base={n: Rate(*base[n]) for n in OUTCOME_WINDOWS},
    )
