"""Liveness for load balancers and monitoring: no login, no database, nothing to leak."""

from __future__ import annotations

from fastapi import APIRouter

from wealthcrm import __version__

router = APIRouter()


@router.get("/api/v1/health", tags=["health"])
def health() -> dict[str, str]:
    """``{"status": "ok", "version": …}`` while the process serves requests."""
    return {"status": "ok", "version": __version__}
