"""The Team page's view: the RM table's words, the selected RM's book for the reassignment form, and
the request bodies of the reassignment and departure APIs.

Coverage comes from :mod:`wealthcrm.staff.service`, moves from :mod:`wealthcrm.customers.reassign`;
both enforce who may see and move what.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from wealthcrm.customers import reassign
from wealthcrm.vocab import Role
from wealthcrm.web.i18n import N_

TEAM_ROLES = (Role.team_lead, Role.branch_manager)
#: customers listed for selection on the page (the API takes any number up to reassign.MAX_CUSTOMERS)
SELECTION_LIMIT = 500

STATUS_LABELS = {"active": N_("Active"), "on_leave": N_("On leave"), "left": N_("Left")}


class ReassignIn(BaseModel):
    customer_ids: list[str] = Field(min_length=1, max_length=reassign.MAX_CUSTOMERS)
    to_staff_id: str = Field(max_length=32)
    note: str = Field(max_length=reassign.MAX_NOTE, description="The handover note; it becomes the task.")


class DepartureIn(BaseModel):
    left_on: date | None = Field(None, description="The last day; default: today.")
    to_staff_ids: list[str] = Field(
        min_length=1, max_length=50, description="One RM takes the whole book; several share it by AUM."
    )
    note: str = Field(max_length=reassign.MAX_NOTE)
