"""A request goes to the thread pool once, and holds a database connection only while its route runs:
so a worker with one thread (``web.threads``) and a small connection pool serves many clients at once."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import anyio.to_thread
import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session

from wealthcrm.audit.access import REQUEST_INFO
from wealthcrm.audit.models import AuditEntry
from wealthcrm.config import Settings
from wealthcrm.db import make_engine
from wealthcrm.web import create_app
from wealthcrm.web.routes import ROUTERS
from wealthcrm.web.routing import OneHopRoute

from .branch import PASSWORD
from .conftest import CSRF_RE, TestClient


def test_every_route_of_the_app_is_a_one_hop_route() -> None:
    routes = [route for router in ROUTERS for route in router.routes if isinstance(route, APIRoute)]
    assert len(routes) > 100
    assert [r.path for r in routes if not isinstance(r, OneHopRoute)] == []


@pytest.fixture
def hand_overs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the functions handed to the thread pool (anyio.to_thread.run_sync)."""
    calls: list[str] = []
    original = anyio.to_thread.run_sync

    async def counting(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        calls.append(getattr(func, "__name__", repr(func)))
        return await original(func, *args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", counting)
    return calls


@pytest.mark.parametrize("path", ["/api/v1/customers", "/api/v1/today", "/today", "/book", "/customers/C001"])
def test_a_request_goes_to_the_thread_pool_once(
    login: Callable[[str], TestClient], hand_overs: list[str], path: str
) -> None:
    client = login("rm01")
    hand_overs.clear()
    response = client.get(path)
    assert response.status_code == 200, response.text
    # the route alone: the login check, the commit and the JSON encoding stay on the event loop
    assert len(hand_overs) == 1, hand_overs


def test_one_thread_and_one_connection_serve_twelve_clients_at_once(
    branch: Engine, settings: Settings, db_url: str
) -> None:
    """Twelve clients at once on a worker with one thread and a pool of one connection (30 s
    timeout cut to 5): every request answers. Had a request kept its connection after its route,
    the next route would wait for the pool and fail."""
    one_connection = make_engine(db_url, pool_size=1, max_overflow=0, pool_timeout=5)
    app = create_app(
        settings.model_copy(update={"web": settings.web.model_copy(update={"threads": 1})}), one_connection
    )

    async def clients() -> list[int]:
        async with app.router.lifespan_context(app):
            assert anyio.to_thread.current_default_thread_limiter().total_tokens == 1
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                match = CSRF_RE.search((await client.get("/login")).text)
                assert match
                form = {"username": "rm01", "password": PASSWORD, "csrf_token": match.group(1), "next": "/"}
                assert (await client.post("/login", data=form)).status_code == 303
                paths = ["/api/v1/customers", "/today", "/customers/C001", "/book"] * 3
                responses = await asyncio.gather(*(client.get(path) for path in paths))
        return [r.status_code for r in responses]

    try:
        assert asyncio.run(clients()) == [200] * 12
    finally:
        one_connection.dispose()


def _app_threads(app: FastAPI) -> int:
    async def read() -> int:
        async with app.router.lifespan_context(app):
            return int(anyio.to_thread.current_default_thread_limiter().total_tokens)

    return asyncio.run(read())


def test_web_threads_sets_the_thread_pool(branch: Engine, settings: Settings) -> None:
    web = settings.web.model_copy(update={"threads": 3})
    assert _app_threads(create_app(settings.model_copy(update={"web": web}), branch)) == 3
    assert _app_threads(create_app(settings, branch)) == 1  # the default


def test_the_request_transaction_ends_in_the_routes_thread(
    login: Callable[[str], TestClient], branch: Engine
) -> None:
    """A write's commit, a refused request's rollback and the access_denied entry written after it all
    happen in the route's worker thread, never on the event loop, where they could wait behind a lock."""
    client = login("rm01")
    ended: list[tuple[str, str]] = []

    def note(event_name: str) -> Callable[[Session], None]:
        def listener(session: Session) -> None:
            if REQUEST_INFO in session.info:
                ended.append((event_name, threading.current_thread().name))

        return listener

    listeners = [("after_commit", note("commit")), ("after_rollback", note("rollback"))]
    for name, fn in listeners:
        event.listen(Session, name, fn)
    try:
        token = client.get("/book").text.split('"X-CSRF-Token": "')[1].split('"')[0]
        saved = client.post("/api/v1/saved-views", json={"name": "high", "query": "risk=high"},
                            headers={"X-CSRF-Token": token})  # fmt: skip
        assert saved.status_code == 201, saved.text
        assert client.get("/customers/C002").status_code == 404  # the lead's customer
    finally:
        for name, fn in listeners:
            event.remove(Session, name, fn)
    pool_threads = {thread for _event, thread in ended}
    assert [e for e, _ in ended] == ["commit", "commit", "rollback"]  # the book, the view, the 404
    assert pool_threads == {"AnyIO worker thread"}
    with Session(branch) as session:
        denied = session.scalars(select(AuditEntry).where(AuditEntry.action == "access_denied")).all()
    assert [(e.actor, e.customer_id) for e in denied] == [("rm01", "C002")]
