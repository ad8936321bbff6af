"""`wealthcrm serve --workers N`: N worker processes, each listening on the port with a socket of its
own (SO_REUSEPORT), stopped together by SIGTERM; a port in use is a clear error."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from wealthcrm import schema
from wealthcrm.db import make_engine
from wealthcrm.web.serve import reuse_port_supported

from ..conftest import TEST_FIELD_KEY

pytestmark = pytest.mark.skipif(not reuse_port_supported(), reason="several workers need Linux")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _listening_sockets(port: int) -> int:
    """Sockets in LISTEN state on ``port`` (any address), from /proc/net/tcp."""
    count = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, state = fields[1], fields[3]
        if state == "0A" and int(local.split(":")[1], 16) == port:
            count += 1
    return count


def _serve(tmp_path: Path, port: int, workers: int) -> subprocess.Popen[str]:
    url = f"sqlite:///{tmp_path / 'crm.db'}"
    engine = make_engine(url)
    schema.upgrade(engine)
    engine.dispose()
    env = {**os.environ, "WEALTHCRM_DATA_DIR": str(tmp_path / "data"), "WEALTHCRM_FIELD_KEY": TEST_FIELD_KEY}
    command = [sys.executable, "-m", "wealthcrm.cli.main", "--database", url, "serve",
               "--port", str(port), "--workers", str(workers)]  # fmt: skip
    # a session of its own, so a failed test can stop the supervisor and its workers together
    return subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )


def _kill_group(process: subprocess.Popen[str]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    if process.returncode is None:
        process.communicate()


def _wait_healthy(base: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        try:
            if httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError("the server did not answer in 60 s")


def test_workers_listen_on_sockets_of_their_own_and_stop_on_sigterm(tmp_path: Path) -> None:
    port = _free_port()
    process = _serve(tmp_path, port, workers=2)
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_healthy(base, process)
        deadline = time.monotonic() + 60  # the second worker may still be starting
        while _listening_sockets(port) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _listening_sockets(port) == 2
        for _ in range(20):  # new connections, whichever worker gets each
            assert (
                httpx.get(f"{base}/api/v1/health", headers={"Connection": "close"}).json()["status"] == "ok"
            )
        process.send_signal(signal.SIGTERM)  # the supervisor alone: it stops its workers
        out, _err = process.communicate(timeout=90)
    finally:
        _kill_group(process)
    assert process.returncode == 0
    assert "2 worker processes" in out
    assert _listening_sockets(port) == 0


def test_workers_stop_when_the_supervisor_is_killed(tmp_path: Path) -> None:
    """SIGKILL leaves the supervisor no time to stop its workers: they notice and stop themselves."""
    port = _free_port()
    process = _serve(tmp_path, port, workers=2)
    try:
        _wait_healthy(f"http://127.0.0.1:{port}", process)
        process.kill()
        process.wait()
        deadline = time.monotonic() + 60
        while _listening_sockets(port) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _listening_sockets(port) == 0
    finally:
        _kill_group(process)


def test_a_port_in_use_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process = _serve(tmp_path, port, workers=2)
        try:
            _out, err = process.communicate(timeout=60)
        finally:
            _kill_group(process)
    assert process.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in err


def test_one_process_serves_and_stops_on_sigterm(tmp_path: Path) -> None:
    port = _free_port()
    process = _serve(tmp_path, port, workers=1)
    try:
        _wait_healthy(f"http://127.0.0.1:{port}", process)
        assert _listening_sockets(port) == 1
        process.send_signal(signal.SIGTERM)
        out, _err = process.communicate(timeout=60)
    finally:
        _kill_group(process)
    # uvicorn stops gracefully, then raises the signal again, so the process ends as SIGTERM asked
    assert process.returncode == -signal.SIGTERM
    assert f"serving http://127.0.0.1:{port}  (Ctrl+C stops)" in out
    assert _listening_sockets(port) == 0
