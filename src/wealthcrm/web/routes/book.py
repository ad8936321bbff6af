"""The Book: filter, sort, search, saved views and CSV export of the caller's customers."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
