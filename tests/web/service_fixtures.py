"""What the service web tests share: the workbench branch with the desk's staff record active and a
look-up grant for C001, the service clock fixed at Monday 30 November 2026 10:00 in Beijing, and
clients logged in as any of the branch's users."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from wealthcrm.config import Settings
from wealthcrm.customers.models import AccessGrant
from wealthcrm.db import session_scope, utcnow
from wealthcrm.staff.models import Staff
from wealthcrm.users.models import User
from wealthcrm.vocab import StaffStatus
from wealthcrm.web import create_app
from wealthcrm.web.deps import current_date
from wealthcrm.web.routes.service_common import service_now

from ..customers.workbench import load_workbench
from .conftest import TestClient, log_in

TODAY = date(2026, 11, 28)
#: Monday 30 November 2026, 10:00 in Beijing
NOW = datetime(2026, 11, 30, 2, 0)
HTMX = {"HX-Request": "true"}


@pytest.fixture
def app(engine: Engine, settings: Settings, tmp_path: Path) -> FastAPI:
    load_workbench(engine, settings, tmp_path / "branch")
    with session_scope(engine) as session:
        active(session, "S003")  # the desk's staff record (the importer's factories have it left)
        # the desk's user has looked C001 up (as /lookup does), valid for the real clock's next hours
        session.add(
            AccessGrant(
                user_id=user_id(session, "svc"),
                customer_id="C001",
                reason="walk-in, ticket A023",
                granted_at=utcnow(),
                expires_at=utcnow() + timedelta(hours=4),
            )
        )
    application = create_app(settings, engine)
    application.dependency_overrides[current_date] = lambda: TODAY
    application.dependency_overrides[service_now] = lambda: NOW
    return application


def active(session: Session, staff_id: str) -> None:
    staff = session.get(Staff, staff_id)
    assert staff is not None
    staff.status, staff.left_on = StaffStatus.active, None


def user_id(session: Session, username: str) -> int:
    uid = session.scalar(select(User.id).where(User.username == username))
    assert isinstance(uid, int)
    return uid


@pytest.fixture
def as_user(app: FastAPI) -> Iterator[Callable[[str], TestClient]]:
    clients: list[TestClient] = []

    def _as(username: str) -> TestClient:
        client = TestClient(app)
        client.__enter__()
        clients.append(client)
        assert log_in(client, username).status_code == 303
        return client

    yield _as
    for client in clients:
        client.__exit__(None, None, None)
