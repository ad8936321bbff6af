"""Workload and rebalancing on hand-made books (the exact moves), applying a proposal through the
reassignment service, and departures measured afterwards (both databases)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from wealthcrm.analytics.models import CustomerMonth
from wealthcrm.audit.models import AuditEntry
from wealthcrm.config import Settings, WorkloadSettings
from wealthcrm.customers.models import Customer, Reassignment
from wealthcrm.db import session_scope
from wealthcrm.errors import Conflict, NotFound
from wealthcrm.interactions.models import Interaction
from wealthcrm.staff import workload
from wealthcrm.staff.models import Branch, Staff, Team
from wealthcrm.staff.workload import BookCustomer, Move, Rm, propose
from wealthcrm.tasks.models import Task
from wealthcrm.users import service as users
from wealthcrm.vocab import (
    CustomerStatus,
    InteractionChannel,
    InteractionOutcome,
    InteractionPurpose,
    Role,
    StaffStatus,
    Stage,
    TaskKind,
    TaskStatus,
    Tier,
)

TARGETS = {"mass": 0, "gold": 0, "sunflower": 3, "diamond": 1, "private": 0}
S, D, G = "sunflower", "diamond", "gold"
RMS = [Rm("A", "甲", "T1"), Rm("B", "乙", "T1"), Rm("C", "丙", "T2"), Rm("L", "丁", "T1", "on_leave")]


def _c(
    cid: str,
    rm: str,
    tier: str | None,
    since: str,
    contact: str | None = None,
    retention: bool = False,
    household: str | None = None,
) -> BookCustomer:
    return BookCustomer(
        cid,
        rm,
        tier,
        date.fromisoformat(since),
        None if contact is None else date.fromisoformat(contact),
        retention,
        household,
    )


#: A holds 6 sunflower (3 over) and 2 diamond (1 over); B has room for 2 sunflower and 1 diamond,
#: C (the other team) for 1 sunflower and 1 diamond; L is on leave (no room); gold has no target.
BOOK = [
    _c("a1", "A", S, "2020-01-01", "2026-10-01"),
    _c("a2", "A", S, "2025-06-01", "2026-09-20"),
    _c("a3", "A", S, "2025-06-01", "2026-01-05"),
    _c("a4", "A", S, "2026-02-01", None, retention=True),  # the shortest tenure, but being won back
    _c("a5", "A", S, "2019-01-01"),
    _c("a6", "A", S, "2018-01-01", "2026-10-10"),
    _c("ad1", "A", D, "2021-01-01", "2026-10-01"),
    _c("ad2", "A", D, "2022-01-01", "2026-10-01"),
    _c("ag1", "A", G, "2026-05-01"),  # no target: never moves
    _c("ax1", "A", None, "2026-05-01"),  # unscored: never moves
    _c("b1", "B", S, "2020-01-01"),
    _c("c1", "C", S, "2020-01-01"),
    _c("c2", "C", S, "2020-01-01"),
    _c("l1", "L", S, "2020-01-01"),
]


def test_the_fewest_moves_least_settled_first_same_team_first() -> None:
    moves, unplaced = propose(RMS, BOOK, TARGETS)
    # A's units by preference: a3 and a2 (joined 2025-06; a3 contacted longer ago), ad2 (2022), ad1
    # (2021, but A's diamond excess is gone), a1 (2020), a5, a6; a4 last (open retention task).
    # B (same team) has the most room; once B is full in sunflower, C takes the third.
    assert moves == [
        Move("a3", "A", "B", S),
        Move("a2", "A", "B", S),
        Move("ad2", "A", "B", D),
        Move("a1", "A", "C", S),
    ]
    assert unplaced == {}


def test_loads_before_and_after() -> None:
    moves, _ = propose(RMS, BOOK, TARGETS)
    before = {r.staff_id: r for r in workload.loads(RMS, BOOK, TARGETS)}
    assert before["A"].counts == {"mass": 0, "gold": 1, "sunflower": 6, "diamond": 2, "private": 0}
    assert (before["A"].unscored, before["A"].total) == (1, 10)
    assert before["A"].over == {S: 3, D: 1}
    assert before["B"].room == {S: 2, D: 1}
    assert before["L"].room == {S: 0, D: 0}  # on leave: receives nothing
    where = {m.customer_id: m.to_staff_id for m in moves}
    after_book = [
        BookCustomer(c.customer_id, where.get(c.customer_id, c.rm_id), c.tier, c.since) for c in BOOK
    ]
    after = {r.staff_id: r for r in workload.loads(RMS, after_book, TARGETS)}
    assert {s: (r.counts[S], r.counts[D]) for s, r in after.items()} == {
        "A": (3, 1),
        "B": (3, 1),
        "C": (3, 0),
        "L": (1, 0),
    }


def test_a_household_moves_whole_or_not_at_all() -> None:
    book = [
        _c("h1", "A", S, "2026-01-01", household="H"),
        _c("h2", "A", S, "2017-01-01", household="H"),  # the household's longest relationship: 2017
        _c("h3", "A", G, "2017-01-01", household="H"),  # no target, but it goes with its household
        _c("a1", "A", S, "2024-01-01"),
        _c("a2", "A", S, "2023-01-01"),
        _c("a3", "A", S, "2022-01-01"),
        _c("b1", "B", S, "2020-01-01"),
        _c("b2", "B", S, "2020-01-01"),
    ]
    targets = {S: 3, D: 0}
    # A is 2 over. Singles first (the household is as settled as 2017): a1 to B (room 1), then a2 fits
    # nowhere else than C (room 3)
    moves, unplaced = propose(RMS, book, targets)
    assert moves == [Move("a1", "A", "B", S), Move("a2", "A", "C", S)]
    assert unplaced == {}
    # with only C to receive (room 2) and A 3 over: a1 and a2 go; a3 finds no room, and the household
    # (2 sunflower) would take A below its target: it is never split, so it stays
    moves, unplaced = propose(RMS[:1] + RMS[2:3], book[:6], {S: 2, D: 0})
    assert moves == [Move("a1", "A", "C", S), Move("a2", "A", "C", S)]
    assert unplaced == {"A": {S: 1}}
    # a household the donor can give whole goes together, its gold member too (singles here are older)
    older = [_c("a8", "A", S, "2011-01-01"), _c("a9", "A", S, "2010-01-01")]
    moves, unplaced = propose(RMS[:1] + RMS[2:3], book[:3] + older, {S: 2})
    assert moves == [
        Move("h1", "A", "C", S, "H"),
        Move("h2", "A", "C", S, "H"),
        Move("h3", "A", "C", G, "H"),
    ]
    assert unplaced == {}


def test_capacity_is_respected_and_the_rest_reported() -> None:
    book = [_c(f"a{i}", "A", S, f"202{i}-01-01") for i in range(6)] + [_c("c1", "C", S, "2020-01-01")]
    moves, unplaced = propose([RMS[0], RMS[2]], book, {S: 2})
    assert moves == [Move("a5", "A", "C", S)]  # C has room for one; the shortest tenure goes
    assert unplaced == {"A": {S: 3}}


def test_nothing_to_do() -> None:
    assert propose(RMS, [_c("a1", "A", S, "2020-01-01")], TARGETS) == ([], {})
    assert propose(RMS, BOOK, dict.fromkeys(TARGETS, 0)) == ([], {})


def test_settings_targets() -> None:
    assert workload.targets_of(WorkloadSettings(sunflower_target=7)) == {
        "mass": 0,
        "gold": 200,
        "sunflower": 7,
        "diamond": 15,
        "private": 5,
    }


# --- on the database -------------------------------------------------------------------------------------

OCT = date(2026, 10, 1)
ON = date(2026, 11, 28)
PASSWORD = "correct horse battery"


def _month(cid: str, month: date, tier: Tier, *, lost: bool = False) -> CustomerMonth:
    return CustomerMonth(
        customer_id=cid, month=month, aum=1_000_000.0, tier=tier, tier_met=tier, watch=False,
        months_below=0, tier_event=None, customer_loss=lost, asset_loss_amount=None, stage=Stage.mature,
    )  # fmt: skip


def load_books(session: Session) -> None:
    """The pure test's books as rows: since from reassignments or onboarding, contacts, retention tasks."""
    session.add(Branch(branch_id="B1", name="测试支行", city=None))
    session.add_all(
        [Team(team_id="T1", branch_id="B1", name="一组"), Team(team_id="T2", branch_id="B1", name="二组")]
    )
    session.flush()
    for rm in [*RMS, Rm("Z", "走", "T1", "left")]:
        session.add(
            Staff(
                staff_id=rm.staff_id, branch_id="B1", team_id=rm.team_id, name=rm.name, role=Role.rm,
                status=StaffStatus(rm.status), joined_on=date(2010, 1, 1),
                left_on=date(2026, 1, 31) if rm.status == "left" else None,
            )
        )  # fmt: skip
    session.add(
        Staff(staff_id="LEAD", branch_id="B1", team_id="T2", name="组长", role=Role.team_lead,
              status=StaffStatus.active, joined_on=date(2010, 1, 1))
    )  # fmt: skip
    session.flush()
    for c in BOOK:
        via = c.since.year >= 2025  # recent relationships came by a reassignment, older from onboarding
        session.add(
            Customer(
                customer_id=c.customer_id, branch_id="B1", name=c.customer_id, rm_id=c.rm_id,
                onboarded_on=date(2015, 1, 1) if via else c.since, status=CustomerStatus.active,
            )
        )  # fmt: skip
        session.flush()
        if via:
            session.add(
                Reassignment(
                    customer_id=c.customer_id, from_staff_id="Z", to_staff_id=c.rm_id, note="旧交接",
                    departure=False, at=datetime.combine(c.since, datetime.min.time()), by_user=None,
                )
            )  # fmt: skip
        if c.tier is not None:
            session.add(_month(c.customer_id, OCT, Tier(c.tier)))
        if c.last_contact is not None:
            session.add(
                Interaction(
                    interaction_id=f"I-{c.customer_id}", customer_id=c.customer_id, staff_id=c.rm_id,
                    occurred_at=datetime.combine(c.last_contact, datetime.min.time()),
                    channel=InteractionChannel.phone, purpose=InteractionPurpose.review,
                    outcome=InteractionOutcome.reached,
                )
            )  # fmt: skip
        if c.open_retention:
            session.add(
                Task(
                    kind=TaskKind.retention, status=TaskStatus.open, customer_id=c.customer_id,
                    assignee_id=c.rm_id, due_on=ON, created_at=datetime(2026, 11, 1),
                    updated_at=datetime(2026, 11, 1),
                )
            )  # fmt: skip
    # a contact by someone else does not count as the RM's
    session.add(
        Interaction(
            interaction_id="I-other", customer_id="a3", staff_id="B", occurred_at=datetime(2026, 11, 1),
            channel=InteractionChannel.phone, purpose=InteractionPurpose.review,
            outcome=InteractionOutcome.reached,
        )
    )  # fmt: skip
    session.flush()
    users.create(session, username="boss", password=PASSWORD, role=Role.branch_manager)
    users.create(session, username="lead2", password=PASSWORD, role=Role.team_lead, staff_id="LEAD")


