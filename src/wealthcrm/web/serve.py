"""Serving the web app: one process (:func:`serve` with ``workers=1``, the desk and the demo) or several
worker processes that each listen on the port themselves (``wealthcrm serve --workers 4``).

Why not uvicorn's own ``--workers``: its worker processes share one listening socket, and the
kernel gives each new connection to whichever process happens to accept first. Browsers keep their
connections open, so a worker keeps every user it got. Measured with bench/web.py (32 clients, 4
workers, 2 cores): one worker held all 32 connections and the other three sat idle; the page mix
was served at 46–55 requests a second with most of a core unused. Here each worker opens its own
socket with ``SO_REUSEPORT`` (Linux), and the kernel spreads new connections evenly over them.

``app`` is still an app factory for process managers (``uvicorn --factory wealthcrm.web.serve:app``)
with settings from the environment and the settings file.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import os
import signal
import socket
import sys
import threading
import time
from multiprocessing.process import BaseProcess
from types import FrameType

from fastapi import FastAPI
from sqlalchemy import Engine

from wealthcrm.config import Settings, load_settings
from wealthcrm.web.app import create_app

log = logging.getLogger(__name__)

#: a worker that dies is started again, unless it died within this many seconds of its start
#: (then the port, the database or the settings are wrong, and restarting would only loop)
EARLY_DEATH_SECONDS = 5.0


def freeze_heap() -> None:
    """Move every object alive now (the app, its modules: some 300,000 objects) out of the garbage
    collector's view. A server process is built once and then only serves requests; without this,
    each full collection walked all of them: 60–270 ms pauses every few seconds, in the middle of
    requests, under load (bench/web.py). Objects made later are collected as before; the frozen ones
    are still freed when no longer referenced, only never searched for cycles."""
    gc.collect()
    gc.freeze()


def app() -> FastAPI:
    application = create_app(load_settings())
    freeze_heap()
    return application


def reuse_port_supported() -> bool:
    """Whether the kernel balances connections over sockets bound with ``SO_REUSEPORT`` (Linux)."""
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def listening_socket(host: str, port: int, *, reuse_port: bool) -> socket.socket:
    """A TCP socket listening on ``host:port``; with ``reuse_port``, one of a group the kernel
    spreads connections over."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(False)
    return sock


def _run(settings: Settings, sock: socket.socket, engine: Engine | None = None) -> None:
    """Build the app, freeze its heap and serve it on ``sock`` until SIGINT or SIGTERM."""
    import uvicorn

    application = create_app(settings, engine)
    freeze_heap()
    config = uvicorn.Config(application, log_level="warning", timeout_keep_alive=5)
    uvicorn.Server(config).run(sockets=[sock])


def serve(
    settings: Settings, *, host: str, port: int, workers: int = 1, engine: Engine | None = None
) -> None:
    """Serve the app on ``host:port`` until interrupted (SIGINT or SIGTERM), in ``workers`` processes.

    ``engine`` serves one process only (each worker process makes its own engine).
    """
    if workers <= 1:
        _run(settings, listening_socket(host, port, reuse_port=False), engine)
        return
    if not reuse_port_supported():
        raise RuntimeError("several worker processes need SO_REUSEPORT (Linux); serve with one worker")
    Supervisor(settings, host, port, workers).run()


def _stop_when_orphaned(parent: int) -> None:
    """Stop this worker (as SIGTERM would: the requests in progress finish) once its supervisor is
    gone, killed without the chance to stop it: it would otherwise serve on, unsupervised."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="wealthcrm-orphan-watch", daemon=True).start()


def _worker(settings: Settings, host: str, port: int, parent: int) -> None:
    """One worker process: its own socket in the port's group, its own app and engine."""
    _stop_when_orphaned(parent)
    _run(settings, listening_socket(host, port, reuse_port=True))


class Supervisor:
    """Starts the worker processes, starts again one that dies, stops them all on SIGINT or SIGTERM."""

    def __init__(self, settings: Settings, host: str, port: int, workers: int) -> None:
        self.settings, self.host, self.port, self.workers = settings, host, port, workers
        # fresh interpreters: nothing of this process (engines, connections, threads) is inherited
        self.context = multiprocessing.get_context("spawn")
        self.processes: list[tuple[BaseProcess, float]] = []
        self.stopping = False

    def _start(self) -> tuple[BaseProcess, float]:
        process = self.context.Process(
            target=_worker,
            args=(self.settings, self.host, self.port, os.getpid()),
            name="wealthcrm-web",
            daemon=False,
        )
        process.start()
        return process, time.monotonic()

    def _stop(self, signum: int, _frame: FrameType | None) -> None:
        self.stopping = True

    def run(self) -> None:
        # a port another program (or another wealthcrm) holds fails here, not in every worker: a
        # socket without SO_REUSEPORT cannot join a group, nor bind where anything listens
        listening_socket(self.host, self.port, reuse_port=False).close()
        previous = {s: signal.signal(s, self._stop) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            self.processes = [self._start() for _ in range(self.workers)]
            while not self.stopping:
                time.sleep(0.2)
                for i, (process, started) in enumerate(self.processes):
                    if process.is_alive() or self.stopping:
                        continue
                    if time.monotonic() - started < EARLY_DEATH_SECONDS:
                        raise RuntimeError(
                            f"a worker process stopped {time.monotonic() - started:.1f} s after its start "
                            f"(exit code {process.exitcode}); see its messages above"
                        )
                    log.warning("worker %s exited (code %s); starting another", process.pid, process.exitcode)
                    self.processes[i] = self._start()
        finally:
            for process, _ in self.processes:
                if process.is_alive():
                    process.terminate()  # SIGTERM: uvicorn finishes the requests in progress
            for process, _ in self.processes:
                process.join(timeout=30)
                if process.is_alive():
                    process.kill()
                    process.join()
            for s, handler in previous.items():
                signal.signal(s, handler)
