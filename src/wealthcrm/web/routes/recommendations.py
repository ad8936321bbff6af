"""Recommendations (next best actions) behind the suitability gate, and team-lead overrides."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import HTMLResponse

router = APIRouter()


@router.get("/customers/{customer_id}/panels/recommendations", include_in_schema=False)
def recommendations_panel(customer_id: str) -> HTMLResponse:
    """Customer 360's recommendations panel (an htmx fragment). Placeholder until the area lands."""
    return HTMLResponse("")
