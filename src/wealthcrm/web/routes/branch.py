"""The Branch page: tiers and AUM, migration, churn and asset-loss trends, retention curves, value grid."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
