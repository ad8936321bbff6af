"""Login accounts: create, get, verify passwords (argon2); the administrator's changes, each audited.

:func:`create` alone is also used by set-up code without an actor (nothing to audit yet); every change
made by a person goes through the functions taking ``actor``, which write the audit log.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from wealthcrm.audit.service import Actor, record
from wealthcrm.db import utcnow
from wealthcrm.errors import Conflict, Forbidden, Invalid, NotFound
from wealthcrm.staff.models import Staff
from wealthcrm.users import tokens
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


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid(f"password: at least {MIN_PASSWORD_LENGTH} characters")


def _check_staff(session: Session, role: Role, staff_id: str | None) -> Staff | None:
    """The staff member a user of ``role`` links to; RMs and team leads must link to one of their role."""
    if staff_id is None:
        if role in (Role.rm, Role.team_lead):
            raise Invalid(f"a {role.value} user must be linked to a staff member (--staff-id)")
        return None
    staff = session.get(Staff, staff_id)
    if staff is None:
        raise NotFound(f"no staff member {staff_id!r}")
    if staff.role != role:
        raise Invalid(f"staff member {staff_id} has role {staff.role.value}, not {role.value}")
    return staff


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
    _check_password(password)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"user {username!r} already exists")
    staff = _check_staff(session, role, staff_id)
    if staff is not None:
        display_name = display_name or staff.name
    user = User(
        username=username,
        password_hash=hash_password(password),
        role=role,
        staff_id=staff_id,
        display_name=display_name,
        is_active=True,
        failed_logins=0,
        created_at=utcnow(),
    )
    session.add(user)
    session.flush()
    return user


# --- the administrator's changes (audited) ---------------------------------------------------------


def list_users(session: Session, *, role: Role | None = None, active: bool | None = None) -> Sequence[User]:
    """Every user (of ``role``; active or not, when asked), by name."""
    stmt = select(User).order_by(User.username)
    if role is not None:
        stmt = stmt.where(User.role == role)
    if active is not None:
        stmt = stmt.where(User.is_active.is_(active))
    return session.scalars(stmt).all()


def add(
    session: Session,
    *,
    actor: Actor | None,
    username: str,
    password: str,
    role: Role,
    staff_id: str | None = None,
    display_name: str | None = None,
) -> User:
    """:func:`create`, audited as ``user.create`` (the password is never logged)."""
    user = create(
        session, username=username, password=password, role=role, staff_id=staff_id, display_name=display_name
    )
    record(
        session,
        actor=actor,
        action="user.create",
        entity="user",
        entity_id=user.username,
        details={"role": role.value, "staff_id": staff_id},
    )
    return user


def _active_admins(session: Session) -> int:
    return session.scalar(select(func.count()).where(User.role == Role.admin, User.is_active.is_(True))) or 0


def _not_the_last_admin(session: Session, user: User) -> None:
    if user.role is Role.admin and user.is_active and _active_admins(session) <= 1:
        raise Conflict("the last active administrator cannot lose that role or be deactivated")


def set_role(
    session: Session,
    *,
    actor: Actor | None,
    username: str,
    role: Role,
    staff_id: str | None = None,
    display_name: str | None = None,
) -> User:
    """Change a user's role and staff link (and display name when given); audited as ``user.update``."""
    user = get(session, username=username)
    staff = _check_staff(session, role, staff_id)
    if role is not Role.admin:
        _not_the_last_admin(session, user)
    before = {"role": user.role.value, "staff_id": user.staff_id, "display_name": user.display_name}
    user.role, user.staff_id = role, staff_id
    if display_name:
        user.display_name = display_name
    elif staff is not None:
        user.display_name = staff.name
    after = {"role": user.role.value, "staff_id": user.staff_id, "display_name": user.display_name}
    changes = {k: [before[k], after[k]] for k in before if before[k] != after[k]}
    record(session, actor=actor, action="user.update", entity="user", entity_id=username, details=changes)
    session.flush()
    return user


def set_active(session: Session, *, actor: Actor | None, username: str, active: bool) -> User:
    """Deactivate (no login, every API token revoked) or reactivate a user; audited."""
    user = get(session, username=username)
    if not active:
        if actor is not None and actor.username == username:
            raise Forbidden("you cannot deactivate your own account")
        _not_the_last_admin(session, user)
    if user.is_active != active:
        user.is_active = active
        revoked = 0 if active else tokens.revoke_all(session, user_id=user.id, now=utcnow())
        action = "user.activate" if active else "user.deactivate"
        details = {} if active else {"tokens_revoked": revoked}
        record(session, actor=actor, action=action, entity="user", entity_id=username, details=details)
    return user


def reset_password(session: Session, *, actor: Actor | None, username: str, password: str) -> User:
    """Set a new password, clear the lockout and revoke the user's API tokens; audited."""
    _check_password(password)
    user = get(session, username=username)
    user.password_hash = hash_password(password)
    user.failed_logins, user.locked_until = 0, None
    revoked = tokens.revoke_all(session, user_id=user.id, now=utcnow())
    record(
        session,
        actor=actor,
        action="user.reset_password",
        entity="user",
        entity_id=username,
        details={"tokens_revoked": revoked},
    )
    return user


def unlock(session: Session, *, actor: Actor | None, username: str) -> User:
    """End a lockout after wrong passwords; audited."""
    user = get(session, username=username)
    user.failed_logins, user.locked_until = 0, None
    record(session, actor=actor, action="user.unlock", entity="user", entity_id=username)
    return user
