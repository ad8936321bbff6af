"""The administrator's changes to users (service and `wealthcrm user` CLI): validated, audited."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from wealthcrm.audit.models import AuditEntry
from wealthcrm.cli.main import app
from wealthcrm.db import session_scope
from wealthcrm.errors import Conflict, Forbidden, Invalid
from wealthcrm.staff.models import Branch, Staff
from wealthcrm.users import service, tokens
from wealthcrm.users.models import ApiToken
from wealthcrm.vocab import Role, StaffStatus

from ..conftest import TEST_FIELD_KEY

NOW = datetime(2026, 11, 28, 9)


@dataclass(frozen=True)
class _Admin:
    username: str = "admin1"
    role: Role = Role.admin


ADMIN = _Admin()


def _staff(session: Session) -> None:
    session.add(Branch(branch_id="B1", name="Branch"))
    for staff_id, role in (("S1", Role.rm), ("S2", Role.team_lead)):
        session.add(
            Staff(
                staff_id=staff_id,
                branch_id="B1",
                name=f"staff {staff_id}",
                role=role,
                status=StaffStatus.active,
                joined_on=date(2020, 1, 1),
            )
        )
    session.flush()


def _actions(session: Session) -> list[tuple[str, str, str | None]]:
    rows = session.execute(
        select(AuditEntry.actor, AuditEntry.action, AuditEntry.entity_id).order_by(AuditEntry.seq)
    )
    return [tuple(r) for r in rows]  # type: ignore[misc]


def test_changes_are_validated_and_audited(session: Session) -> None:
    _staff(session)
    service.add(session, actor=ADMIN, username="admin1", password="long password 1", role=Role.admin)
    service.add(
        session, actor=ADMIN, username="rm01", password="long password 1", role=Role.rm, staff_id="S1"
    )
    with pytest.raises(Invalid, match="has role rm, not team_lead"):
        service.set_role(session, actor=ADMIN, username="rm01", role=Role.team_lead, staff_id="S1")
    user = service.set_role(session, actor=ADMIN, username="rm01", role=Role.team_lead, staff_id="S2")
    assert (user.role, user.staff_id, user.display_name) == (Role.team_lead, "S2", "staff S2")
    with pytest.raises(Conflict, match="last active administrator"):
        service.set_role(session, actor=ADMIN, username="admin1", role=Role.auditor)
    with pytest.raises(Forbidden, match="your own account"):
        service.set_active(session, actor=ADMIN, username="admin1", active=False)

    issued = tokens.issue(session, user=user, now=NOW, hours=8)
    user.failed_logins, user.locked_until = 3, NOW + timedelta(minutes=5)
    service.unlock(session, actor=ADMIN, username="rm01")
    assert (user.failed_logins, user.locked_until) == (0, None)
    service.set_active(session, actor=ADMIN, username="rm01", active=False)
    assert session.get(ApiToken, issued.token_id).revoked_at is not None  # type: ignore[union-attr]
    service.set_active(session, actor=ADMIN, username="rm01", active=True)
    with pytest.raises(Invalid, match="at least 10"):
        service.reset_password(session, actor=ADMIN, username="rm01", password="short")
    service.reset_password(session, actor=ADMIN, username="rm01", password="a new long password")
    assert service.check_password(user, "a new long password")
    assert [u.username for u in service.list_users(session, active=True)] == ["admin1", "rm01"]
    assert _actions(session) == [
        ("admin1", "user.create", "admin1"),
        ("admin1", "user.create", "rm01"),
        ("admin1", "user.update", "rm01"),
        ("admin1", "user.unlock", "rm01"),
        ("admin1", "user.deactivate", "rm01"),
        ("admin1", "user.activate", "rm01"),
        ("admin1", "user.reset_password", "rm01"),
    ]
    assert "a new long password" not in str(session.scalars(select(AuditEntry.details)).all())


runner = CliRunner()


def test_the_user_commands(
    db_url: str, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WEALTHCRM_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("WEALTHCRM_FIELD_KEY", TEST_FIELD_KEY)
    monkeypatch.chdir(tmp_path)
    with session_scope(engine) as session:
        _staff(session)

    def run(*args: str) -> tuple[int, str]:
        result = runner.invoke(app, ["--database", db_url, *args])
        return result.exit_code, result.output

    assert (
        run("user", "add", "rm01", "--role", "rm", "--staff-id", "S1", "--password", "long password 1")[0]
        == 0
    )
    assert run("user", "add", "comp", "--role", "auditor", "--password", "long password 1")[0] == 0
    code, out = run("user", "set-role", "rm01", "--role", "team_lead", "--staff-id", "S2")
    assert (code, out.strip()) == (0, "rm01 is now team_lead")
    code, out = run("user", "set-role", "rm01", "--role", "rm")
    assert code == 1 and "must be linked to a staff member" in out
    assert run("user", "deactivate", "comp") == (0, "deactivated comp\n")
    assert run("user", "reset-password", "rm01", "--password", "another password")[0] == 0
    assert run("user", "unlock", "rm01") == (0, "unlocked rm01\n")
    assert run("user", "activate", "nobody")[0] == 1
    code, out = run("user", "list", "--json")
    assert code == 0
    assert [(u["username"], u["role"], u["staff_id"], u["active"]) for u in json.loads(out)] == [
        ("comp", "auditor", None, False),
        ("rm01", "team_lead", "S2", True),
    ]
    with session_scope(engine) as session:
        actions = [(a.split(":")[0], b) for a, b, _ in _actions(session)]
    assert actions == [
        ("cli", "user.create"),
        ("cli", "user.create"),
        ("cli", "user.update"),
        ("cli", "user.deactivate"),
        ("cli", "user.reset_password"),
        ("cli", "user.unlock"),
    ]
