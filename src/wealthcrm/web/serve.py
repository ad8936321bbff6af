"""An app factory for process managers: ``uvicorn --factory wealthcrm.web.serve:app --workers 4``.

Settings come from the environment (``WEALTHCRM_…``) and the settings file, as for the CLI; each
worker process builds its own app and engine. ``wealthcrm serve`` is the one-process equivalent.
"""

from __future__ import annotations

import gc

from fastapi import FastAPI

from wealthcrm.config import load_settings
from wealthcrm.web.app import create_app


def freeze_heap() -> None:
    """Move every object alive now (the app, its modules: some 300,000 objects) out of the garbage
    collector's view. A server process is built once and then only serves requests; without this,
    each full collection walked all of them: 60–270 ms pauses every few seconds, in the middle of
    requests, under load (bench/web.py). Objects made later are collected as before; the frozen ones
    are still freed when no longer referenced, only never searched for cycles."""
    gc.collect()
    gc.freeze()


def app() -> FastAPI:
    application = create_app(load_settings())
    freeze_heap()
    return application
