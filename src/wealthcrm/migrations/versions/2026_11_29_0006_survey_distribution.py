"""Survey distribution: waves aimed at a segment, one-time tokens, public-form submissions (issue 6).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 04:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "survey_waves",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("questionnaire_id", sa.String(length=40), nullable=False),
        sa.Column("questionnaire_version", sa.Integer(), nullable=False),
        sa.Column("questionnaire", sa.JSON(), nullable=False),
        sa.Column("tiers", sa.JSON(), nullable=False),
        sa.Column("stages", sa.JSON(), nullable=False),
        sa.Column("rm_id", sa.String(length=32), nullable=True),
        sa.Column("sample_size", sa.Integer(), nullable=True),
        sa.Column("sample_seed", sa.Integer(), nullable=True),
        sa.Column("segment_month", sa.Date(), nullable=True),
        sa.Column("opens_on", sa.Date(), nullable=False),
        sa.Column("closes_on", sa.Date(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("open", "closed", name="survey_wave_status", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("closes_on >= opens_on", name=op.f("ck_survey_waves_closes_after_opens")),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_survey_waves_created_by_users")),
        sa.ForeignKeyConstraint(["rm_id"], ["staff.staff_id"], name=op.f("fk_survey_waves_rm_id_staff")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_waves")),
    )
    op.create_table(
        "survey_invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("wave_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=True),
        sa.Column("issued_at", sa.DateTime(), nullable=True),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.Column("response_id", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.customer_id"],
            name=op.f("fk_survey_invitations_customer_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["wave_id"], ["survey_waves.id"], name=op.f("fk_survey_invitations_wave_id_survey_waves")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_invitations")),
        sa.UniqueConstraint("response_id", name=op.f("uq_survey_invitations_response_id")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_survey_invitations_token_hash")),
        sa.UniqueConstraint("wave_id", "customer_id", name=op.f("uq_survey_invitations_wave_id_customer_id")),
    )
    with op.batch_alter_table("survey_invitations", schema=None) as batch_op:
        batch_op.create_index("ix_survey_invitations_customer_id", ["customer_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("survey_invitations", schema=None) as batch_op:
        batch_op.drop_index("ix_survey_invitations_customer_id")
    op.drop_table("survey_invitations")
    op.drop_table("survey_waves")
