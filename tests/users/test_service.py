from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from wealthcrm.errors import Conflict, Invalid, NotFound
from wealthcrm.staff.models import Branch, Staff
from wealthcrm.users import service
from wealthcrm.vocab import Role, StaffStatus


@pytest.fixture
def rm(session: Session) -> Staff:
    session.add(Branch(branch_id="B1", name="Branch"))
    staff = Staff(
        staff_id="S1",
        branch_id="B1",
        name="王经理",
        role=Role.rm,
        status=StaffStatus.active,
        joined_on=date(2020, 1, 1),
    )
    session.add(staff)
    session.flush()
    return staff


def test_create_and_verify(session: Session, rm: Staff) -> None:
    user = service.create(session, username="rm01", password="correct horse", role=Role.rm, staff_id="S1")
    assert (user.role, user.staff_id, user.display_name) == (Role.rm, "S1", "王经理")
    assert user.password_hash.startswith("$argon2id$")
    fetched = service.get(session, username="rm01")
    assert service.check_password(fetched, "correct horse")
    assert not service.check_password(fetched, "wrong horse!")


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"username": "RM 01"}, Invalid, "username"),
        ({"password": "short"}, Invalid, "at least 10"),
        ({"staff_id": "S9"}, NotFound, "no staff member 'S9'"),
        ({"role": Role.team_lead}, Invalid, "has role rm, not team_lead"),
        ({"staff_id": None}, Invalid, "must be linked to a staff member"),
    ],
)
def test_rejections(
    session: Session, rm: Staff, kwargs: dict[str, object], error: type, message: str
) -> None:
    args: dict[str, object] = {
        "username": "rm01",
        "password": "long enough pw",
        "role": Role.rm,
        "staff_id": "S1",
    }
    args.update(kwargs)
    with pytest.raises(error, match=message):
        service.create(session, **args)  # type: ignore[arg-type]


def test_duplicate_username(session: Session, rm: Staff) -> None:
    service.create(session, username="admin", password="long enough pw", role=Role.admin)
    with pytest.raises(Conflict, match="already exists"):
        service.create(session, username="admin", password="long enough pw", role=Role.admin)
