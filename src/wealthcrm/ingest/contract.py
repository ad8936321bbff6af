"""The data contract: every file a bank feeds in, its columns, types, keys and checks.

This module is the single source of truth; ``docs/data-contract.md`` documents it and a test keeps the
two in step. Files are upserted on their key: importing the same file twice leaves the same rows, and a
later file with the same keys updates them. Nothing is ever deleted by an import (a customer who leaves
is ``status=closed``).

Date-times in the files are the branch's local wall-clock time (``sla.time_zone``), as bank systems
write them. A ``datetime`` column marked ``utc`` is stored the way the app stores its own instants,
naive UTC (the service workflow's SLA clocks, dashboards and pages convert back to local time); the
importer converts it after validation. The others (``interactions.occurred_at``, a contact log) are
stored as written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from wealthcrm.vocab import (
    AssetClass,
    Counterparty,
    CustomerStatus,
    Direction,
    Gender,
    InteractionChannel,
    InteractionOutcome,
    InteractionPurpose,
    PositionStatus,
    Priority,
    ProductRisk,
    ProductStatus,
    ProductType,
    RequestStatus,
    RequestType,
    RiskLevel,
    Role,
    ServiceChannel,
    StaffStatus,
    TxnChannel,
)

ColumnType = Literal[
    "str", "int", "money", "date", "month", "datetime", "bool", "enum", "national_id", "mobile"
]


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType
    description: str
    required: bool = True
    allowed: tuple[str, ...] = ()
    ref: tuple[str, str] | None = None  # (file, column) that must hold the value
    min_value: float | None = None
    min_exclusive: bool = False
    max_value: float | None = None
    max_length: int | None = None
    not_future: bool = False  # dates after today are impossible
    default: object = None  # written when the column is absent on insert
    #: a local date-time in the file, stored as naive UTC (the app's convention for instants it works on)
    utc: bool = False


def _enum(enum_cls: type) -> tuple[str, ...]:
    return tuple(m.value for m in enum_cls)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class FileSpec:
    name: str
    table: str
    description: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    checks: tuple[str, ...] = field(default=())  # cross-column checks, described for the docs

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


_ID = 32

BRANCHES = FileSpec(
    name="branches",
    table="branches",
    description="The bank's branches.",
    key=("branch_id",),
    columns=(
        Column("branch_id", "str", "Branch code.", max_length=_ID),
        Column("name", "str", "Branch name.", max_length=100),
        Column("city", "str", "City.", required=False, max_length=50),
    ),
)

TEAMS = FileSpec(
    name="teams",
    table="teams",
    description="RM teams within a branch.",
    key=("team_id",),
    columns=(
        Column("team_id", "str", "Team code.", max_length=_ID),
        Column("branch_id", "str", "Branch of the team.", ref=("branches", "branch_id"), max_length=_ID),
        Column("name", "str", "Team name.", max_length=100),
    ),
)

STAFF = FileSpec(
    name="staff",
    table="staff",
    description="Everyone who works with customers or the system: RMs, team leads, managers, service staff.",
    key=("staff_id",),
    columns=(
        Column("staff_id", "str", "Employee number.", max_length=_ID),
        Column("branch_id", "str", "Branch.", ref=("branches", "branch_id"), max_length=_ID),
        Column("team_id", "str", "Team, for RMs and team leads.", required=False, ref=("teams", "team_id")),
        Column("name", "str", "Full name.", max_length=100),
        Column("role", "enum", "Role in the branch.", allowed=_enum(Role)),
        Column("status", "enum", "Employment status.", allowed=_enum(StaffStatus)),
        Column("joined_on", "date", "Date joined the branch.", not_future=True),
        Column(
            "left_on", "date", "Date left; required when status is left.", required=False, not_future=True
        ),
    ),
    checks=(
        "left_on is on or after joined_on",
        "status `left` needs left_on, and left_on needs status `left`",
    ),
)

CUSTOMERS = FileSpec(
    name="customers",
    table="customers",
    description="Customers with their assigned RM, suitability level, consent and PII.",
    key=("customer_id",),
    columns=(
        Column("customer_id", "str", "Customer number (core banking).", max_length=_ID),
        Column("branch_id", "str", "Home branch.", ref=("branches", "branch_id"), max_length=_ID),
        Column("name", "str", "Full name.", max_length=100),
        Column("gender", "enum", "M or F.", required=False, allowed=_enum(Gender)),
        Column("birth_date", "date", "Date of birth.", required=False, not_future=True),
        Column("occupation", "str", "Occupation.", required=False, max_length=50),
        Column("district", "str", "Residential district.", required=False, max_length=50),
        Column("onboarded_on", "date", "Date the relationship began.", not_future=True),
        Column(
            "rm_id",
            "str",
            "Assigned RM (a staff member with role rm or team_lead).",
            required=False,
            ref=("staff", "staff_id"),
        ),
        Column("risk_level", "enum", "Risk tolerance C1–C5.", required=False, allowed=_enum(RiskLevel)),
        Column(
            "risk_assessed_on",
            "date",
            "Date of the risk questionnaire; required with risk_level.",
            required=False,
            not_future=True,
        ),
        Column("consent_marketing", "bool", "Consents to marketing contact.", required=False, default=False),
        Column("consent_sms", "bool", "Consents to SMS.", required=False, default=False),
        Column("consent_phone", "bool", "Consents to phone calls.", required=False, default=False),
        Column(
            "national_id",
            "national_id",
            "Resident ID number: 18 characters, GB 11643 check digit. Encrypted at rest; shown masked.",
            required=False,
        ),
        Column(
            "mobile",
            "mobile",
            "Mainland mobile number (11 digits, +86 allowed). Encrypted at rest.",
            required=False,
        ),
        Column(
            "status",
            "enum",
            "active or closed.",
            required=False,
            allowed=_enum(CustomerStatus),
            default="active",
        ),
        Column(
            "closed_on",
            "date",
            "Date the relationship closed; required when status is closed.",
            required=False,
            not_future=True,
        ),
    ),
    checks=(
        "risk_level and risk_assessed_on are given together",
        "closed_on is on or after onboarded_on; status `closed` needs closed_on and closed_on needs `closed`",
        "birth_date, when given with national_id, equals the birth date the ID encodes",
        "rm_id names a staff member whose role is rm or team_lead",
        "national_id is unique: within the file and against other customers already stored",
        "onboarded_on is after birth_date",
    ),
)

PRODUCTS = FileSpec(
    name="products",
    table="products",
    description="The product shelf.",
    key=("product_code",),
    columns=(
        Column("product_code", "str", "Product code.", max_length=_ID),
        Column("name", "str", "Product name.", max_length=200),
        Column("product_type", "enum", "Kind of product (an asset class).", allowed=_enum(ProductType)),
        Column("risk_level", "enum", "Product risk R1–R5.", allowed=_enum(ProductRisk)),
        Column(
            "term_months",
            "int",
            "Term in months for products that mature.",
            required=False,
            min_value=0,
            min_exclusive=True,
        ),
        Column(
            "is_agency",
            "bool",
            "Sold on behalf of another institution (代销).",
            required=False,
            default=False,
        ),
        Column("issuer", "str", "Issuer or fund manager.", required=False, max_length=100),
        Column("launched_on", "date", "Launch date.", required=False),
        Column(
            "status",
            "enum",
            "on_sale or closed.",
            required=False,
            allowed=_enum(ProductStatus),
            default="on_sale",
        ),
    ),
)

AUM_MONTHLY = FileSpec(
    name="aum_monthly",
    table="aum_monthly",
    description="Each customer's month-average daily balance and month-end balance per asset class, in CNY.",
    key=("customer_id", "month", "asset_class"),
    columns=(
        Column("customer_id", "str", "Customer.", ref=("customers", "customer_id")),
        Column("month", "month", "Month, YYYY-MM.", not_future=True),
        Column("asset_class", "enum", "Asset class.", allowed=_enum(AssetClass)),
        Column("avg_daily_balance", "money", "Month-average daily balance (月日均), CNY.", min_value=0),
        Column("month_end_balance", "money", "Balance at month end (时点), CNY.", min_value=0),
    ),
)

POSITIONS = FileSpec(
    name="positions",
    table="positions",
    description="Product holdings, with maturity dates for products that mature.",
    key=("position_id",),
    columns=(
        Column("position_id", "str", "Position (holding) number.", max_length=40),
        Column("customer_id", "str", "Customer.", ref=("customers", "customer_id")),
        Column("product_code", "str", "Product.", ref=("products", "product_code")),
        Column("opened_on", "date", "Date bought.", not_future=True),
        Column("maturity_on", "date", "Maturity date (may be in the future).", required=False),
        Column("principal", "money", "Amount invested, CNY.", min_value=0),
        Column("market_value", "money", "Current value, CNY (0 once closed).", min_value=0),
        Column("status", "enum", "open, matured or redeemed.", allowed=_enum(PositionStatus)),
        Column("closed_on", "date", "Date matured or redeemed.", required=False, not_future=True),
    ),
    checks=(
        "maturity_on is on or after opened_on",
        "status matured or redeemed needs closed_on; open has none",
    ),
)

TRANSACTIONS = FileSpec(
    name="transactions",
    table="transactions",
    description="Notable transactions (at least large ones, transfers to other banks, payroll credits).",
    key=("txn_id",),
    columns=(
        Column("txn_id", "str", "Transaction reference.", max_length=40),
        Column("customer_id", "str", "Customer.", ref=("customers", "customer_id")),
        Column("txn_date", "date", "Value date.", not_future=True),
        Column(
            "amount",
            "money",
            "Amount in CNY, positive; direction gives the sign.",
            min_value=0,
            min_exclusive=True,
        ),
        Column("direction", "enum", "in or out.", allowed=_enum(Direction)),
        Column("channel", "enum", "Channel used.", allowed=_enum(TxnChannel)),
        Column(
            "counterparty_kind",
            "enum",
            "Other side; other_bank marks transfers to other banks.",
            allowed=_enum(Counterparty),
        ),
        Column(
            "product_code",
            "str",
            "Product bought, redeemed or matured, if any.",
            required=False,
            ref=("products", "product_code"),
        ),
    ),
)

DIGITAL_ACTIVITY = FileSpec(
    name="digital_activity",
    table="digital_activity",
    description="Monthly mobile and online banking activity per customer.",
    key=("customer_id", "month"),
    columns=(
        Column("customer_id", "str", "Customer.", ref=("customers", "customer_id")),
        Column("month", "month", "Month, YYYY-MM.", not_future=True),
        Column("logins", "int", "Logins in the month.", min_value=0),
        Column("digital_txn_count", "int", "Transactions made on mobile or online.", min_value=0),
        Column("last_login_on", "date", "Last login date.", required=False, not_future=True),
    ),
    checks=("last_login_on is not after the end of month",),
)

INTERACTIONS = FileSpec(
    name="interactions",
    table="interactions",
    description="Contacts between staff and customers recorded in other systems.",
    key=("interaction_id",),
    columns=(
        Column("interaction_id", "str", "Contact reference.", max_length=40),
        Column("customer_id", "str", "Customer.", ref=("customers", "customer_id")),
        Column("staff_id", "str", "Staff member who made the contact.", ref=("staff", "staff_id")),
        Column("occurred_at", "datetime", "When, YYYY-MM-DD HH:MM[:SS].", not_future=True),
        Column("channel", "enum", "Channel.", allowed=_enum(InteractionChannel)),
        Column("purpose", "enum", "Purpose.", allowed=_enum(InteractionPurpose)),
        Column("outcome", "enum", "Outcome.", allowed=_enum(InteractionOutcome)),
        Column("notes", "str", "Free-text notes.", required=False, max_length=4000),
    ),
)

SERVICE_REQUESTS = FileSpec(
    name="service_requests",
    table="service_requests",
    description="Service requests and complaints from the bank's service systems, with their SLA due times.",
    key=("request_id",),
    columns=(
        Column("request_id", "str", "Request reference.", max_length=40),
        Column("customer_id", "str", "Customer.", ref=("customers", "customer_id")),
        Column("request_type", "enum", "Kind of request.", allowed=_enum(RequestType)),
        Column("channel", "enum", "Where it came in.", allowed=_enum(ServiceChannel)),
        Column("priority", "enum", "Priority.", required=False, allowed=_enum(Priority), default="normal"),
        Column("root_cause", "str", "Root-cause category, once known.", required=False, max_length=50),
        Column("staff_id", "str", "Staff member handling it.", required=False, ref=("staff", "staff_id")),
        Column("opened_at", "datetime", "When it was raised.", not_future=True, utc=True),
        Column(
            "acknowledged_at",
            "datetime",
            "When the customer was told it is being handled.",
            required=False,
            not_future=True,
            utc=True,
        ),
        Column(
            "due_at",
            "datetime",
            "SLA due time for resolution (may be in the future).",
            required=False,
            utc=True,
        ),
        Column("resolved_at", "datetime", "When it was resolved.", required=False, not_future=True, utc=True),
        Column("status", "enum", "State.", allowed=_enum(RequestStatus)),
        Column(
            "rating",
            "int",
            "The customer's rating at closure, 1–5.",
            required=False,
            min_value=1,
            max_value=5,
        ),
    ),
    checks=(
        "acknowledged_at and resolved_at are not before opened_at",
        "status resolved or closed needs resolved_at; other states have none",
    ),
)

SURVEY_ANSWERS = FileSpec(
    name="survey_answers",
    table="survey_answers",
    description="Survey answers, one row per response and item (long format, any questionnaire).",
    key=("response_id", "item_id"),
    columns=(
        Column("response_id", "str", "One customer's completion of one questionnaire.", max_length=40),
        Column("item_id", "str", "Item of the questionnaire (e.g. REL1, NPS).", max_length=40),
        Column("customer_id", "str", "Customer.", ref=("customers", "customer_id")),
        Column("questionnaire_id", "str", "Questionnaire.", max_length=40),
        Column("answered_on", "date", "Date answered.", not_future=True),
        Column(
            "score",
            "money",
            "Answer on the item's scale (Likert, NPS 0–10, a choice's code).",
            required=False,
        ),
        Column("text", "str", "Free-text answer.", required=False, max_length=4000),
    ),
    checks=("a response belongs to one customer and one questionnaire",),
)

#: All files, in the order they are written (referenced files first).
FILES: tuple[FileSpec, ...] = (
    BRANCHES,
    TEAMS,
    STAFF,
    CUSTOMERS,
    PRODUCTS,
    AUM_MONTHLY,
    POSITIONS,
    TRANSACTIONS,
    DIGITAL_ACTIVITY,
    INTERACTIONS,
    SERVICE_REQUESTS,
    SURVEY_ANSWERS,
)
BY_NAME: dict[str, FileSpec] = {f.name: f for f in FILES}


def spec_for_filename(stem: str) -> FileSpec | None:
    """The file spec a file stem names: ``customers``, ``customers_2026-10``, ``aum_monthly-202610``."""
    stem = stem.lower()
    for spec in sorted(FILES, key=lambda f: -len(f.name)):
        if stem == spec.name or (stem.startswith(spec.name) and stem[len(spec.name)] in "_-."):
            return spec
    return None
