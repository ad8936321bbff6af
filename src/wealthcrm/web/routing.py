"""Routes that go to the thread pool once per request (:class:`OneHopRoute`, every router's class),
and end their transaction there.

FastAPI runs a synchronous route function in the thread pool and then, because the function is
synchronous, checks its return value against the return annotation in the thread pool again, before
the request's dependencies end (the transaction's end, :func:`wealthcrm.web.deps.db_session`).
With ``web.threads`` routes at a time per process (one by default), that second hand-over waits
behind the routes of the other requests, and the request's database connection stays checked out
through the wait: under load the pool ran dry and requests failed after its 30 s timeout
(bench/web.py, 16 clients). :class:`OneHopRoute` hands a synchronous route function to the
thread pool inside an ``async`` wrapper, so FastAPI treats it as a coroutine: the function runs in
the thread pool as before, the request's transaction is committed (or rolled back) right after it
in the same thread, and the checks and the JSON encoding follow on the event loop.

Ending the transaction in the thread matters as much: a commit left to the event loop would wait
there behind whatever the loop is doing, and if that were a write waiting for a lock this
transaction holds (an audit entry of a refused request, written after its rollback), neither could
go on until the lock wait timed out.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool

from wealthcrm.web.deps import end_transaction


def _in_transaction(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run a route and end the request's transaction, in the same thread."""
    try:
        result = function(*args, **kwargs)
    except BaseException:
        end_transaction(commit=False)
        raise
    end_transaction(commit=True)
    return result


def in_thread_pool(function: Callable[..., Any]) -> Callable[..., Any]:
    """``function`` as a coroutine function that runs it in the thread pool and then, still there,
    commits the request's transaction (rolls it back if ``function`` raised). FastAPI reads the
    parameters and the return annotation through ``__wrapped__``, so the route is unchanged."""

    @functools.wraps(function)
    async def run(*args: Any, **kwargs: Any) -> Any:
        return await run_in_threadpool(_in_transaction, function, *args, **kwargs)

    return run


def _is_synchronous(function: Callable[..., Any]) -> bool:
    plain = inspect.unwrap(function)
    return not (
        inspect.iscoroutinefunction(plain)
        or inspect.isasyncgenfunction(plain)
        or inspect.isgeneratorfunction(plain)
    )


class OneHopRoute(APIRoute):
    """An API route whose synchronous function is wrapped by :func:`in_thread_pool`."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        if _is_synchronous(endpoint):
            endpoint = in_thread_pool(endpoint)
        super().__init__(path, endpoint, **kwargs)


def make_router() -> APIRouter:
    """A router of :class:`OneHopRoute` routes: what every module of ``wealthcrm.web.routes`` uses."""
    return APIRouter(route_class=OneHopRoute)
