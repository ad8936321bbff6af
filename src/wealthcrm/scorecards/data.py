"""What a month's scorecards read, fetched in a few set-based queries (sums and counts in SQL where the
database can do them) into pandas frames for :mod:`wealthcrm.scorecards.rules`.

Times are compared as stored (naive UTC), months by their first day. Nothing here writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import pandas as pd
from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable

from wealthcrm.activity.models import Transaction
from wealthcrm.analytics.models import CustomerMonth
from wealthcrm.audit.models import AuditEntry
from wealthcrm.config import DEFAULT_TIME_ZONE
from wealthcrm.customers.models import Customer, Reassignment
from wealthcrm.db import to_utc
from wealthcrm.holdings.models import AumMonthly
from wealthcrm.interactions.models import Interaction
from wealthcrm.service.models import ServiceRequest
from wealthcrm.staff.models import Branch, Staff, Team
from wealthcrm.surveys.models import SurveyAnswer
from wealthcrm.tasks.models import Task
from wealthcrm.tasks.rules import NOT_REACHED
from wealthcrm.vocab import AssetClass, Counterparty, Direction, InteractionChannel, RequestType, TaskKind

#: survey items the scorecard reads (questionnaire ``branch_default``)
NPS_ITEM = "NPS"
SATISFACTION_ITEM = "SAT1"
RM_ITEMS = ("RM1", "RM2", "RM3")
#: audit action of a suitability override request (recommendations.service.request_override)
OVERRIDE_REQUESTED = "suitability.override_requested"
#: counterparties whose transactions move money within the bank (left out of the net flow)
INTERNAL = (Counterparty.own_account, Counterparty.product)
#: asset classes that are investments (investment penetration)
INVESTMENTS = (
    AssetClass.wmp,
    AssetClass.fund,
    AssetClass.insurance,
    AssetClass.bond,
    AssetClass.precious_metal,
    AssetClass.custody,
)
REMOTE_CHANNELS = (
    InteractionChannel.video,
    InteractionChannel.wechat,
    InteractionChannel.sms,
    InteractionChannel.email,
)


def add_months(day: date, months: int) -> date:
    """The first day of the month ``months`` after ``day``'s month."""
    year, month0 = divmod(day.year * 12 + day.month - 1 + months, 12)
    return date(year, month0 + 1, 1)


def _at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day)


def frame(session: Session, stmt: Executable) -> pd.DataFrame:
    """The rows of ``stmt`` as a DataFrame with the statement's column names (empty: typed as object)."""
    result = session.execute(stmt)
    return pd.DataFrame(result.all(), columns=list(result.keys()))


@dataclass(frozen=True)
class MonthData:
    month: date
    start: date  # first month of the window (W months before ``month``)
    #: customer_months of months ``start``, ``month`` − 1 and ``month``, and of every month of the window
    #: for customers scored in it
    results: pd.DataFrame
    customers: pd.DataFrame
    reassignments: pd.DataFrame
    staff: pd.DataFrame
    teams: pd.DataFrame
    branches: pd.DataFrame
    flows: pd.DataFrame  # customer_id, net_flow (the month)
    holdings: pd.DataFrame  # customer_id, classes, investor (the month)
    last_contact: pd.DataFrame  # customer_id, last_contact (reached, up to the month end)
    contacts: pd.DataFrame  # staff_id, contacts, remote (reached, logged in the month)
    tasks: pd.DataFrame  # due in the month, or retention tasks done in the month
    requests: pd.DataFrame  # due, resolved or (complaints) opened in the month
    answers: pd.DataFrame  # survey answers (NPS, SAT1, RM1–3) in the window's months after ``start``
    overrides: pd.DataFrame  # customer_id of each override request in the month


