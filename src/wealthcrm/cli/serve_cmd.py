"""`wealthcrm serve` and `wealthcrm demo`: run the web application, on a database or a simulated branch."""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path

import typer
from rich.table import Table
from sqlalchemy import Engine, inspect, select
from sqlalchemy.engine import make_url

from wealthcrm import schema
from wealthcrm.cli.common import State, console, err_console, fail, state
from wealthcrm.cli.simulate_cmd import run_simulation
from wealthcrm.db import all_models, session_scope
from wealthcrm.ingest.importer import import_path
from wealthcrm.ingest.models import ImportRun

DEMO_ACTOR = "demo"


def _serve(st: State, engine: Engine, host: str, port: int, workers: int = 1) -> None:
    from wealthcrm.web.serve import reuse_port_supported, serve

    if workers > 1 and not reuse_port_supported():
        fail("--workers above 1 needs Linux (SO_REUSEPORT); serve with one worker")
    processes = f", {workers} worker processes" if workers > 1 else ""
    console.print(f"serving http://{host}:{port}{processes}  (Ctrl+C stops)")
    try:
        serve(st.settings, host=host, port=port, workers=workers, engine=engine if workers == 1 else None)
    except OSError as exc:
        fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
    except RuntimeError as exc:
        fail(str(exc))


def _is_demo(engine: Engine) -> bool:
    if "import_runs" not in inspect(engine).get_table_names():
        return False
    with engine.connect() as conn:
        actors = set(conn.execute(select(ImportRun.actor)).scalars())
    return actors <= {DEMO_ACTOR}


def _fresh_database(st: State, force: bool) -> Engine:
    """An empty database at the configured URL, replacing an earlier demo (or anything, with --force)."""
    engine = st.engine
    url = make_url(st.settings.effective_database_url)
    tables = inspect(engine).get_table_names()
    if tables and not force and not _is_demo(engine):
        fail(
            f"{url.render_as_string()} already holds data that is not a demo; "
            "use --database for another database, or --force to replace it"
        )
    if url.get_backend_name() == "sqlite" and url.database:
        engine.dispose()
        for suffix in ("", "-wal", "-shm"):
            Path(url.database + suffix).unlink(missing_ok=True)
    elif tables:
        metadata = all_models()
        with engine.begin() as conn:
            metadata.drop_all(conn)
            conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    schema.upgrade(engine)
    return engine


def _train_and_score(st: State, engine: Engine) -> None:
    """Give the demo a churn model and one nightly run, so risk, reasons and alerts are there to see."""
    from wealthcrm.analytics import registry
    from wealthcrm.analytics.nightly import run_nightly
    from wealthcrm.analytics.training import fit_final, run_backtest, training_data
    from wealthcrm.errors import Invalid
    from wealthcrm.holdings.service import latest_month

    with session_scope(engine) as session:
        last = latest_month(session)
    assert last is not None
    with err_console.status("training the churn model"):
        frame = training_data(engine, until=last, settings=st.settings)
        try:
            metrics = run_backtest(frame, settings=st.settings).to_dict()
        except Invalid:  # too few months for a backtest: train anyway, without its metrics
            metrics = None
        try:
            model = fit_final(frame, settings=st.settings)
        except Invalid as exc:
            err_console.print(f"[yellow]no churn model for this small demo: {exc}[/]")
            model = None
    if model is not None:
        with session_scope(engine) as session:
            registry.save(
                session, model=model, metrics=metrics, activate=True, notes="trained by wealthcrm demo"
            )
    with err_console.status("nightly batch"):
        result = run_nightly(engine, month=last, settings=st.settings)
    console.print(
        f"nightly {last:%Y-%m}: {result.rows.get('scored', 0):,} customers scored, "
        f"{result.rows.get('alerts_created', 0):,} alerts"
    )


def register(app: typer.Typer) -> None:
    @app.command("serve")
    def serve(
        ctx: typer.Context,
        host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
        port: int = typer.Option(8000, "--port", help="Port to listen on."),
        workers: int = typer.Option(
            1,
            "--workers",
            min=1,
            max=64,
            help="Worker processes (Linux): 2 per core on a server, each with its own socket on the port.",
        ),
    ) -> None:
        """Serve the web application on an existing database.

        Example: wealthcrm --database postgresql+psycopg://crm@db/crm serve --host 0.0.0.0 --workers 4
        """
        st = state(ctx)
        engine = st.ready_engine()
        if workers > 1:
            engine.dispose()  # each worker process makes its own
        _serve(st, engine, host, port, workers)

    @app.command("demo")
    def demo(
        ctx: typer.Context,
        customers: int = typer.Option(3000, "--customers", min=50, help="Customers in the simulated branch."),
        months: int = typer.Option(24, "--months", min=4, help="Months of history."),
        seed: int = typer.Option(42, "--seed", help="Random seed of the simulation."),
        password: str | None = typer.Option(
            None, "--password", help="Password of every demo login; generated and printed when not given."
        ),
        serve: bool = typer.Option(True, "--serve/--no-serve", help="Start the web app when ready."),
        host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
        port: int = typer.Option(8000, "--port", help="Port to listen on."),
        force: bool = typer.Option(False, "--force", help="Replace a database that is not an earlier demo."),
    ) -> None:
        """Simulate a branch, import it into a fresh database, create demo logins, serve the app.

        Logins: rm01…rmNN (one per active RM), lead01…, manager01, service01…, analyst01, auditor01,
        admin. The database is the default one (or --database); an earlier demo there is replaced.

        Example: wealthcrm demo --customers 3000 --password demo-password
        """
        from wealthcrm.simulate.demo import create_demo_users

        st = state(ctx)
        if password is not None and len(password) < 10:
            fail("--password: at least 10 characters")
        password = password or secrets.token_urlsafe(9)
        engine = _fresh_database(st, force)
        with tempfile.TemporaryDirectory(prefix="wealthcrm-demo-") as tmp:
            summary = run_simulation(
                customers=customers,
                months=months,
                seed=seed,
                out=Path(tmp),
                fmt="parquet",
                end_month=None,
                workers=min(os.cpu_count() or 1, 2),
            )
            with err_console.status("importing the branch") as status:
                result = import_path(
                    engine,
                    Path(tmp),
                    settings=st.settings,
                    actor=DEMO_ACTOR,
                    progress=lambda stage, label: status.update(f"{stage} {label}"),
                )
        _train_and_score(st, engine)
        with session_scope(engine) as session:
            logins = create_demo_users(session, password=password)
        console.print(
            f"demo branch: {customers:,} customers, {months} months to {summary.end_month}, "
            f"{result.rows:,} rows imported into {st.settings.effective_database_url}"
        )
        table = Table("login", "role", "staff", title=f"demo logins — password: {password}")
        for login in logins:
            table.add_row(
                login.username, login.role.value, f"{login.staff_id or ''} {login.name or ''}".strip()
            )
        console.print(table)
        if serve:
            _serve(st, engine, host, port)
        else:
            console.print("start the web app with: wealthcrm serve")
