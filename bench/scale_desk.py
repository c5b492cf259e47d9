"""The real desk in a child process, for bench/bench_scale.py: start, log in, time pages, read memory.

``create_desk_app`` under uvicorn on 127.0.0.1 (a free port), as ``intake desk`` serves it, driven
over real HTTP with httpx: the unlock form's token, the 303 to /cases, the session cookie, a page's
token for POST /lock. Memory and CPU come from /proc of the child.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
DESK = """
import sys, uvicorn
from pathlib import Path
from intake.settings import Settings
from intake.desk.app import create_desk_app
settings = Settings.load(Path(sys.argv[1]), env={})
uvicorn.run(create_desk_app(settings), host="127.0.0.1", port=int(sys.argv[2]), log_level="warning", access_log=False)
"""
TICK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def token_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    if not found:
        raise RuntimeError("no form token on the page")
    return found.group(1)


class Desk:
    """``with Desk(home, log) as desk:`` a running desk for the node at ``home``; stopped on exit."""

    def __init__(self, home: Path, log: Path, *, user: str, passphrase: str) -> None:
        self.home, self.log_path, self.user, self.passphrase = home, log, user, passphrase
        self.proc: subprocess.Popen[bytes] | None = None
        self.client: httpx.Client = httpx.Client()
        self.views = 0  # pages fetched with get()

    def __enter__(self) -> Desk:
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("INTAKE_", "TWILIO_"))}
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", DESK, str(self.home), str(port)], cwd=ROOT, env=env, stdout=log, stderr=log
            )
        self.client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=900, follow_redirects=False)
        deadline = time.monotonic() + 90
        while True:
            try:
                self.client.get("/login")
                return self
            except httpx.TransportError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    self.__exit__(None, None, None)
                    raise RuntimeError(f"the desk did not start; see {self.log_path}") from None
                time.sleep(0.1)

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.client.close()
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    # -- the child's memory and CPU ---------------------------------------------------------------
    def memory_mb(self) -> dict[str, float]:
        """VmRSS and VmHWM (peak) of the desk, MiB."""
        out: dict[str, float] = {}
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0]) / 1024
        return out

    def cpu_s(self) -> float:
        """User + system CPU seconds of the desk, all its threads."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK

    def settle(self, limit: float, idle: float = 0.05) -> float:
        """Wait until the desk uses under ``idle`` of a core for a whole second (its background
        integrity check after an unlock is done); returns the seconds waited (``limit`` at most)."""
        begin = time.perf_counter()
        while time.perf_counter() - begin < limit:
            cpu = self.cpu_s()
            time.sleep(1.0)
            if self.cpu_s() - cpu < idle:
                break
        return time.perf_counter() - begin

    # -- pages ------------------------------------------------------------------------------------------
    def login(self) -> float:
        """Seconds of one real unlock: POST /login with the form's own token, until its 303."""
        form = {"csrf": token_of(self.client.get("/login").text), "user": self.user, "passphrase": self.passphrase}
        t = time.perf_counter()
        r = self.client.post("/login", data=form)
        seconds = time.perf_counter() - t
        if r.status_code != 303 or r.headers.get("location") != "/cases" or "desk" not in self.client.cookies:
            raise RuntimeError(f"login answered {r.status_code}; see {self.log_path}")
        return seconds

    def lock(self) -> None:
        page = self.get("/cases")
        r = self.client.post("/lock", data={"csrf": token_of(page.text)})
        if r.status_code != 303:
            raise RuntimeError(f"lock answered {r.status_code}")
        self.client.cookies.clear()

    def get(self, path: str, params: dict[str, Any] | None = None) -> httpx.Response:
        r = self.client.get(path, params=params)
        self.views += 1
        if r.status_code != 200:
            raise RuntimeError(f"GET {path} {params or ''} answered {r.status_code}; see {self.log_path}")
        return r
