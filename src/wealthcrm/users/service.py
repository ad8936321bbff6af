"""Login accounts: create, get, verify passwords (argon2)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from wealthcrm.errors import Conflict, Invalid, NotFound
from wealthcrm.staff.models import Staff
from wealthcrm.users.models import User
from wealthcrm.vocab import Role

_USERNAME = re.compile(r"^[a-z][a-z0-9_.-]{1,63}$")
MIN_PASSWORD_LENGTH = 10
_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(user: User, password: str) -> bool:
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def get(session: Session, *, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no user {username!r}")
    return user


def create(
    session: Session,
    *,
    username: str,
    password: str,
    role: Role,
    staff_id: str | None = None,
    display_name: str | None = None,
) -> User:
    """Add a user. A user linked to a staff member takes that member's role (an RM logs in as an RM)."""
    if not _USERNAME.match(username):
        raise Invalid(
            "username: 2–64 characters, lower-case letters, digits, '.', '_' or '-', starting with a letter"
        )
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid(f"password: at least {MIN_PASSWORD_LENGTH} characters")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"user {username!r} already exists")
    if staff_id is not None:
        staff = session.get(Staff, staff_id)
        if staff is None:
            raise NotFound(f"no staff member {staff_id!r}")
        if staff.role != role:
            raise Invalid(f"staff member {staff_id} has role {staff.role.value}, not {role.value}")
        display_name = display_name or staff.name
    elif role in (Role.rm, Role.team_lead):
        raise Invalid(f"a {role.value} user must be linked to a staff member (--staff-id)")
    user = User(
        username=username,
        password_hash=hash_password(password),
        role=role,
        staff_id=staff_id,
        display_name=display_name,
        is_active=True,
        failed_logins=0,
        created_at=datetime.now(UTC).replace(tzinfo=None),
    )
    session.add(user)
    session.flush()
    return user
