"""The routers of the web app, one module per area; ``ROUTERS`` is what the app includes."""

from __future__ import annotations

from fastapi import APIRouter

from wealthcrm.web.routes import (
    admin,
    audit,
    auth,
    book,
    branch,
    health,
    overview,
    recommendations,
    tasks,
    team,
    workbench,
)

ROUTERS: tuple[APIRouter, ...] = (
    health.router,
    auth.router,
    overview.router,
    workbench.router,
    tasks.router,
    book.router,
    team.router,
    branch.router,
    audit.router,
    admin.router,
    recommendations.router,
)