@pytest.fixture
def books(engine: Engine) -> Engine:
    with session_scope(engine) as session:
        load_books(session)
    return engine


def _settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "workload": WorkloadSettings(
                mass_target=0, gold_target=0, sunflower_target=3, diamond_target=1, private_target=0
            )
        }
    )


def test_the_books_read_from_the_database(books: Engine) -> None:
    with session_scope(books) as session:
        month, book = workload.book_of(session, rm_ids=["A", "B", "C", "L"])
    assert month == OCT
    assert book == sorted(BOOK, key=lambda c: c.customer_id)


def test_the_branch_proposal_and_applying_it(books: Engine, settings: Settings) -> None:
    settings = _settings(settings)
    with session_scope(books) as session:
        boss = users.get(session, username="boss")
        found = workload.proposal(session, user=boss, team_id=None, settings=settings)
        assert found.month == OCT and found.team_id is None
        assert [(m.customer_id, m.to_staff_id) for m in found.moves] == [
            ("a3", "B"),
            ("a2", "B"),
            ("ad2", "B"),
            ("a1", "LEAD"),
        ]  # fmt: skip  (B is full: the lead of the other team has the most room)
        assert [r.staff_id for r in found.before] == ["A", "B", "C", "L", "LEAD"]  # Z has left
        with pytest.raises(Conflict, match="changed"):
            workload.apply_proposal(
                session, user=boss, team_id=None, digest="stale", note="调整", on=ON, settings=settings
            )
        moved = workload.apply_proposal(
            session, user=boss, team_id=None, digest=found.digest, note="均衡管户", on=ON, settings=settings
        )
        assert sorted((m.customer_id, m.from_staff_id, m.to_staff_id) for m in moved) == [
            ("a1", "A", "LEAD"), ("a2", "A", "B"), ("a3", "A", "B"), ("ad2", "A", "B"),
        ]  # fmt: skip
    with session_scope(books) as session:
        rms = dict(session.execute(select(Customer.customer_id, Customer.rm_id)).all())
        assert (rms["a1"], rms["a2"], rms["a3"], rms["ad2"], rms["a4"]) == ("LEAD", "B", "B", "B", "A")
        tasks = session.execute(
            select(Task.customer_id, Task.assignee_id, Task.note).where(Task.kind == TaskKind.handover)
        ).all()
        assert sorted(map(tuple, tasks)) == [
            ("a1", "LEAD", "均衡管户"),
            ("a2", "B", "均衡管户"),
            ("a3", "B", "均衡管户"),
            ("ad2", "B", "均衡管户"),
        ]
        audited = session.scalars(
            select(AuditEntry.entity_id).where(AuditEntry.action == "customer.reassign")
        ).all()
        assert sorted(audited) == ["a1", "a2", "a3", "ad2"]
        # balanced now: nothing more to do
        again = workload.proposal(
            session, user=users.get(session, username="boss"), team_id=None, settings=settings
        )
        assert again.moves == []
        with pytest.raises(Conflict, match="nothing to rebalance"):
            workload.apply_proposal(
                session, user=users.get(session, username="boss"), team_id=None, digest=again.digest,
                note="x", on=ON, settings=settings,
            )  # fmt: skip


