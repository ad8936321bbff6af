"""The Team page: coverage and risk per RM, reassignment with handover notes, an RM's departure."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
