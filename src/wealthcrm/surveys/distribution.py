"""Survey distribution: waves aimed at a segment of customers, and their one-time tokens.

- :func:`create_wave` — a questionnaire sent to a segment (tiers, lifecycle stages, one RM's book, a
  random sample of a given size and seed) between two dates. The segment is resolved at once, within
  the creator's scope (:mod:`wealthcrm.customers.scope`), into one invitation per customer; tiers and
  stages are those of the latest month of nightly results. :func:`preview` counts it first.
- :func:`issue_tokens` — a one-time token per invitation (``secrets.token_urlsafe``), returned once in
  plain text for the mail-merge file; only its SHA-256 is stored, so a lost file means re-issuing
  (``reissue=True`` replaces the unused tokens; the earlier links stop working).
- :func:`get_wave`, :func:`visible_invitations` — what a reader may see: waves with invitations in
  their scope (a team lead sees their team's part of a branch-wide wave); the lists and response rates
  are :mod:`wealthcrm.surveys.wave_stats`.

Who: branch managers, team leads and analysts run waves (:data:`WAVE_ROLES`), but only branch managers
and team leads issue the links, which name customers (analysts see pseudonyms only); compliance reads
them.
Creating, issuing and closing are audited. Answering is :mod:`wealthcrm.surveys.responses`. Nothing
here commits.
"""

from __future__ import annotations

import hashlib
import random
import secrets
from dataclasses import asdict, dataclass
from datetime import date, datetime
from importlib import resources
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Select, func, insert, select
from sqlalchemy.orm import Session

from wealthcrm.analytics.models import CustomerMonth
from wealthcrm.audit import service as audit
from wealthcrm.customers.models import Customer
from wealthcrm.customers.scope import Viewer, scope_filter
from wealthcrm.errors import Conflict, Forbidden, Invalid, NotFound
from wealthcrm.staff.models import Staff
from wealthcrm.surveys.models import SurveyInvitation, SurveyWave, WaveStatus
from wealthcrm.surveys.questionnaire import Questionnaire, shipped_questionnaire
from wealthcrm.vocab import CustomerStatus, Role, StaffStatus, Stage, Tier

#: roles that create waves, issue tokens and close waves
WAVE_ROLES = frozenset({Role.branch_manager, Role.team_lead, Role.analyst})
#: roles that issue the links: they name identified customers, which analysts never see (pseudonyms only)
TOKEN_ROLES = frozenset({Role.branch_manager, Role.team_lead})
#: roles that see waves and their response rates
VIEW_ROLES = WAVE_ROLES | {Role.auditor}
NAME_MAX = 100
SAMPLE_MAX = 1_000_000
SEED_MAX = 2**31 - 1
_CHUNK = 1000


class Organiser(Viewer, Protocol):
    """Who runs a wave: a ``users.models.User`` or the web layer's signed-in value both fit."""

    @property
    def id(self) -> int: ...

    @property
    def username(self) -> str: ...


