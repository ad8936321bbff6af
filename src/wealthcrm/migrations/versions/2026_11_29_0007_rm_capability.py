"""RM capability: qualifications, training, competency assessments, scorecard snapshots (issue 8).

Also widens ``tasks.kind`` for the new kind ``qualification_expiry`` (a staff task: the RM's own
qualification expires) and replaces its CHECK constraint.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 04:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_TASK_KINDS = (
    "retention", "maturity", "cadence", "birthday", "assessment_expiry", "service_followup", "follow_up",
    "handover", "survey_recovery", "other",
)  # fmt: skip
NEW_TASK_KINDS = (*OLD_TASK_KINDS[:-1], "qualification_expiry", "other")


def _kinds(kinds: tuple[str, ...]) -> str:
    return "kind IN (" + ", ".join(f"'{k}'" for k in kinds) + ")"


def _task_kinds(kinds: tuple[str, ...], old_length: int, new_length: int) -> None:
    # The CHECK is dropped and created by name: Alembic does not change an Enum's CHECK in alter_column.
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_tasks_task_kind"), type_="check")
        batch_op.alter_column(
            "kind",
            existing_type=sa.String(length=old_length),
            type_=sa.String(length=new_length),
            existing_nullable=False,
        )
        batch_op.create_check_constraint(op.f("ck_tasks_task_kind"), _kinds(kinds))


def upgrade() -> None:
    op.create_table(
        "scorecard_runs",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("computed_at", sa.DateTime(), nullable=False),
        sa.Column("window_months", sa.Integer(), nullable=False),
        sa.Column("horizon_months", sa.Integer(), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("month", name=op.f("pk_scorecard_runs")),
    )
    op.create_table(
        "scorecards",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column(
            "level",
            sa.Enum(
                "rm", "team", "branch", name="scorecard_level", native_enum=False, create_constraint=True
            ),
            nullable=False,
        ),
        sa.Column("unit_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=True),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["month"], ["scorecard_runs.month"], name=op.f("fk_scorecards_month_scorecard_runs")
        ),
        sa.PrimaryKeyConstraint("month", "level", "unit_id", name=op.f("pk_scorecards")),
    )
    with op.batch_alter_table("scorecards", schema=None) as batch_op:
        batch_op.create_index(
            "ix_scorecards_level_unit_id_month", ["level", "unit_id", "month"], unique=False
        )

    op.create_table(
        "competency_assessments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.String(length=32), nullable=False),
        sa.Column("assessed_on", sa.Date(), nullable=False),
        sa.Column("assessed_by", sa.Integer(), nullable=True),
        sa.Column("product_knowledge", sa.Integer(), nullable=False),
        sa.Column("compliance", sa.Integer(), nullable=False),
        sa.Column("service", sa.Integer(), nullable=False),
        sa.Column("relationship", sa.Integer(), nullable=False),
        sa.Column("digital", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "product_knowledge BETWEEN 1 AND 5 AND compliance BETWEEN 1 AND 5 AND service BETWEEN 1 AND 5 "
            "AND relationship BETWEEN 1 AND 5 AND digital BETWEEN 1 AND 5",
            name=op.f("ck_competency_assessments_scores_1_to_5"),
        ),
        sa.ForeignKeyConstraint(
            ["assessed_by"], ["users.id"], name=op.f("fk_competency_assessments_assessed_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.staff_id"], name=op.f("fk_competency_assessments_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_competency_assessments")),
        sa.UniqueConstraint(
            "staff_id", "assessed_on", name=op.f("uq_competency_assessments_staff_id_assessed_on")
        ),
    )
    with op.batch_alter_table("competency_assessments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_competency_assessments_staff_id"), ["staff_id"], unique=False)

    op.create_table(
        "qualifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.String(length=32), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "afp",
                "cfp",
                "cpb",
                "banking_wealth",
                "fund_licence",
                "securities_licence",
                "insurance_licence",
                "other",
                name="qualification_kind",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column("obtained_on", sa.Date(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "expires_on IS NULL OR expires_on >= obtained_on",
            name=op.f("ck_qualifications_expires_after_obtained"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_qualifications_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.staff_id"], name=op.f("fk_qualifications_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qualifications")),
        sa.UniqueConstraint(
            "staff_id", "kind", "number", name=op.f("uq_qualifications_staff_id_kind_number")
        ),
    )
    with op.batch_alter_table("qualifications", schema=None) as batch_op:
        batch_op.create_index("ix_qualifications_expires_on", ["expires_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_qualifications_staff_id"), ["staff_id"], unique=False)

    op.create_table(
        "trainings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.String(length=32), nullable=False),
        sa.Column("course", sa.String(length=200), nullable=False),
        sa.Column("provider", sa.String(length=100), nullable=True),
        sa.Column("hours", sa.Float(), nullable=False),
        sa.Column("completed_on", sa.Date(), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.CheckConstraint("hours > 0", name=op.f("ck_trainings_hours_positive")),
        sa.CheckConstraint(
            "score IS NULL OR (score >= 0 AND score <= 100)", name=op.f("ck_trainings_score_0_to_100")
        ),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_trainings_created_by_users")),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.staff_id"], name=op.f("fk_trainings_staff_id_staff")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trainings")),
    )
    with op.batch_alter_table("trainings", schema=None) as batch_op:
        batch_op.create_index(
            "ix_trainings_staff_id_completed_on", ["staff_id", "completed_on"], unique=False
        )

    _task_kinds(NEW_TASK_KINDS, 17, 20)


def downgrade() -> None:
    op.execute("DELETE FROM tasks WHERE kind = 'qualification_expiry'")
    _task_kinds(OLD_TASK_KINDS, 20, 17)
    with op.batch_alter_table("trainings", schema=None) as batch_op:
        batch_op.drop_index("ix_trainings_staff_id_completed_on")
    op.drop_table("trainings")
    with op.batch_alter_table("qualifications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_qualifications_staff_id"))
        batch_op.drop_index("ix_qualifications_expires_on")
    op.drop_table("qualifications")
    with op.batch_alter_table("competency_assessments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_competency_assessments_staff_id"))
    op.drop_table("competency_assessments")
    with op.batch_alter_table("scorecards", schema=None) as batch_op:
        batch_op.drop_index("ix_scorecards_level_unit_id_month")
    op.drop_table("scorecards")
    op.drop_table("scorecard_runs")
