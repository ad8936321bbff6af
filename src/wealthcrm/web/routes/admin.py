"""Administration: users and roles, API tokens, delegations; the service desk's audited customer look-up."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
