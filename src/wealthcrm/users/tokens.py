"""API bearer tokens: issued once in clear, stored only as SHA-256, revocable, expiring.

A token is 32 random bytes (``secrets.token_urlsafe``) behind the prefix ``wcrm_`` (so a leaked one is
easy to recognise in logs and secret scanners). SHA-256 without salt is enough for random tokens of
this length: there is nothing to guess by dictionary, and a look-up by hash stays one index probe.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from wealthcrm.users.models import ApiToken, User

PREFIX = "wcrm_"
#: ``last_used_at`` is written at most this often per token (not on every API call)
TOUCH_EVERY = timedelta(minutes=5)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str  # shown once; only its hash is stored
    token_id: int
    expires_at: datetime


def issue(session: Session, *, user: User, now: datetime, hours: int, name: str | None = None) -> IssuedToken:
    """A new token for ``user`` valid ``hours`` from ``now`` (naive UTC)."""
    token = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        user_id=user.id,
        token_hash=token_hash(token),
        name=name,
        created_at=now,
        expires_at=now + timedelta(hours=hours),
    )
    session.add(row)
    session.flush()
    return IssuedToken(token, row.id, row.expires_at)


def find(session: Session, *, token: str, now: datetime) -> tuple[ApiToken, User] | None:
    """The token's row and user if the token is known, unrevoked, unexpired and its user active."""
    if not token.startswith(PREFIX) or len(token) > 200:
        return None
    found = session.execute(
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == token_hash(token))
    ).one_or_none()
    if found is None:
        return None
    row, user = found
    if row.revoked_at is not None or row.expires_at <= now or not user.is_active:
        return None
    if row.last_used_at is None or now - row.last_used_at >= TOUCH_EVERY:
        row.last_used_at = now
    return row, user


def revoke(session: Session, *, token_id: int, now: datetime) -> None:
    row = session.get(ApiToken, token_id)
    if row is not None and row.revoked_at is None:
        row.revoked_at = now


def revoke_all(session: Session, *, user_id: int, now: datetime) -> int:
    """Revoke every unrevoked token of a user (when deactivated or their password is reset)."""
    rows = session.scalars(
        select(ApiToken).where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
    ).all()
    for row in rows:
        row.revoked_at = now
    return len(rows)
