"""The web app under load: Today, Book and Customer 360 (pages and API) on a simulated branch.

    .venv/bin/python bench/web.py --customers 50000                       # SQLite and PostgreSQL
    .venv/bin/python bench/web.py --customers 5000 --backend sqlite --duration 20   # a quick look

For each backend: simulates the branch (24 months), imports it, trains the churn model, runs the
nightly batch (so Today has scores, alerts and tasks), creates the demo logins, starts the app with
uvicorn in a subprocess and drives it with an asyncio HTTP client:

1. **paced**: ``--users`` RMs (default 50), each logged in with its own session, loop over Today →
   Book → a Customer 360 of their own book → the same through the API, pausing ``--think`` seconds
   (default 1) between requests — a busy branch. User *i* starts its rounds at page *i* mod 6, so the
   users are not in step (with ``--lockstep`` all start at Today; since every round takes each user
   about as long, all Today requests of a round then keep arriving within one think time, a burst of
   50 Today pages every 7 s). Prints p50/p95/max latency per page over the steady state (requests
   started after ``--warmup`` seconds, default 10: the first requests meet fresh worker processes),
   and over every request.
2. **saturation**: ``--concurrency`` clients without pauses over the same mix, then over
   ``/api/v1/health`` (no login, no database): requests per second of each, measured in the same run,
   the health endpoint being the ceiling of this app on this machine.

The load generator shares the machine with the server, so absolute figures are pessimistic; the
ratio to the health endpoint is the comparable figure. Prepared databases are kept under
``--cache-dir`` and reused when the same size is asked again. Prints one JSON document.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import gc
import json
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine

from wealthcrm import schema
from wealthcrm.analytics import registry
from wealthcrm.analytics.nightly import run_nightly
from wealthcrm.analytics.training import fit_final, training_data
from wealthcrm.config import Settings
from wealthcrm.db import make_engine, session_scope
from wealthcrm.ingest.importer import import_path
from wealthcrm.simulate import simulate_branch
from wealthcrm.simulate.demo import create_demo_users

TODAY = date(2026, 11, 28)
END = date(2026, 10, 1)
PASSWORD = "bench-password-1"
FIELD_KEY = base64.b64encode(bytes(range(32))).decode()
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


# --- preparing a database -------------------------------------------------------------------------


def _settings(data_dir: Path, url: str) -> Settings:
    return Settings(data_dir=data_dir, database_url=url, field_key=FIELD_KEY)


def prepare(cache: Path, customers: int, backends: list[str], pg_admin: str) -> dict[str, dict[str, Any]]:
    """Databases holding the simulated branch, scored and with demo users, per backend (cached)."""
    prepared: dict[str, dict[str, Any]] = {}
    folder = cache / f"branch-{customers}"
    if not (folder / "done").exists():
        shutil.rmtree(folder, ignore_errors=True)
        simulate_branch(customers=customers, months=24, seed=1, out=folder, fmt="parquet",
                        end_month=f"{END:%Y-%m}", today=TODAY, workers=2)  # fmt: skip
        (folder / "done").write_text("ok")
    model = None
    for backend in backends:
        if backend == "sqlite":
            url = f"sqlite:///{cache / f'web-{customers}.db'}"
        else:
            url = (
                make_url(pg_admin)
                .set(database=f"bench_web_{customers}")
                .render_as_string(hide_password=False)
            )
        marker = cache / f"web-{customers}-{backend}.ready"
        settings = _settings(cache / "data", url)
        if not marker.exists():
            started = time.perf_counter()
            if backend == "sqlite":
                Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
            else:
                admin = create_engine(pg_admin, isolation_level="AUTOCOMMIT")
                with admin.connect() as conn:
                    name = make_url(url).database
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                    conn.execute(text(f'CREATE DATABASE "{name}"'))
                admin.dispose()
            engine = make_engine(url)
            schema.upgrade(engine)
            import_path(engine, folder, settings=settings, today=TODAY)
            if model is None:
                model = fit_final(training_data(engine, until=END, settings=settings), settings=settings)
            with session_scope(engine) as session:
                registry.save(session, model=model, activate=True)
            run_nightly(engine, month=END, settings=settings)
            with session_scope(engine) as session:
                create_demo_users(session, password=PASSWORD)
            engine.dispose()
            marker.write_text(json.dumps({"prepare_s": round(time.perf_counter() - started, 1)}))
        prepared[backend] = {"url": url, "settings": settings, **json.loads(marker.read_text())}
    return prepared


# --- the server -----------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(
    url: str, data_dir: Path, workers: int, server: str = "wealthcrm"
) -> tuple[subprocess.Popen[bytes], str]:
    """``wealthcrm serve --workers N`` (each worker with its own socket), or with ``server="uvicorn"``
    uvicorn's own ``--workers`` (one socket shared by the workers: the comparison)."""
    port = _free_port()
    env = {
        **os.environ,
        "WEALTHCRM_DATABASE_URL": url,
        "WEALTHCRM_DATA_DIR": str(data_dir),
        "WEALTHCRM_FIELD_KEY": FIELD_KEY,
    }
    if server == "uvicorn":
        command = [sys.executable, "-m", "uvicorn", "--factory", "wealthcrm.web.serve:app",
                   "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
                   "--log-level", "warning", "--no-access-log"]  # fmt: skip
    else:
        command = [sys.executable, "-m", "wealthcrm.cli.main", "serve",
                   "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]  # fmt: skip
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)  # stdout: the JSON
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200:
                return process, base
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError("the server did not start")


