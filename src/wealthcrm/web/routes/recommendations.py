"""Recommendations (next best actions) behind the suitability gate, and team-lead overrides.

Pages and fragments: Customer 360's recommendations panel (record an outcome, request an override),
``/approvals`` (a team lead's or the branch manager's pending override requests). JSON under /api/v1.
Routes parse, call :mod:`wealthcrm.recommendations.service` (scope and rules are enforced there) and
render; a recommendation or customer outside the caller's scope is a 404, like an unknown one.

The panel's forms work without JavaScript (a POST, then back to the page, or a page naming the
problem with its 4xx status); with htmx they swap the panel in place, errors included
(``static/recommendations.js`` lets htmx swap the panel's 4xx answers).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any, Literal

from fastapi import Depends, Form, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import RedirectResponse, Response

from wealthcrm.errors import Conflict, DomainError, Invalid
from wealthcrm.recommendations import rules, service
from wealthcrm.recommendations.service import RecommendationRow, SaleBlocked
from wealthcrm.vocab import RecommendationStatus, SaleChannel
from wealthcrm.web import auth
from wealthcrm.web.deps import AppSettings, CurrentUser, DbSession, Gettext, TodayDate
from wealthcrm.web.errors import status_of
from wealthcrm.web.format import format_cny, format_share
from wealthcrm.web.i18n import N_, Translator
from wealthcrm.web.routing import make_router
from wealthcrm.web.templating import render
from wealthcrm.web.workbench import labeller

router = make_router()
CSRF = [Depends(auth.check_csrf)]
#: a recommendation id (bounded: larger numbers cannot be ids, and PostgreSQL would refuse them)
RecId = Annotated[int, Path(ge=1, le=2**31 - 1)]

KIND_LABELS = {
    "reinvest_maturity": N_("Reinvest a maturing product"),
    "move_idle_deposits": N_("Put idle deposits to work"),
    "deepen_single_product": N_("Add a second asset class"),
    "upgrade_prospect": N_("Lift into Sunflower"),
}
STATUS_LABELS = {
    "proposed": N_("Ready to propose"),
    "blocked": N_("Blocked by suitability"),
    "override_requested": N_("Override requested"),
    "approved": N_("Override approved"),
    "rejected": N_("Override rejected"),
    "accepted": N_("Customer accepted"),
    "declined": N_("Customer declined"),
}
REASON_TEXT = {
    rules.NO_RISK_ASSESSMENT: N_(
        "No risk assessment on file: the customer must take the risk questionnaire first."
    ),
    rules.ASSESSMENT_EXPIRED: N_(
        "The risk assessment has expired: assess the customer again before selling."
    ),
    rules.RISK_ABOVE_TOLERANCE: N_(
        "The product's risk ({product}) is above the customer's risk tolerance ({customer})."
    ),
    rules.FIRST_PURCHASE_NOT_IN_BRANCH: N_(
        "A first purchase of a wealth product must be made in branch, after an in-branch risk assessment."
    ),
    rules.RECORDING_MISSING: N_(
        "An in-branch sale of a wealth or agency product needs the audio-video recording (双录) id."
    ),
    rules.CONSENT_MISSING: N_(
        "The customer has not consented to the audio-video recording: the sale is blocked."
    ),
}
CHANNEL_LABELS = {"in_branch": N_("In branch"), "remote": N_("Remote")}
#: the service's error messages, listed for translation (a test keeps this in step with service.MESSAGES)
SERVICE_MESSAGES = (
    N_("Your role may not work recommendations."),
    N_("Only a team lead or the branch manager decides override requests."),
    N_("The outcome is accepted or declined."),
    N_("Only a proposed recommendation, or one whose override was approved, can be accepted."),
    N_("This recommendation is settled already."),
    N_("Choose the channel of the sale: in branch or remote."),
    N_("The recommendation names no product on the shelf."),
    N_("The recording id is too long (at most 64 characters)."),
    N_("The text is too long (at most 2,000 characters)."),
    N_("Give the reason for the override."),
    N_("Only a blocked recommendation needs an override."),
    N_("The audio-video recording and the customer's consent cannot be overridden."),
    N_("Say why the override is rejected."),
    N_("There is no override request to decide."),
    N_("You cannot decide your own override request."),
    N_("Only a team lead of the customer's RM's team may decide this request."),
    N_("The sale is blocked by the suitability gate."),
    N_("The text contains a NUL character."),
)
BAD_CHANNEL = N_("The channel is in_branch or remote.")
BAD_DECISION = N_("The decision is approve or reject.")
SELLERS = service.SELLERS
APPROVERS = service.APPROVERS


# --- words ------------------------------------------------------------------------------------------


def reason_text(code: str, rationale: dict[str, Any], _: Translator) -> str:
    """A blocked reason in plain words in the user's language (the code itself when unknown)."""
    known = REASON_TEXT.get(code)
    if known is None:
        return code
    return _(known).format(
        product=rationale.get("product_risk") or "?", customer=rationale.get("customer_risk") or "?"
    )


