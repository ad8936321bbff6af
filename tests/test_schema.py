"""The migrations build exactly the models, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect

from wealthcrm import schema
from wealthcrm.db import NAMING_CONVENTION, all_models


def test_migrated_database_matches_models(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, all_models())
    assert diff == []
    assert schema.current_revision(engine) == schema.head_revision()


def test_constraints_follow_the_naming_convention(engine: Engine) -> None:
    insp = inspect(engine)
    assert insp.get_pk_constraint("customers")["name"] == "pk_customers"
    fks = {fk["name"] for fk in insp.get_foreign_keys("customers")}
    assert fks == {"fk_customers_branch_id_branches", "fk_customers_rm_id_staff"}
    assert "ix_aum_monthly_month" in {ix["name"] for ix in insp.get_indexes("aum_monthly")}
    assert set(NAMING_CONVENTION) == {"ix", "uq", "ck", "fk", "pk"}


def test_upgrade_twice_is_harmless(engine: Engine) -> None:
    schema.upgrade(engine)
    assert schema.current_revision(engine) == schema.head_revision()
