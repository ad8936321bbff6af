"""An app factory for process managers: ``uvicorn --factory wealthcrm.web.serve:app --workers 4``.

Settings come from the environment (``WEALTHCRM_…``) and the settings file, as for the CLI; each
worker process builds its own app and engine. ``wealthcrm serve`` is the one-process equivalent.
"""

from __future__ import annotations

from fastapi import FastAPI

from wealthcrm.config import load_settings
from wealthcrm.web.app import create_app


def app() -> FastAPI:
    return create_app(load_settings())
