"""The application factory: ``create_app(settings)`` builds the whole web app, reading nothing at import.

Start it with ``uvicorn.run(create_app(load_settings()), host="127.0.0.1", port=8000)``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI
from sqlalchemy import Engine
from starlette.middleware.sessions import SessionMiddleware
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from wealthcrm import __version__
from wealthcrm.config import Settings
from wealthcrm.db import make_engine
from wealthcrm.web import errors
from wealthcrm.web.auth import SESSION_COOKIE, load_or_create_session_key
from wealthcrm.web.i18n import load_translators
from wealthcrm.web.routes import ROUTERS
from wealthcrm.web.templating import STATIC_DIR, make_templates

# Everything comes from this site: no CDN, no inline script (chart data is JSON in <script type=…>).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
]


class SecurityHeaders:
    """Adds the security headers to every HTTP response (pure ASGI: no body buffering)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(settings: Settings, engine: Engine | None = None) -> FastAPI:
    """The web app for ``settings``; ``engine`` defaults to one for ``settings.effective_database_url``."""
    owns_engine = engine is None
    db_engine = engine if engine is not None else make_engine(settings.effective_database_url)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # the routes' synchronous work (SQL, rendering) runs in the thread pool: web.threads at once
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.web.threads
        yield
        if owns_engine:
            db_engine.dispose()

    app = FastAPI(
        title="wealthcrm",
        version=__version__,
        docs_url=None,  # Swagger UI and ReDoc load from a CDN; the OpenAPI document is enough
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = db_engine
    app.state.translators = load_translators()
    app.state.templates = make_templates()

    app.add_middleware(
        SessionMiddleware,
        secret_key=load_or_create_session_key(settings.web.session_secret, settings.data_dir),
        session_cookie=SESSION_COOKIE,
        max_age=settings.web.session_max_age_minutes * 60,
        same_site="lax",
        https_only=settings.web.cookie_secure,
    )
    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for router in ROUTERS:
        app.include_router(router)
    errors.install(app)
    return app