# --- the clients ----------------------------------------------------------------------------------


@dataclass
class Samples:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    #: (page, when the request started, seconds): what ``summary(since=…)`` filters
    timed: list[tuple[str, float, float]] = field(default_factory=list)

    def add(self, page: str, seconds: float, ok: bool, started: float = 0.0) -> None:
        self.latencies.setdefault(page, []).append(seconds)
        self.timed.append((page, started, seconds))
        if not ok:
            self.errors[page] = self.errors.get(page, 0) + 1

    def after(self, since: float) -> Samples:
        """The requests that started at ``since`` or later (the steady state after a warm-up)."""
        out = Samples()
        for page, started, seconds in self.timed:
            if started >= since:
                out.add(page, seconds, True, started)
        return out

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for page, values in sorted(self.latencies.items()):
            ms = sorted(v * 1000 for v in values)
            out[page] = {
                "n": len(ms),
                "p50_ms": round(statistics.median(ms), 1),
                "p95_ms": round(ms[min(len(ms) - 1, int(0.95 * len(ms)))], 1),
                "max_ms": round(ms[-1], 1),
                "errors": self.errors.get(page, 0),
            }
        return out


async def login(client: httpx.AsyncClient, username: str) -> None:
    page = await client.get("/login")
    match = CSRF_RE.search(page.text)
    assert match, "no CSRF token on /login"
    response = await client.post(
        "/login", data={"username": username, "password": PASSWORD, "csrf_token": match.group(1), "next": "/"}
    )
    assert response.status_code in (200, 303), response.text[:200]


async def own_customers(client: httpx.AsyncClient) -> list[str]:
    response = await client.get("/api/v1/customers", params={"page_size": 100})
    response.raise_for_status()
    return [row["customer_id"] for row in response.json()["items"]]


def mix(customers: list[str], rng: random.Random, book_path: str) -> list[tuple[str, str]]:
    """One round of a user's work: (page label, path)."""
    one = rng.choice(customers) if customers else "none"
    return [
        ("today", "/today"),
        ("book", book_path),
        ("customer_360", f"/customers/{one}"),
        ("api_today", "/api/v1/today"),
        ("api_customers", "/api/v1/customers?page_size=50"),
        ("api_customer", f"/api/v1/customers/{one}"),
    ]


async def user_loop(
    base: str,
    username: str,
    deadline: float,
    think: float,
    samples: Samples,
    seed: int,
    book_path: str,
    start: int = 0,
) -> None:
    """One user's rounds of :func:`mix`, each from page ``start`` of the round on."""
    rng = random.Random(seed)
    async with httpx.AsyncClient(base_url=base, timeout=60, follow_redirects=False) as client:
        await login(client, username)
        customers = await own_customers(client)
        await asyncio.sleep(rng.random() * think)  # spread the users' first requests
        while time.perf_counter() < deadline:
            pages = mix(customers, rng, book_path)
            for page, path in pages[start:] + pages[:start]:
                if time.perf_counter() >= deadline:
                    return
                started = time.perf_counter()
                response = await client.get(path)
                samples.add(page, time.perf_counter() - started, response.status_code == 200, started)
                if think:
                    await asyncio.sleep(think)


async def paced(
    base: str, rms: list[str], users: int, think: float, duration: float, book: str, lockstep: bool
) -> Samples:
    """``users`` users, each from its own page of the round (user i from page i mod 6: the RMs of a
    branch do not click in step), or all from Today (``lockstep``: every round's Today requests of
    all users then arrive within the same ``think`` seconds)."""
    samples = Samples()
    deadline = time.perf_counter() + duration
    pages = len(mix([], random.Random(0), book))
    await asyncio.gather(
        *(
            user_loop(
                base, rms[i % len(rms)], deadline, think, samples, i, book, start=0 if lockstep else i % pages
            )
            for i in range(users)
        )
    )
    return samples


