"""The web application (FastAPI, Jinja2 pages, JSON API): the only package that imports FastAPI."""

from __future__ import annotations

from wealthcrm.web.app import create_app

__all__ = ["create_app"]
