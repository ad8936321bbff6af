"""Fixtures of the web tests: the test branch on each database, the app, and logged-in clients."""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine

from wealthcrm.config import Settings
from wealthcrm.web import create_app

from .branch import PASSWORD, load_branch

with warnings.catch_warnings():
    # Starlette suggests httpx2 for its TestClient; the project pins httpx, which still works.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def branch(engine: Engine, settings: Settings, tmp_path: Path) -> Engine:
    """The engine of a database holding the test branch (two months of AUM) and its users."""
    load_branch(engine, settings, tmp_path / "branch")
    return engine


@pytest.fixture
def app(branch: Engine, settings: Settings) -> FastAPI:
    return create_app(settings, branch)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


def csrf_token(client: TestClient, path: str = "/login") -> str:
    """The session's CSRF token, read from the form of a page."""
    match = CSRF_RE.search(client.get(path).text)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def log_in(client: TestClient, username: str, password: str = PASSWORD) -> httpx.Response:
    token = csrf_token(client)
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token, "next": "/"},
        follow_redirects=False,
    )


@pytest.fixture
def login(client: TestClient) -> Callable[[str], TestClient]:
    """Log the client in as one of the test branch's users and return it."""

    def _login(username: str) -> TestClient:
        response = log_in(client, username)
        assert response.status_code == 303, response.text
        return client

    return _login
