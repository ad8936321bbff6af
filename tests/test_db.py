"""The engines the app makes: SQLite's pragmas, PostgreSQL's session settings."""

from __future__ import annotations

from sqlalchemy import Engine, text

from wealthcrm.db import SQLITE_CACHE_KIB, SQLITE_MMAP_BYTES, make_engine


def test_connection_settings_of_each_backend(engine: Engine) -> None:
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert conn.execute(text("PRAGMA cache_size")).scalar() == -SQLITE_CACHE_KIB
            assert conn.execute(text("PRAGMA mmap_size")).scalar() == SQLITE_MMAP_BYTES
        else:  # the planner knows a key look-up is cheap
            assert conn.execute(text("SHOW random_page_cost")).scalar() == "1.1"
    if engine.dialect.name == "postgresql":  # a URL's own options win
        url = engine.url.update_query_dict({"options": "-c random_page_cost=2"})
        other = make_engine(url.render_as_string(hide_password=False))
        with other.connect() as conn:
            assert conn.execute(text("SHOW random_page_cost")).scalar() == "2"
        other.dispose()
