"""Liveness for load balancers and monitoring: no login, no database, nothing to leak."""

from __future__ import annotations

from wealthcrm import __version__
from wealthcrm.web.routing import make_router

router = make_router()


@router.get("/api/v1/health", tags=["health"])
def health() -> dict[str, str]:
    """``{"status": "ok", "version": …}`` while the process serves requests."""
    return {"status": "ok", "version": __version__}
