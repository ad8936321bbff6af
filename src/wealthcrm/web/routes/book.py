"""The Book: filter, sort, search, saved views and CSV export of the caller's customers.

Routes parse, call :mod:`wealthcrm.customers.book` (scope enforced there) and render. The list API
``GET /api/v1/customers`` (first written for Today) lives here now, with the Book's filters added.
Analysts get every list, page and export pseudonymised (:mod:`wealthcrm.customers.pseudonym`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Form, Query, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response, StreamingResponse

from wealthcrm.customers import book
from wealthcrm.customers.book import IDENTIFYING_ORDERS, BookQuery
from wealthcrm.customers.pseudonym import Pseudonymiser, is_pseudonymised, pseudonymiser_for
from wealthcrm.customers.service import latest_scored_month
from wealthcrm.staff import service as staff
from wealthcrm.web import book as view
from wealthcrm.web.auth import SignedIn, check_csrf
from wealthcrm.web.deps import (
    AppSettings,
    CurrentUser,
    DbSession,
    Gettext,
    RowId,
    TodayDate,
    require_role,
)
from wealthcrm.web.routing import make_router
from wealthcrm.web.templating import render
from wealthcrm.web.workbench import ALL_LABELS, labeller

router = make_router()

BookUser = Annotated[SignedIn, Depends(require_role(*view.BOOK_ROLES))]
ApiQuery = Annotated[BookQuery, Depends(view.api_query)]


async def pseudonyms_for(user: CurrentUser, settings: AppSettings) -> Pseudonymiser | None:
    """The pseudonymiser of an analyst's request (a dependency); None for every other role. Only an
    analyst's request reads the key (a file, maybe): in the thread pool."""
    return await run_in_threadpool(pseudonymiser_for, settings) if is_pseudonymised(user) else None


Pseudonyms = Annotated[Pseudonymiser | None, Depends(pseudonyms_for)]


@router.get("/api/v1/customers", tags=["customers"])
def customers_api(
    session: DbSession,
    user: CurrentUser,
    on: TodayDate,
    query: ApiQuery,
    pseudonyms: Pseudonyms,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    """The caller's book in the latest scored month: filtered, sorted and paginated.

    Service staff (no book) get an empty list. ``last_contact_at`` is the latest interaction logged.
    Analysts get pseudonyms as ``customer_id`` and ``name`` (``q`` finds a whole pseudonym).
    """
    month = latest_scored_month(session)
    found = book.search(
        session,
        user=user,
        query=query,
        month=month,
        on=on,
        limit=page_size,
        offset=(page - 1) * page_size,
        pseudonyms=pseudonyms,
    )
    return {
        "month": None if month is None else month.isoformat(),
        "filter": query.describe(),
        "page": page,
        "page_size": page_size,
        "total": found.total,
        "items": [item.to_dict() for item in found.items],
    }


@router.get(
    "/api/v1/customers.csv",
    tags=["customers"],
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}, "description": "The filtered book as CSV."}},
)
def customers_csv(
    request: Request,
    session: DbSession,
    user: BookUser,
    on: TodayDate,
    query: ApiQuery,
    pseudonyms: Pseudonyms,
) -> StreamingResponse:
    """The whole filtered book as CSV (columns in docs/workbench.md; masked PII only), audited.
    Analysts' exports are pseudonymised (no PII columns' values at all)."""
    month = latest_scored_month(session)
    rows = book.count(session, user=user, query=query, month=month, on=on, pseudonyms=pseudonyms)
    book.record_export(session, actor=user, query=query, month=month, rows=rows)
    stream = view.csv_stream(
        request.app.state.engine, user=user, query=query, month=month, on=on, pseudonyms=pseudonyms
    )
    filename = view.csv_filename(month)
    return StreamingResponse(
        stream,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )


# --- saved views ------------------------------------------------------------------------------------


