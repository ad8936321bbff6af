"""The routers of the web app, one module per area; ``ROUTERS`` is what the app includes."""

from __future__ import annotations

from fastapi import APIRouter

from wealthcrm.web.routes import (
    admin,
    audit,
    auth,
    book,
    branch,
    health,
    management,
    overview,
    recommendations,
    service,
    service_desk,
    survey_analysis,
    survey_form,
    surveys,
    tasks,
    team,
    workbench,
)

ROUTERS: tuple[APIRouter, ...] = (
    health.router,
    auth.router,
    overview.router,
    workbench.router,
    tasks.router,
    book.router,
    team.router,
    branch.router,
    audit.router,
    admin.router,
    recommendations.router,
    service.router,
    service_desk.router,
    survey_analysis.router,
    surveys.router,
    survey_form.router,
    management.router,
)