async def saturate(base: str, rms: list[str], concurrency: int, duration: float, book: str) -> dict[str, Any]:
    samples = Samples()
    started = time.perf_counter()
    await asyncio.gather(
        *(
            user_loop(base, rms[i % len(rms)], started + duration, 0.0, samples, 1000 + i, book)
            for i in range(concurrency)
        )
    )
    total = sum(len(v) for v in samples.latencies.values())
    mix_rps = total / (time.perf_counter() - started)

    async def health(client: httpx.AsyncClient, deadline: float) -> int:
        n = 0
        while time.perf_counter() < deadline:
            (await client.get("/api/v1/health")).raise_for_status()
            n += 1
        return n

    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        started = time.perf_counter()
        counts = await asyncio.gather(*(health(client, started + duration) for _ in range(concurrency)))
        health_rps = sum(counts) / (time.perf_counter() - started)
    return {
        "concurrency": concurrency,
        "mix_rps": round(mix_rps, 1),
        "health_rps": round(health_rps, 1),
        "mix_to_health": round(mix_rps / health_rps, 3),
        "pages": samples.summary(),
    }


def run_backend(name: str, db: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    settings: Settings = db["settings"]
    engine = make_engine(db["url"])
    with engine.connect() as conn:
        rms = [
            r[0] for r in conn.execute(text("SELECT username FROM users WHERE role = 'rm' ORDER BY username"))
        ]
    engine.dispose()
    process, base = start_server(db["url"], settings.data_dir, args.workers, args.server)
    try:
        book = "/book" if _has_page(base, rms[0], "/book") else "/api/v1/customers?page_size=50"
        result: dict[str, Any] = {"rm_logins": len(rms), "prepare_s": db.get("prepare_s"), "book_path": book}
        started = time.perf_counter()
        # the load generator imported the whole package to prepare the databases: out of its garbage
        # collector's view, or its own full collections (100–200 ms) would count as latency
        gc.collect()
        gc.freeze()
        samples = asyncio.run(paced(base, rms, args.users, args.think, args.duration, book, args.lockstep))
        steady = samples.after(started + args.warmup)
        steady.errors = samples.errors
        result["paced"] = {"users": args.users, "think_s": args.think, "duration_s": args.duration,
                           "warmup_s": args.warmup, "pages": steady.summary(),
                           "pages_with_warmup": samples.summary()}  # fmt: skip
        result["saturation"] = asyncio.run(saturate(base, rms, args.concurrency, args.duration / 2, book))
    finally:
        process.terminate()
        process.wait(timeout=30)
    return result


def _has_page(base: str, username: str, path: str) -> bool:
    async def check() -> bool:
        async with httpx.AsyncClient(base_url=base, timeout=60) as client:
            await login(client, username)
            return (await client.get(path)).status_code == 200

    return asyncio.run(check())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--backend", action="append", choices=["sqlite", "postgresql"])
    parser.add_argument("--pg-admin-url", default=os.environ.get("WEALTHCRM_BENCH_PG", PG_DEFAULT))
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--think", type=float, default=1.0)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of the paced run")
    parser.add_argument(
        "--warmup", type=float, default=10.0,
        help="seconds at the start of the paced run left out of its figures (the users' first requests "
        "meet fresh worker processes; all samples are printed too, as pages_with_warmup)",
    )  # fmt: skip
    parser.add_argument(
        "--lockstep", action="store_true",
        help="every user starts its rounds at Today (they then stay in step: all Today requests of a "
        "round within one think time); by default user i starts at page i mod 6",
    )  # fmt: skip
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument(
        "--workers", type=int, default=4, help="server worker processes (2 per core, docs/workbench.md)"
    )
    parser.add_argument(
        "--server", choices=["wealthcrm", "uvicorn"], default="wealthcrm",
        help="wealthcrm serve --workers (a socket per worker; default) or uvicorn --workers (one socket)",
    )  # fmt: skip
    parser.add_argument("--cache-dir", type=Path, default=Path(tempfile.gettempdir()) / "wealthcrm-bench-web")
    args = parser.parse_args()
    backends = args.backend or ["sqlite", "postgresql"]
    args.cache_dir.mkdir(parents=True, exist_ok=True)
    prepared = prepare(args.cache_dir, args.customers, backends, args.pg_admin_url)
    results = {name: run_backend(name, prepared[name], args) for name in backends}
    print(json.dumps({"benchmark": "web", "customers": args.customers, "months": 24,
                      "machine": machine(), "backends": results}, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