def hash_token(token: str) -> str:
    """The stored form of a token: hex SHA-256 (the token is 192 random bits, so no salt is needed)."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    """32 URL-safe characters (192 random bits), never starting with ``-`` or ``_`` (a spreadsheet
    would read a leading ``-`` as a formula in the mail-merge file)."""
    while True:
        token = secrets.token_urlsafe(24)
        if token[0].isalnum():
            return token


def shipped_questionnaires() -> dict[str, Questionnaire]:
    """The questionnaires that ship with wealthcrm, by id (a wave is created from one of them)."""
    folder = resources.files("wealthcrm.surveys").joinpath("questionnaires")
    names = sorted(p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml"))
    found = (shipped_questionnaire(name) for name in names)
    return {q.id: q for q in found}


def require_viewer(user: Viewer) -> None:
    if Role(user.role) not in VIEW_ROLES:
        raise Forbidden(f"the {Role(user.role).value} role may not see survey waves")


def require_runner(user: Viewer) -> None:
    if Role(user.role) not in WAVE_ROLES:
        raise Forbidden(f"the {Role(user.role).value} role may not run survey waves")


# --- the segment ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Segment:
    """Who a wave goes to: every condition given must hold (empty tiers/stages: any)."""

    tiers: tuple[Tier, ...] = ()
    stages: tuple[Stage, ...] = ()
    rm_id: str | None = None
    #: a random sample of this many of the matching customers (None: all of them)
    sample_size: int | None = None
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["tiers"] = [t.value for t in self.tiers]
        out["stages"] = [s.value for s in self.stages]
        return out


@dataclass(frozen=True, slots=True)
class SegmentPreview:
    matched: int  # customers in the segment (within the caller's scope)
    targeted: int  # after the random sample
    month: date | None  # the nightly month tiers and stages were read from


def _check_segment(session: Session, segment: Segment) -> None:
    if segment.sample_size is not None and not 1 <= segment.sample_size <= SAMPLE_MAX:
        raise Invalid(f"the sample size must be from 1 to {SAMPLE_MAX:,}")
    if not 0 <= segment.seed <= SEED_MAX:
        raise Invalid(f"the seed must be from 0 to {SEED_MAX}")
    if segment.rm_id is not None and session.get(Staff, segment.rm_id) is None:
        raise Invalid(f"no RM {segment.rm_id!r}")


def _segment_query(user: Viewer, segment: Segment, month: date | None) -> Select[str]:
    stmt = select(Customer.customer_id).where(Customer.status == CustomerStatus.active, scope_filter(user))
    if segment.rm_id is not None:
        stmt = stmt.where(Customer.rm_id == segment.rm_id)
    if segment.tiers or segment.stages:
        if month is None:
            raise Invalid("tiers and stages come from the nightly results, and there are none yet")
        stmt = stmt.join(
            CustomerMonth,
            (CustomerMonth.customer_id == Customer.customer_id) & (CustomerMonth.month == month),
        )
        if segment.tiers:
            stmt = stmt.where(CustomerMonth.tier.in_([t.value for t in segment.tiers]))
        if segment.stages:
            stmt = stmt.where(CustomerMonth.stage.in_([s.value for s in segment.stages]))
    return stmt.order_by(Customer.customer_id)


def segment_customers(
    session: Session, *, user: Viewer, segment: Segment
) -> tuple[list[str], int, date | None]:
    """(the targeted customer ids in id order, how many matched before sampling, the nightly month)."""
    _check_segment(session, segment)
    month = session.scalar(select(func.max(CustomerMonth.month)))
    ids = list(session.scalars(_segment_query(user, segment, month)))
    matched = len(ids)
    if segment.sample_size is not None and segment.sample_size < matched:
        # random.Random: the same seed draws the same customers on every platform (documented algorithm)
        ids = sorted(random.Random(segment.seed).sample(ids, segment.sample_size))
    return ids, matched, month


def preview(session: Session, *, user: Viewer, segment: Segment) -> SegmentPreview:
    """How many customers a wave for ``segment`` would invite (the create page's preview)."""
    require_runner(user)
    ids, matched, month = segment_customers(session, user=user, segment=segment)
    return SegmentPreview(matched, len(ids), month)


def rm_choices(session: Session, *, user: Viewer) -> list[tuple[str, str]]:
    """The RMs whose book a wave may target: a team lead's team, else every active RM and team lead."""
    stmt = select(Staff.staff_id, Staff.name).where(
        Staff.role.in_([Role.rm.value, Role.team_lead.value]), Staff.status == StaffStatus.active
    )
    if Role(user.role) is Role.team_lead:
        team = select(Staff.team_id).where(Staff.staff_id == user.staff_id).scalar_subquery()
        stmt = stmt.where(Staff.team_id == team)
    return [(sid, name) for sid, name in session.execute(stmt.order_by(Staff.staff_id))]


# --- creating and closing ---------------------------------------------------------------------------


def create_wave(
    session: Session,
    *,
    user: Organiser,
    name: str,
    questionnaire: Questionnaire,
    segment: Segment,
    opens_on: date,
    closes_on: date,
    today: date,
    now: datetime,
) -> SurveyWave:
    """A wave of ``questionnaire`` with one invitation per customer of ``segment`` (in the user's scope)."""
    require_runner(user)
    title = " ".join(name.split())
    if not 1 <= len(title) <= NAME_MAX:
        raise Invalid(f"the name must be 1 to {NAME_MAX} characters long")
    if closes_on < opens_on:
        raise Invalid(f"the wave closes ({closes_on.isoformat()}) before it opens ({opens_on.isoformat()})")
    if closes_on < today:
        raise Invalid(f"the wave would close ({closes_on.isoformat()}) before today ({today.isoformat()})")
    ids, matched, month = segment_customers(session, user=user, segment=segment)
    if not ids:
        raise Invalid("no customer in your scope matches the segment")
    wave = SurveyWave(
        name=title,
        questionnaire_id=questionnaire.id,
        questionnaire_version=questionnaire.version,
        questionnaire=questionnaire.model_dump(mode="json"),
        tiers=[t.value for t in segment.tiers],
        stages=[s.value for s in segment.stages],
        rm_id=segment.rm_id,
        sample_size=segment.sample_size,
        sample_seed=segment.seed if segment.sample_size is not None else None,
        segment_month=month if (segment.tiers or segment.stages) else None,
        opens_on=opens_on,
        closes_on=closes_on,
        status=WaveStatus.open,
        created_by=user.id,
        created_at=now,
    )
    session.add(wave)
    session.flush()
    for start in range(0, len(ids), _CHUNK):
        session.execute(
            insert(SurveyInvitation),
            [{"wave_id": wave.id, "customer_id": c} for c in ids[start : start + _CHUNK]],
        )
    audit.record(
        session,
        actor=user,
        action="survey.wave_create",
        entity="survey_wave",
        entity_id=wave.id,
        details={
            "name": title,
            "questionnaire": f"{questionnaire.id} v{questionnaire.version}",
            "segment": segment.to_dict(),
            "opens_on": opens_on.isoformat(),
            "closes_on": closes_on.isoformat(),
            "matched": matched,
            "invited": len(ids),
        },
    )
    return wave


def visible_invitations(user: Viewer) -> ColumnElement[bool]:
    """Invitations of customers in the user's scope."""
    return SurveyInvitation.customer_id.in_(select(Customer.customer_id).where(scope_filter(user)))


def get_wave(session: Session, *, user: Viewer, wave_id: int) -> SurveyWave:
    """A wave with at least one invitation in the user's scope; else :class:`NotFound`."""
    require_viewer(user)
    wave = session.get(SurveyWave, wave_id)
    seen = session.scalar(
        select(SurveyInvitation.id)
        .where(SurveyInvitation.wave_id == wave_id, visible_invitations(user))
        .limit(1)
    )
    if wave is None or seen is None:
        raise NotFound(f"no survey wave {wave_id}")
    return wave


def close_wave(session: Session, *, user: Organiser, wave_id: int, now: datetime) -> SurveyWave:
    """Stop a wave taking answers now (its creator or a branch manager); its links then say it ended."""
    require_runner(user)
    wave = get_wave(session, user=user, wave_id=wave_id)
    if Role(user.role) is not Role.branch_manager and wave.created_by != user.id:
        raise Forbidden("only the wave's creator or a branch manager may close it")
    if wave.status is WaveStatus.closed:
        raise Conflict(f"survey wave {wave_id} is already closed")
    wave.status = WaveStatus.closed
    wave.closed_at = now
    session.flush()
    audit.record(session, actor=user, action="survey.wave_close", entity="survey_wave", entity_id=wave.id)
    return wave


def wave_state(wave: SurveyWave, today: date) -> str:
    """``scheduled``, ``open``, ``ended`` (past its closing day) or ``closed`` (closed early)."""
    if wave.status is WaveStatus.closed:
        return "closed"
    if today < wave.opens_on:
        return "scheduled"
    if today > wave.closes_on:
        return "ended"
    return "open"


# --- tokens -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A token in plain text, shown once: put it in the customer's link, ``/s/<token>``."""

    customer_id: str
    rm_id: str | None
    token: str


def issue_tokens(
    session: Session, *, user: Organiser, wave_id: int, today: date, now: datetime, reissue: bool = False
) -> list[IssuedToken]:
    """Tokens for the unanswered invitations in the user's scope that have none (``reissue``: also
    replace the ones issued before, which stop working). Returned once; only hashes are stored."""
    if Role(user.role) not in TOKEN_ROLES:
        raise Forbidden(f"the {Role(user.role).value} role may not issue survey links")
    wave = get_wave(session, user=user, wave_id=wave_id)
    state = wave_state(wave, today)
    if state in ("closed", "ended"):
        raise Conflict(f"survey wave {wave_id} has {state}: its links would not work")
    conditions = [
        SurveyInvitation.wave_id == wave_id,
        SurveyInvitation.used_at.is_(None),
        visible_invitations(user),
    ]
    if not reissue:
        conditions.append(SurveyInvitation.token_hash.is_(None))
    rows = session.execute(
        select(SurveyInvitation, Customer.rm_id)
        .join(Customer, Customer.customer_id == SurveyInvitation.customer_id)
        .where(*conditions)
        .order_by(SurveyInvitation.customer_id)
    ).all()
    if not rows:
        raise Conflict(
            "every unanswered invitation already has a token: re-issue to replace them"
            if not reissue
            else "every invitation has been answered"
        )
    issued = []
    for invitation, rm_id in rows:
        token = new_token()
        invitation.token_hash = hash_token(token)
        invitation.issued_at = now
        issued.append(IssuedToken(invitation.customer_id, rm_id, token))
    session.flush()
    audit.record(
        session,
        actor=user,
        action="survey.tokens_issue",
        entity="survey_wave",
        entity_id=wave_id,
        details={"count": len(issued), "reissue": reissue},
    )
    return issued