def why_text(rec: RecommendationRow, _: Translator) -> str:
    """Why the recommendation was made, from its rationale."""
    f = rec.rationale
    label = labeller(_)

    def cny(value: Any) -> str:
        return "—" if value is None else format_cny(float(value), locale=_.locale)

    if rec.kind == "reinvest_maturity":
        return _("{product} matures on {date}: principal {amount}.").format(
            product=f.get("maturing_product", "?"),
            date=f.get("maturity_on", "?"),
            amount=cny(f.get("principal")),
        )
    if rec.kind == "move_idle_deposits":
        return _("Demand deposits of {amount} are {share} of AUM.").format(
            amount=cny(f.get("demand_deposit")),
            share=format_share(float(f.get("share") or 0), locale=_.locale),
        )
    if rec.kind == "deepen_single_product":
        return _("Holds only one asset class: {asset_class}.").format(
            asset_class=label("asset", f.get("held_class"))
        )
    if rec.kind == "upgrade_prospect":
        return _("AUM {aum}, up from {earlier}: {gap} more reaches Sunflower.").format(
            aum=cny(f.get("aum")), earlier=cny(f.get("aum_earlier")), gap=cny(f.get("gap"))
        )
    return ""


def _word(labels: dict[str, str], _: Translator) -> Callable[[str | None], str]:
    def word(code: str | None) -> str:
        if code is None:
            return "—"
        return _(labels[code]) if code in labels else code

    return word


def _words(_: Translator) -> dict[str, Any]:
    return {
        "label": labeller(_),
        "kind_label": _word(KIND_LABELS, _),
        "status_label": _word(STATUS_LABELS, _),
        "channel_label": _word(CHANNEL_LABELS, _),
        "reason_text": lambda rec, code: reason_text(code, rec.rationale, _),
        "why_text": lambda rec: why_text(rec, _),
    }


def _message(exc: DomainError, _: Translator) -> str:
    """A domain error's message in the user's language; a blocked sale lists its reasons in words."""
    if isinstance(exc, SaleBlocked):
        texts = [reason_text(code, {}, _) for code in exc.reasons]
        return " ".join([_(service.SALE_BLOCKED), *texts])
    return _(str(exc))


@contextmanager
def _translated(_: Translator, *, codes: bool = False) -> Iterator[None]:
    """Re-raise a domain error with its message in the user's language (the same class, so the same
    status); ``codes`` adds a blocked sale's reason codes for machines: ``[consent_missing]``."""
    try:
        yield
    except SaleBlocked as exc:
        suffix = " [" + ", ".join(exc.reasons) + "]" if codes else ""
        raise Conflict(_message(exc, _) + suffix) from None
    except DomainError as exc:
        raise type(exc)(_message(exc, _)) from None


# --- the Customer 360 panel -------------------------------------------------------------------------