def test_a_team_lead_balances_their_own_team_only(books: Engine, settings: Settings) -> None:
    with session_scope(books) as session:
        lead = users.get(session, username="lead2")
        found = workload.proposal(session, user=lead, team_id=None, settings=_settings(settings))
        assert found.team_id == "T2"
        assert [r.staff_id for r in found.before] == ["C", "LEAD"]
        assert found.moves == []
        with pytest.raises(NotFound):
            workload.proposal(session, user=lead, team_id="T1", settings=_settings(settings))
        boss = users.get(session, username="boss")
        team1 = workload.proposal(session, user=boss, team_id="T1", settings=_settings(settings))
        # within team 1 only B receives: 2 sunflower and 1 diamond; the last sunflower finds no room
        assert [(m.customer_id, m.to_staff_id) for m in team1.moves] == [
            ("a3", "B"),
            ("a2", "B"),
            ("ad2", "B"),
        ]
        assert team1.unplaced == {"A": {"sunflower": 1}}


# --- departures ------------------------------------------------------------------------------------------


def _departure_data(session: Session) -> None:
    """Z left in 2026-03: X1–X4 were handed over (X4 was gold: not counted). Months 2026-02 … 2026-08."""
    session.add(Branch(branch_id="B1", name="测试支行", city=None))
    session.add(Team(team_id="T1", branch_id="B1", name="一组"))
    session.flush()
    for sid, status in (("Z", StaffStatus.left), ("A", StaffStatus.active)):
        session.add(
            Staff(staff_id=sid, branch_id="B1", team_id="T1", name=sid, role=Role.rm, status=status,
                  joined_on=date(2010, 1, 1), left_on=date(2026, 3, 9) if sid == "Z" else None)
        )  # fmt: skip
    session.flush()
    months = [date(2026, m, 1) for m in range(2, 9)]
    lost_in: dict[str, date | None] = {
        "X1": date(2026, 4, 1),  # within 3 months (Mar, Apr, May) and 6
        "X2": date(2026, 7, 1),  # within 6 only
        "X3": None,
        "X4": None,
        "O1": date(2026, 5, 1),  # others: O1 lost within 3, O2 within 6 (Aug), O3, O4 never
        "O2": date(2026, 8, 1),
        "O3": None,
        "O4": None,
        "O5": date(2026, 2, 1),  # lost in the reference month itself: not eligible
    }
    for cid, lost in lost_in.items():
        tier = Tier.gold if cid == "X4" else Tier.sunflower
        session.add(
            Customer(customer_id=cid, branch_id="B1", name=cid, rm_id="A", onboarded_on=date(2020, 1, 1),
                     status=CustomerStatus.active)
        )  # fmt: skip
        session.flush()
        for m in months:
            if lost is not None and m > lost:
                break
            session.add(_month(cid, m, Tier.gold if lost == m and cid != "X4" else tier, lost=lost == m))
        if cid.startswith("X"):
            session.add(
                Reassignment(customer_id=cid, from_staff_id="Z", to_staff_id="A", note="离职交接",
                             departure=True, at=datetime(2026, 3, 10, 9), by_user=None)
            )  # fmt: skip
    session.flush()


