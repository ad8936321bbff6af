"""Demo logins for a simulated branch: one user per RM and team lead, and one for every other role."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from wealthcrm.staff.models import Staff
from wealthcrm.users import service as users
from wealthcrm.vocab import Role, StaffStatus

#: role → login prefix; staff-linked roles get one numbered login per active staff member
_PREFIX = {Role.rm: "rm", Role.team_lead: "lead", Role.branch_manager: "manager", Role.service: "service"}
_UNLINKED = (("analyst01", Role.analyst), ("auditor01", Role.auditor), ("admin", Role.admin))


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: Role
    staff_id: str | None
    name: str | None


def create_demo_users(session: Session, *, password: str) -> list[DemoLogin]:
    """rm01…rmNN for the active RMs (by staff number), lead01…, manager01, service01…, analyst01,
    auditor01 and admin, all with the same password. Returns the logins in that order."""
    logins: list[DemoLogin] = []
    active = session.scalars(
        select(Staff).where(Staff.status == StaffStatus.active).order_by(Staff.staff_id)
    ).all()
    for role, prefix in _PREFIX.items():
        members = [s for s in active if s.role == role]
        for number, member in enumerate(members, start=1):
            username = f"{prefix}{number:02d}"
            users.create(session, username=username, password=password, role=role, staff_id=member.staff_id)
            logins.append(DemoLogin(username, role, member.staff_id, member.name))
    for username, role in _UNLINKED:
        users.create(session, username=username, password=password, role=role)
        logins.append(DemoLogin(username, role, None, None))
    return logins