def load(
    session: Session,
    *,
    month: date,
    window: int,
    min_class_amount: float,
    time_zone: str = DEFAULT_TIME_ZONE,
) -> MonthData:
    """Everything the scorecards of ``month`` (first day) read, for a risk window of ``window`` months;
    an asset class counts as held from a month-average balance of ``min_class_amount``. The month is
    the branch's local month (``time_zone``): contacts are stored in local time, audit entries, tasks'
    completion and service requests in UTC, each compared with the month's bounds in its own clock;
    the frames hand every time out in local time."""
    start, before, after = add_months(month, -window), add_months(month, -1), add_months(month, 1)
    t0, t1 = _at(month), _at(after)  # local
    u0, u1 = to_utc(t0, time_zone), to_utc(t1, time_zone)
    scored = (
        select(CustomerMonth.customer_id)
        .where(CustomerMonth.month.between(start, before), CustomerMonth.p_loss.is_not(None))
        .distinct()
    )
    results = frame(
        session,
        select(
            CustomerMonth.customer_id,
            CustomerMonth.month,
            CustomerMonth.aum,
            CustomerMonth.tier,
            CustomerMonth.tier_event,
            CustomerMonth.customer_loss,
            CustomerMonth.asset_loss_amount,
            CustomerMonth.p_loss,
            CustomerMonth.expected_outflow,
        ).where(
            CustomerMonth.month.between(start, month),
            or_(CustomerMonth.month.in_([start, before, month]), CustomerMonth.customer_id.in_(scored)),
        ),
    )
    customers = frame(
        session, select(Customer.customer_id, Customer.rm_id, Customer.branch_id, Customer.closed_on)
    )
    reassignments = frame(
        session,
        select(Reassignment.customer_id, Reassignment.from_staff_id, Reassignment.at).where(
            Reassignment.at >= _at(start)
        ),
    )
    staff = frame(
        session,
        select(
            Staff.staff_id,
            Staff.branch_id,
            Staff.team_id,
            Staff.name,
            Staff.role,
            Staff.joined_on,
            Staff.left_on,
        ),
    )
    teams = frame(session, select(Team.team_id, Team.branch_id, Team.name))
    branches = frame(session, select(Branch.branch_id, Branch.name))
    signed = case((Transaction.direction == Direction.inflow, Transaction.amount), else_=-Transaction.amount)
    flows = frame(
        session,
        select(Transaction.customer_id, func.sum(signed).label("net_flow"))
        .where(
            Transaction.txn_date >= month,
            Transaction.txn_date < after,
            Transaction.counterparty_kind.not_in([c.value for c in INTERNAL]),
        )
        .group_by(Transaction.customer_id),
    )
    return MonthData(
        month=month,
        start=start,
        results=results,
        customers=customers,
        reassignments=reassignments,
        staff=staff,
        teams=teams,
        branches=branches,
        flows=flows,
        holdings=_holdings(session, month, min_class_amount),
        last_contact=_last_contact(session, t1),
        contacts=_contacts(session, t0, t1),
        tasks=_local(_tasks(session, month, after, u0, u1), ["completed_at"], time_zone),
        requests=_local(_requests(session, u0, u1), ["opened_at", "due_at", "resolved_at"], time_zone),
        answers=frame(
            session,
            select(
                SurveyAnswer.customer_id,
                SurveyAnswer.response_id,
                SurveyAnswer.item_id,
                SurveyAnswer.score,
                SurveyAnswer.answered_on,
            ).where(
                SurveyAnswer.answered_on >= add_months(start, 1),
                SurveyAnswer.answered_on < after,
                SurveyAnswer.item_id.in_([NPS_ITEM, SATISFACTION_ITEM, *RM_ITEMS]),
                SurveyAnswer.score.is_not(None),
            ),
        ),
        overrides=frame(
            session,
            select(AuditEntry.customer_id).where(
                AuditEntry.action == OVERRIDE_REQUESTED,
                AuditEntry.at >= u0,
                AuditEntry.at < u1,
                AuditEntry.customer_id.is_not(None),
            ),
        ),
    )


def _holdings(session: Session, month: date, min_amount: float) -> pd.DataFrame:
    held = AumMonthly.avg_daily_balance >= min_amount
    invested = case((AumMonthly.asset_class.in_([c.value for c in INVESTMENTS]), 1), else_=0)
    return frame(
        session,
        select(
            AumMonthly.customer_id,
            func.count().label("classes"),
            func.max(invested).label("investor"),
        )
        .where(AumMonthly.month == month, held)
        .group_by(AumMonthly.customer_id),
    )


def _last_contact(session: Session, until: datetime) -> pd.DataFrame:
    return frame(
        session,
        select(Interaction.customer_id, func.max(Interaction.occurred_at).label("last_contact"))
        .where(Interaction.occurred_at < until, Interaction.outcome.not_in([o.value for o in NOT_REACHED]))
        .group_by(Interaction.customer_id),
    )


def _contacts(session: Session, t0: datetime, t1: datetime) -> pd.DataFrame:
    remote = case((Interaction.channel.in_([c.value for c in REMOTE_CHANNELS]), 1), else_=0)
    return frame(
        session,
        select(
            Interaction.staff_id,
            func.count().label("contacts"),
            func.coalesce(func.sum(remote), 0).label("remote"),
        )
        .where(
            Interaction.occurred_at >= t0,
            Interaction.occurred_at < t1,
            Interaction.outcome.not_in([o.value for o in NOT_REACHED]),
        )
        .group_by(Interaction.staff_id),
    )


def _tasks(session: Session, month: date, after: date, t0: datetime, t1: datetime) -> pd.DataFrame:
    return frame(
        session,
        select(
            Task.assignee_id,
            Task.customer_id,
            Task.kind,
            Task.status,
            Task.outcome,
            Task.due_on,
            Task.completed_at,
        ).where(
            or_(
                and_(Task.due_on >= month, Task.due_on < after),
                and_(Task.kind == TaskKind.retention, Task.completed_at >= t0, Task.completed_at < t1),
            )
        ),
    )


def _local(data: pd.DataFrame, columns: list[str], time_zone: str) -> pd.DataFrame:
    """``columns`` (stored naive UTC) as the branch's naive local time: the rules count local months."""
    for name in columns:
        utc = pd.to_datetime(data[name]).dt.tz_localize("UTC")
        data[name] = utc.dt.tz_convert(time_zone).dt.tz_localize(None)
    return data


def _requests(session: Session, t0: datetime, t1: datetime) -> pd.DataFrame:
    return frame(
        session,
        select(
            ServiceRequest.customer_id,
            ServiceRequest.staff_id,
            ServiceRequest.request_type,
            ServiceRequest.opened_at,
            ServiceRequest.due_at,
            ServiceRequest.resolved_at,
            ServiceRequest.rating,
        ).where(
            or_(
                and_(ServiceRequest.due_at >= t0, ServiceRequest.due_at < t1),
                and_(ServiceRequest.resolved_at >= t0, ServiceRequest.resolved_at < t1),
                and_(
                    ServiceRequest.request_type == RequestType.complaint,
                    ServiceRequest.opened_at >= t0,
                    ServiceRequest.opened_at < t1,
                ),
            )
        ),
    )
