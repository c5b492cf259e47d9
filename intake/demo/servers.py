"""The demo's servers: uvicorn in a thread on a loopback socket, and the ports they listen on.

Used by the demo's intake, desk and partner (and by the tests, which start real servers the same way).
"""

from __future__ import annotations

import errno
import socket
import threading
import time
from typing import Any

import uvicorn
from rich.console import Console

from i18n import d_
from intake import clock
from intake.errors import PortInUse
from intake.logs import uvicorn_log_config


class _Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # the main thread keeps Ctrl-C
        pass


def start_server(app: Any, sock: socket.socket) -> tuple[_Server, threading.Thread]:
    config = uvicorn.Config(
        app,
        access_log=False,
        server_header=False,
        log_config=uvicorn_log_config(),
        log_level="warning",
    )
    server = _Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = clock.monotonic() + 15
    while not server.started:
        if clock.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("demo server did not start")
        time.sleep(0.05)
    return server, thread


def listen(port: int | None, default: int, option: str, console: Console) -> socket.socket:
    """A loopback socket on ``port``; when none was asked for, ``default``, or any free port if that is taken.

    A port someone chose and cannot have is one clear line naming it and the option (issue 12),
    said before the demo does any work; a default that is taken is replaced and the new one printed.
    """
    wanted = default if port is None else port
    try:
        return bind_loopback(wanted)
    except OSError as exc:
        if port is not None:
            if exc.errno == errno.EADDRINUSE:
                message = d_(
                    "Port {port} on 127.0.0.1 is already in use (another program, or a demo still running): "
                    "choose another with {option}, or {option} 0 for any free port."
                )
            else:
                message = d_("Cannot listen on 127.0.0.1 port {port} ({reason}): choose another with {option}.")
            raise PortInUse(message.format(port=wanted, option=option, reason=exc.strerror)) from None
    sock = bind_loopback(0)
    console.print(
        d_("Port {port} is in use, so the demo took port {free} instead (choose one with {option}).").format(
            port=wanted, free=sock.getsockname()[1], option=option
        )
    )
    return sock


def bind_loopback(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
    except OSError:
        sock.close()
        raise
    return sock
