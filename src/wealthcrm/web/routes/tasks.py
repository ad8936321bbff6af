"""Tasks and interactions: working Today's list, logging contacts (pages, fragments and /api/v1)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import HTMLResponse

router = APIRouter()


@router.get("/customers/{customer_id}/panels/tasks", include_in_schema=False)
def tasks_panel(customer_id: str) -> HTMLResponse:
    """Customer 360's tasks panel (an htmx fragment). Placeholder until the area lands."""
    return HTMLResponse("")