def _is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _panel(
    request: Request,
    session: DbSession,
    user: CurrentUser,
    _: Translator,
    customer_id: str,
    *,
    message: str | None = None,
    notice: str | None = None,
    status: int = 200,
) -> Response:
    rows = service.list_for_customer(session, user=user, customer_id=customer_id)
    context = {
        "customer_id": customer_id,
        "rows": rows,
        "can_sell": user.role in SELLERS,
        "message": message,
        "notice": notice,
        **_words(_),
    }
    return render(request, "recommendations/panel.html", context, status)


@router.get("/customers/{customer_id}/panels/recommendations", include_in_schema=False)
def recommendations_panel(
    request: Request, customer_id: str, session: DbSession, user: CurrentUser, _: Gettext
) -> Response:
    """Customer 360's recommendations panel (an htmx fragment); 404 outside the caller's scope."""
    return _panel(request, session, user, _, customer_id)


def _after_form(
    request: Request,
    session: DbSession,
    user: CurrentUser,
    _: Translator,
    action: Callable[[], RecommendationRow],
    id: int,
    notice: str,
) -> Response:
    """Run a panel form's action; answer with the panel (htmx) or go back to the customer's page.

    On a domain error, htmx gets the panel naming the problem with the error's status (nothing changed:
    the rejected change is not flushed because the service raised before writing); without htmx the
    error page shows it.
    """
    try:
        with _translated(_):
            done = action()
    except DomainError as exc:
        if not _is_htmx(request):
            raise
        session.rollback()
        customer_id = service.row(session, user=user, id=id).customer_id
        return _panel(request, session, user, _, customer_id, message=str(exc), status=status_of(exc))
    if _is_htmx(request):
        return _panel(request, session, user, _, done.customer_id, notice=_(notice))
    return RedirectResponse(f"/customers/{done.customer_id}#recommendations", status_code=303)


def _channel(value: str | None) -> SaleChannel | None:
    text = (value or "").strip()
    if not text:
        return None
    try:
        return SaleChannel(text)
    except ValueError:
        raise Invalid(BAD_CHANNEL) from None


