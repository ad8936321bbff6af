"""The audit log for auditors (search, export) and the deliberate, audited unmasking of PII."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