class SavedViewIn(BaseModel):
    name: str = Field(max_length=book.MAX_VIEW_NAME, description="The view's name, unique per user.")
    query: str = Field(
        "", max_length=2000, description="The Book's query string, e.g. tier=sunflower&risk=high."
    )


@router.get("/api/v1/saved-views", tags=["customers"])
def saved_views_api(session: DbSession, user: BookUser) -> dict[str, Any]:
    """The caller's own saved views of the Book, by name."""
    views = book.list_views(session, user_id=user.id)
    return {"items": [v.to_dict() for v in views], "total": len(views)}


@router.post("/api/v1/saved-views", tags=["customers"], status_code=201, dependencies=[Depends(check_csrf)])
def save_view_api(session: DbSession, user: BookUser, body: SavedViewIn) -> dict[str, Any]:
    """Keep a Book query under a name (409 when the name is taken, 422 for a bad query)."""
    return book.save_view(session, user=user, name=body.name, query=body.query).to_dict()


@router.delete(
    "/api/v1/saved-views/{view_id}", tags=["customers"], status_code=204, dependencies=[Depends(check_csrf)]
)
def delete_view_api(session: DbSession, user: BookUser, view_id: RowId) -> Response:
    """Delete one of the caller's views; another user's is 404, like a missing one."""
    book.delete_view(session, user=user, view_id=view_id)
    return Response(status_code=204)


@router.post("/book/views", include_in_schema=False, dependencies=[Depends(check_csrf)])
def save_view_form(
    session: DbSession,
    user: BookUser,
    name: Annotated[str, Form(max_length=book.MAX_VIEW_NAME)],
    query: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    saved = book.save_view(session, user=user, name=name, query=query)
    return RedirectResponse("/book" + (f"?{saved.query}" if saved.query else ""), status_code=303)


@router.post("/book/views/{view_id}/delete", include_in_schema=False, dependencies=[Depends(check_csrf)])
def delete_view_form(session: DbSession, user: BookUser, view_id: RowId) -> Response:
    book.delete_view(session, user=user, view_id=view_id)
    return RedirectResponse("/book", status_code=303)


# --- the page ---------------------------------------------------------------------------------------


@router.get("/book", include_in_schema=False)
def book_page(
    request: Request, session: DbSession, user: BookUser, on: TodayDate, _: Gettext, pseudonyms: Pseudonyms
) -> Response:
    params = request.query_params
    if params.get("view", "").isdigit():  # apply a saved view: its query string becomes the page's
        saved = book.get_view(session, user_id=user.id, view_id=int(params["view"]))
        return RedirectResponse("/book" + (f"?{saved.query}" if saved.query else ""), status_code=303)
    query = view.page_query(params)
    page = view.page_number(params)
    month = latest_scored_month(session)
    found = book.search(
        session,
        user=user,
        query=query,
        month=month,
        on=on,
        limit=view.PAGE_SIZE,
        offset=(page - 1) * view.PAGE_SIZE,
        pseudonyms=pseudonyms,
    )
    rms = staff.rms_in_scope(session, user=user) if user.role in view.RM_FILTER_ROLES else []
    options = view.filter_options(_, ALL_LABELS["tier"], ALL_LABELS["stage"])
    if pseudonyms is not None:  # analysts: no order by what they may not see
        options["sorts"] = [(code, text) for code, text in options["sorts"] if code not in IDENTIFYING_ORDERS]
    context = {
        "found": found,
        "query": query,
        "query_string": query.query_string(),
        "pager": view.pager(query, page=page, total=found.total, size=view.PAGE_SIZE),
        "options": options,
        "pseudonymised": pseudonyms is not None,
        "rms": [(s.staff_id, s.name) for s in rms],
        "views": book.list_views(session, user_id=user.id),
        "label": labeller(_),
        "risk_label": lambda code: _(view.RISK_LABELS.get(code) or code),
        "on": on,
    }
    return render(request, "book.html", context)