@router.post("/recommendations/{id}/outcome", include_in_schema=False, dependencies=CSRF)
def outcome_form(
    request: Request,
    id: RecId,
    session: DbSession,
    settings: AppSettings,
    user: CurrentUser,
    _: Gettext,
    on: TodayDate,
    outcome: Annotated[str, Form(max_length=20)] = "",
    channel: Annotated[str, Form(max_length=20)] = "",
    recording_id: Annotated[str, Form(max_length=200)] = "",
    consent: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    def action() -> RecommendationRow:
        if outcome not in ("accepted", "declined"):
            raise Invalid(service.OUTCOME_INVALID)
        return service.record_outcome(
            session,
            user=user,
            id=id,
            outcome=RecommendationStatus(outcome),
            settings=settings,
            on=on,
            channel=_channel(channel),
            recording_id=recording_id,
            consent=consent in ("on", "true", "1", "yes"),
        )

    notice = (
        N_("Recorded: the customer accepted.")
        if outcome == "accepted"
        else N_("Recorded: the customer declined.")
    )
    return _after_form(request, session, user, _, action, id, notice)


@router.post("/recommendations/{id}/override", include_in_schema=False, dependencies=CSRF)
def override_form(
    request: Request,
    id: RecId,
    session: DbSession,
    user: CurrentUser,
    _: Gettext,
    reason: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    def action() -> RecommendationRow:
        return service.request_override(session, user=user, id=id, reason=reason)

    return _after_form(request, session, user, _, action, id, N_("Override requested from the team lead."))


@router.post("/recommendations/{id}/decision", include_in_schema=False, dependencies=CSRF)
def decision_form(
    id: RecId,
    session: DbSession,
    user: CurrentUser,
    _: Gettext,
    decision: Annotated[str, Form(max_length=10)] = "",
    note: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    """The approvals page's approve / reject buttons; back to the page, or an error page (4xx)."""
    with _translated(_):
        if decision not in ("approve", "reject"):
            raise Invalid(BAD_DECISION)
        service.decide_override(session, user=user, id=id, approve=decision == "approve", note=note)
    return RedirectResponse("/approvals", status_code=303)


# --- approvals --------------------------------------------------------------------------------------


@router.get("/approvals", include_in_schema=False)
def approvals_page(request: Request, session: DbSession, user: CurrentUser, _: Gettext) -> Response:
    """Override requests the caller (a team lead or the branch manager) may decide."""
    with _translated(_):
        rows = service.pending_overrides(session, user=user)
    return render(request, "approvals.html", {"rows": rows, **_words(_)})


# --- JSON API ---------------------------------------------------------------------------------------


class OutcomeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: Literal["accepted", "declined"]
    channel: SaleChannel | None = None
    recording_id: str | None = Field(None, max_length=64)
    consent: bool | None = None


class OverrideIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=2000)


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    approve: bool
    note: str | None = Field(None, max_length=2000)


def _page(items: list[RecommendationRow], page: int, page_size: int) -> dict[str, Any]:
    start = (page - 1) * page_size
    return {
        "page": page,
        "page_size": page_size,
        "total": len(items),
        "items": [r.to_dict() for r in items[start : start + page_size]],
    }


Page = Annotated[int, Query(ge=1, le=100_000)]
PageSize = Annotated[int, Query(ge=1, le=500)]


@router.get("/api/v1/customers/{customer_id}/recommendations", tags=["recommendations"])
def customer_recommendations_api(
    customer_id: str, session: DbSession, user: CurrentUser, page: Page = 1, page_size: PageSize = 50
) -> dict[str, Any]:
    """The customer's recommendations, open ones first; 404 outside the caller's scope."""
    rows = service.list_for_customer(session, user=user, customer_id=customer_id)
    return {"customer_id": customer_id, **_page(rows, page, page_size)}


@router.post("/api/v1/recommendations/{id}/outcome", tags=["recommendations"], dependencies=CSRF)
def outcome_api(
    id: RecId,
    body: OutcomeIn,
    session: DbSession,
    settings: AppSettings,
    user: CurrentUser,
    _: Gettext,
    on: TodayDate,
) -> dict[str, Any]:
    """Record that the customer accepted (the gate runs again with the sale's channel, recording and
    consent: 409 when it blocks) or declined."""
    with _translated(_, codes=True):
        done = service.record_outcome(
            session,
            user=user,
            id=id,
            outcome=RecommendationStatus(body.outcome),
            settings=settings,
            on=on,
            channel=body.channel,
            recording_id=body.recording_id,
            consent=body.consent,
        )
    return done.to_dict()


@router.post("/api/v1/recommendations/{id}/override", tags=["recommendations"], dependencies=CSRF)
def override_api(
    id: RecId, body: OverrideIn, session: DbSession, user: CurrentUser, _: Gettext
) -> dict[str, Any]:
    """Ask a team lead to let a blocked recommendation go ahead."""
    with _translated(_):
        return service.request_override(session, user=user, id=id, reason=body.reason).to_dict()


@router.post("/api/v1/recommendations/{id}/decision", tags=["recommendations"], dependencies=CSRF)
def decision_api(
    id: RecId, body: DecisionIn, session: DbSession, user: CurrentUser, _: Gettext
) -> dict[str, Any]:
    """Approve or reject an override request (a team lead of the team, or the branch manager; never the
    requester). A rejection needs a ``note``."""
    with _translated(_):
        return service.decide_override(
            session, user=user, id=id, approve=body.approve, note=body.note
        ).to_dict()


@router.get("/api/v1/approvals", tags=["recommendations"])
def approvals_api(
    session: DbSession, user: CurrentUser, _: Gettext, page: Page = 1, page_size: PageSize = 50
) -> dict[str, Any]:
    """Override requests the caller may decide (team lead: the team's; branch manager: the branch's)."""
    with _translated(_):
        return _page(service.pending_overrides(session, user=user), page, page_size)
