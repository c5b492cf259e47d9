"""Real local servers that alerts are sent to in tests, each keeping every message it received:
a minimal SMTP server with STARTTLS and AUTH (a self-signed certificate made by openssl), an
ntfy-style HTTP server, and a server that accepts a connection and never answers."""

from __future__ import annotations

import base64
import email
import email.policy
import shutil
import socket
import socketserver
import ssl
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest


@dataclass
class Mailbox:
    messages: list[email.message.EmailMessage] = field(default_factory=list)
    raw: list[bytes] = field(default_factory=list)  # every byte of every DATA, as received
    logins: list[str] = field(default_factory=list)
    tls: list[bool] = field(default_factory=list)  # per message: was STARTTLS on when it came
    port: int = 0
    cafile: Path | None = None


def make_cert(folder: Path) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


class _Smtp(socketserver.StreamRequestHandler):
    server: _SmtpServer

    def handle(self) -> None:
        box, tls = self.server.box, False
        self._say("220 test ESMTP")
        while True:
            line = self.rfile.readline()
            if not line:
                return
            verb = line.decode("ascii", "replace").strip()
            upper = verb.upper()
            if upper.startswith(("EHLO", "HELO")):
                extra = [] if tls else ["250-STARTTLS"]
                self.wfile.write("".join(f"{x}\r\n" for x in ["250-test", *extra, "250 AUTH PLAIN"]).encode())
            elif upper == "STARTTLS":
                self._say("220 go ahead")
                conn = self.server.context.wrap_socket(self.connection, server_side=True)
                self.connection, tls = conn, True
                self.rfile, self.wfile = conn.makefile("rb"), conn.makefile("wb", buffering=0)
            elif upper.startswith("AUTH PLAIN"):
                parts = base64.b64decode(verb.split()[2]).split(b"\0")
                box.logins.append(f"{parts[1].decode()}:{parts[2].decode()}")
                self._say("235 ok")
            elif upper.startswith(("MAIL", "RCPT", "RSET", "NOOP")):
                self._say("250 ok")
            elif upper == "DATA":
                self._say("354 go")
                data = b""
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    data += chunk
                box.raw.append(data)
                box.messages.append(email.message_from_bytes(data, policy=email.policy.default))  # type: ignore[arg-type]
                box.tls.append(tls)
                self._say("250 queued")
            elif upper == "QUIT":
                self._say("221 bye")
                return
            else:
                self._say("500 what")

    def _say(self, text: str) -> None:
        self.wfile.write(text.encode() + b"\r\n")


class _SmtpServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, box: Mailbox, context: ssl.SSLContext) -> None:
        super().__init__(("127.0.0.1", 0), _Smtp)
        self.box, self.context = box, context


@contextmanager
def smtp_server(folder: Path) -> Iterator[Mailbox]:
    cert, key = make_cert(folder)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    box = Mailbox(cafile=cert)
    server = _SmtpServer(box, context)
    box.port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield box
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Topic:
    posts: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)  # (path, headers, body)
    status: int = 200
    url: str = ""


@contextmanager
def ntfy_server() -> Iterator[Topic]:
    topic = Topic()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            topic.posts.append((self.path, dict(self.headers.items()), body))
            self.send_response(topic.status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    topic.url = f"http://127.0.0.1:{server.server_address[1]}/coordinators-7f3a"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield topic
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Hang:
    port: int = 0
    accepted: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    held: list[socket.socket] = field(default_factory=list)

    def drop(self) -> None:
        """Close every connection held so far (the client sees the server hang up)."""
        for conn in self.held:
            conn.close()


@contextmanager
def hanging_server() -> Iterator[Hang]:
    """Accepts connections and never says a word until released."""
    hang = Hang()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    hang.port = listener.getsockname()[1]

    def serve() -> None:
        while not hang.release.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            hang.held.append(conn)
            hang.accepted.set()

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield hang
    finally:
        hang.release.set()
        hang.drop()
        listener.close()
