"""An acknowledged report survives ``kill -9`` of the intake server in the middle of a burst.

A real ``intake serve`` process on loopback takes concurrent JSON reports, each carrying a unique
marker word. When about 40 % are acknowledged (HTTP 201) the server gets SIGKILL. After a restart
on the same home, a drain must find every acknowledged marker exactly once; reports that were in
flight may or may not be there, but nothing is ever stored twice. The drain itself is then
"crashed" between committing cases and deleting inbox items, and re-run, to show that crash costs
nothing either.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from intake.drain import drain
from intake.node import open_cases, open_inbox, unlock
from intake.store.inbox import Inbox
from tests.conftest import PASSPHRASE, Node, free_port, make_node

pytestmark = pytest.mark.slow

TOTAL = 320
THREADS = 16
KILL_AT = 0.4  # fraction of TOTAL acknowledged when the server is killed
START_TIMEOUT = 20.0
BURST_TIMEOUT = 20.0


def server_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INTAKE_")}
    env.update({"INTAKE_RATE_LIMIT_PER_MINUTE": "0", "INTAKE_LOG_LEVEL": "WARNING", "PYTHONIOENCODING": "utf-8"})
    return env


@contextmanager
def intake_server(home: Path, log: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """``intake serve`` as a real process; always killed on the way out."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "intake.cli",
                "--home",
                str(home),
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=server_env(),
        )
    try:
        wait_healthy(proc, base, log)
        yield proc, base
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)


def wait_healthy(proc: subprocess.Popen[bytes], base: str, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"intake serve exited with {proc.returncode}:\n{log.read_text(errors='replace')[-2000:]}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    pytest.fail(f"intake serve did not answer /healthz within {START_TIMEOUT} s")


def report_body(marker: str) -> dict[str, object]:
    return {
        "description": f"Synthetic durability report {marker}: overtime unpaid on line seven.",
        "factory": "Example Test Factory",
        "categories": ["wages"],
        "consent": 0,
        "locale": "en",
    }


def marker_of(description: str) -> str:
    words = [w.rstrip(":") for w in description.split() if w.startswith("mk")]
    assert len(words) == 1, description
    return words[0]


def burst_and_kill(proc: subprocess.Popen[bytes], base: str, markers: list[str]) -> tuple[set[str], int]:
    """Send every marker from THREADS clients; SIGKILL the server at KILL_AT. Returns (acked, attempted)."""
    acked: set[str] = set()
    attempted = 0
    lock = threading.Lock()
    todo = iter(markers)
    killed = threading.Event()

    def client() -> None:
        nonlocal attempted
        with httpx.Client(base_url=base, timeout=10) as http:
            while not killed.is_set():
                with lock:
                    marker = next(todo, None)
                    if marker is None:
                        return
                    attempted += 1
                try:
                    resp = http.post("/api/v1/reports", json=report_body(marker))
                except httpx.HTTPError:
                    continue  # in flight at the kill: not acknowledged
                if resp.status_code == 201:
                    assert len(resp.json()["receipt"]) == 19
                    with lock:
                        acked.add(marker)
                else:
                    assert resp.status_code == 503, resp.text  # refusing is allowed, losing is not

    with ThreadPoolExecutor(THREADS) as pool:
        futures = [pool.submit(client) for _ in range(THREADS)]
        deadline = time.monotonic() + BURST_TIMEOUT
        while time.monotonic() < deadline:
            with lock:
                if len(acked) >= KILL_AT * len(markers):
                    break
            if all(f.done() for f in futures):
                break
            time.sleep(0.002)
        os.kill(proc.pid, signal.SIGKILL)
        killed.set()
        proc.wait(timeout=10)
        for f in futures:
            f.result(timeout=BURST_TIMEOUT)
    assert proc.returncode == -signal.SIGKILL
    return acked, attempted


class DrainCrash(RuntimeError):
    pass


def test_acknowledged_reports_survive_kill_9_exactly_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    node: Node = make_node(tmp_path / "home")
    log = tmp_path / "server.log"
    markers = [f"mk{uuid.uuid4().hex[:12]}" for _ in range(TOTAL)]

    with intake_server(node.home, log) as (proc, base):
        acked, attempted = burst_and_kill(proc, base, markers)

    assert acked, "nothing was acknowledged before the kill"
    assert len(acked) < TOTAL, "the burst finished before the kill: nothing was tested"

    # The restarted server serves from the same inbox (its WAL recovered) and takes new reports.
    late = f"mk{uuid.uuid4().hex[:12]}"
    with intake_server(node.home, log) as (_proc, base):
        resp = httpx.post(f"{base}/api/v1/reports", json=report_body(late), timeout=10)
        assert resp.status_code == 201, resp.text
        status = httpx.post(f"{base}/api/v1/status", json={"receipt": resp.json()["receipt"]}, timeout=10)
        assert status.status_code == 200 and status.json()["status"] == "received"
    acked.add(late)

    keys = unlock(node.settings, None, PASSPHRASE)
    inbox = open_inbox(node.settings)
    in_inbox = inbox.count()
    inbox.close()
    assert in_inbox >= len(acked)

    # Drain, but "crash" after the first batch is committed to cases.db and before the inbox delete.
    real_delete = Inbox.delete
    calls = {"n": 0}

    def crash_once(self: Inbox, item_ids: list[str]) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise DrainCrash("simulated crash between commit and delete")
        real_delete(self, item_ids)

    monkeypatch.setattr(Inbox, "delete", crash_once)
    inbox, cases = open_inbox(node.settings), open_cases(node.settings, keys)
    try:
        with pytest.raises(DrainCrash):
            drain(inbox, cases, keys, batch=50)
        crashed_cases = cases.count()
    finally:
        inbox.close()
        cases.close()
    assert crashed_cases == 50

    inbox, cases = open_inbox(node.settings), open_cases(node.settings, keys)
    try:
        result = drain(inbox, cases, keys, batch=50)
        rows = cases.list_cases()
        left = inbox.count()
    finally:
        inbox.close()
        cases.close()

    assert result.already == 50 and result.unreadable == 0 and left == 0
    assert result.cases + result.already == in_inbox

    found = Counter(marker_of(c.description) for c in rows)
    duplicated = {m: n for m, n in found.items() if n > 1}
    assert not duplicated, f"stored twice: {duplicated}"
    missing = acked - set(found)
    assert not missing, f"{len(missing)} acknowledged reports lost: {sorted(missing)[:5]}"
    assert set(found) <= set(markers) | {late}
    assert len(rows) == len(found) == in_inbox

    with capsys.disabled():
        print(
            f"\n[durability] sent {attempted} of {TOTAL}, acknowledged {len(acked) - 1} before SIGKILL "
            f"(+1 after restart), stored {len(rows)} cases "
            f"({len(rows) - len(acked)} unacknowledged in-flight reports also kept), duplicates 0"
        )
