"""An import killed half-way (SIGKILL: no cleanup code runs) leaves the database as it was."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from sqlalchemy import Engine

from wealthcrm.config import Settings
from wealthcrm.ingest.importer import import_path

from .factories import VALID, write_folder
from .test_importer import TODAY, snapshot

SCRIPT = textwrap.dedent(
    """
    import os, signal, sys
    from datetime import date
    from pathlib import Path
    from wealthcrm.config import Settings
    from wealthcrm.db import make_engine
    from wealthcrm.ingest.importer import import_path

    def die(table):
        if table == "aum_monthly":  # branches … customers, products are written, not committed
            print("killing", flush=True)
            os.kill(os.getpid(), signal.SIGKILL)

    settings = Settings(data_dir=Path(sys.argv[3]), field_key=sys.argv[4])
    import_path(make_engine(sys.argv[1]), Path(sys.argv[2]), settings=settings,
                today=date(2026, 11, 28), on_table_written=die)
    print("finished", flush=True)
    """
)


def test_killed_import_leaves_database_unchanged(
    engine: Engine, db_url: str, settings: Settings, tmp_path: Path
) -> None:
    import_path(engine, write_folder(tmp_path / "first"), settings=settings, today=TODAY)
    before = snapshot(engine)
    files = {k: [dict(r) for r in rows] for k, rows in VALID.items()}
    files["customers"].append(dict(files["customers"][0], customer_id="C009", national_id="", mobile=""))
    files["branches"][0]["name"] = "改名支行"
    engine.dispose()  # the child process is the only one using the database now

    assert settings.field_key is not None
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            SCRIPT,
            db_url,
            str(write_folder(tmp_path / "second", files)),
            str(settings.data_dir),
            settings.field_key.get_secret_value(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ.copy(),
    )

    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert proc.stdout.split() == ["killing"]
    assert snapshot(engine) == before