def test_departures_measured_against_the_base_rate(engine: Engine, settings: Settings) -> None:
    with session_scope(engine) as session:
        _departure_data(session)
        found = workload.departure_outcomes(session, settings=settings)
    assert found.to_dict() == {
        "latest_month": "2026-08",
        "departures": [
            {
                "staff_id": "Z",
                "name": "Z",
                "left_on": "2026-03-09",
                "month": "2026-03",
                "handed_over": 4,
                "eligible": 3,
                "within": {
                    "3": {"customers": 3, "lost": 1, "share": 0.3333},
                    "6": {"customers": 3, "lost": 2, "share": 0.6667},
                },
            }
        ],
        "handed_over": {
            "3": {"customers": 3, "lost": 1, "share": 0.3333},
            "6": {"customers": 3, "lost": 2, "share": 0.6667},
        },
        "base": {
            "3": {"customers": 4, "lost": 1, "share": 0.25},
            "6": {"customers": 4, "lost": 2, "share": 0.5},
        },
    }


def test_a_window_not_yet_over_is_not_counted(engine: Engine, settings: Settings) -> None:
    with session_scope(engine) as session:
        _departure_data(session)
        session.execute(CustomerMonth.__table__.delete().where(CustomerMonth.month > date(2026, 6, 1)))
        found: dict[str, Any] = workload.departure_outcomes(session, settings=settings).to_dict()
    assert found["departures"][0]["within"] == {"3": {"customers": 3, "lost": 1, "share": 0.3333}}
    assert found["base"]["6"] == {"customers": 0, "lost": 0, "share": None}
