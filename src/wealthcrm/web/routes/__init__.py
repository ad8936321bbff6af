"""The routers of the web app, one module per area; ``ROUTERS`` is what the app includes."""

from __future__ import annotations

from fastapi import APIRouter

from wealthcrm.web.routes import auth, overview, workbench

ROUTERS: tuple[APIRouter, ...] = (auth.router, overview.router, workbench.router)
