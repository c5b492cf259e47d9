"""Uploads over a real socket to uvicorn on 127.0.0.1 (issue 16): a file over the cap is refused
while it arrives (the server answers long before the body would end), a body cut off mid-stream
stores nothing and leaves the server serving, and no byte of a photo's metadata, nor its file name,
reaches the node's disk or a log line.
"""

from __future__ import annotations

import dataclasses
import logging
import select
import socket
import threading
from collections.abc import Iterator

import httpx
import pytest

from channels.server import create_intake_app
from intake.services import IntakeService
from tests.channels.web import cases_of, stored
from tests.channels.web.test_privacy import all_log_text, raw_files
from tests.channels.web.test_uploads import BOUNDARY, DESC, opened, part
from tests.conftest import Node, drain_node
from tests.intake.hostile_files import jpeg_with_exif_gps

CAP = 64 * 1024  # max_file_bytes here, so a few MB sent is far past it
EXIF_MARKER = b"ZQXEXIFMARKERJV"
FILENAME = "Ottoline-Varga-payslip-March.jpg"


@pytest.fixture
def live(node: Node, service: IntakeService) -> Iterator[int]:
    """The intake app under uvicorn on a loopback port, files capped at CAP bytes."""
    from intake.demo.servers import start_server

    settings = dataclasses.replace(node.settings, max_file_bytes=CAP)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    server, thread = start_server(create_intake_app(settings, service), sock)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def head(port: int, path: str, extra: str) -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n{extra}\r\n"
    ).encode()


def chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


def read_answer(s: socket.socket) -> bytes:
    answer = b""
    while b"\r\n\r\n" not in answer or len(answer) < answer.index(b"\r\n\r\n") + 4 + _length(answer):
        got = s.recv(65536)
        if not got:
            break
        answer += got
    return answer


def _length(answer: bytes) -> int:
    for line in answer.split(b"\r\n\r\n")[0].split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return int(line.split(b":")[1])
    return 0


def test_a_file_over_the_cap_is_refused_while_it_arrives(live: int, service: IntakeService) -> None:
    """Up to 256 MB are offered in 16 KiB pieces (chunked: no size declared up front); the answer
    must come after a small part of it, so the server stopped reading at the cap."""
    prefix = part("description", DESC.encode()) + (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="attachments"; filename="big.jpg"\r\n\r\n'.encode()
    )
    piece = chunk(b"\xff\xd8\xff" + b"\x00" * (16 * 1024 - 3))
    total = 256 * 1024 * 1024
    sent = 0
    with socket.create_connection(("127.0.0.1", live), timeout=20) as s:
        s.sendall(head(live, "/api/v1/reports", "Transfer-Encoding: chunked\r\n") + chunk(prefix))
        while sent < total:
            if select.select([s], [], [], 0)[0]:  # the server answered: stop sending
                break
            try:
                s.sendall(piece)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(piece)
        answer = read_answer(s)
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
    assert b"File 1 is larger than" in answer
    assert sent < 32 * 1024 * 1024, f"{sent} bytes went in before the answer: the server read on"
    assert stored(service) == (0, 0)
    assert httpx.get(f"http://127.0.0.1:{live}/healthz", timeout=5).status_code == 200


def test_a_body_declared_over_the_upload_cap_is_refused_before_it_is_sent(live: int, service: IntakeService) -> None:
    with socket.create_connection(("127.0.0.1", live), timeout=20) as s:
        s.sendall(head(live, "/report", "Content-Length: 10000000000\r\n"))
        answer = read_answer(s)
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
    assert stored(service) == (0, 0)


@pytest.mark.parametrize("path", ["/report", "/api/v1/reports", "/status/add"])
def test_an_upload_cut_off_mid_stream_stores_nothing(
    live: int, service: IntakeService, caplog: pytest.LogCaptureFixture, path: str
) -> None:
    """A phone losing signal halfway through its second photo: no report, no error, still serving."""
    from tests.channels.web.test_edges import wait_for

    caplog.set_level(logging.INFO, logger="intake")
    with httpx.Client(base_url=f"http://127.0.0.1:{live}") as web:  # a real token and cookie
        page = web.get("/report").text
        token = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        cookie = f"Cookie: csrf={web.cookies['csrf']}\r\n"
    photo = jpeg_with_exif_gps(b"CUT", EXIF_MARKER)
    fields = part("csrf", token.encode()) + part("receipt", b"2468-1357-9753-1864") + part("text", DESC.encode())
    body = fields + part("description", DESC.encode()) if path == "/report" else fields
    body = part("description", DESC.encode()) if path == "/api/v1/reports" else body
    body += part("attachments", photo, "one.jpg") + part("attachments", photo, "two.jpg")[: len(photo) // 2]
    with socket.create_connection(("127.0.0.1", live), timeout=5) as s:
        s.sendall(head(live, path, f"Content-Length: {len(body) * 2}\r\n{cookie}") + body)
        threading.Event().wait(0.3)  # the handler has cleaned the first photo and waits for the rest
    wait_for(caplog, f"POST {path} ")
    lines = [r.getMessage() for r in caplog.records]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], lines
    assert not [line for line in lines if "status=500" in line], lines
    assert stored(service) == (0, 0)
    assert service.inbox._conn.execute("SELECT count(*) FROM attachments").fetchone()[0] == 0
    assert httpx.get(f"http://127.0.0.1:{live}/healthz", timeout=5).status_code == 200


def test_no_metadata_and_no_file_name_reach_the_disk_or_a_log(
    live: int,
    node: Node,
    service: IntakeService,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    """A photo with GPS and a marker in every metadata block, sent on the form, the API and a
    follow-up under a file name that names the worker: the marker and the name are nowhere on the
    node's disk (the intake's stores and the desk's after the drain) and in no log line."""
    for name in ("", "intake", "channels", "uvicorn", "uvicorn.error", "uvicorn.access", "python_multipart"):
        caplog.set_level(logging.DEBUG, logger=name or None)
    photo = jpeg_with_exif_gps(b"PIXELS", EXIF_MARKER)
    assert EXIF_MARKER in photo
    base = f"http://127.0.0.1:{live}"
    files = [("attachments", (FILENAME, photo, "image/jpeg"))]
    with httpx.Client(base_url=base, timeout=30) as web:
        page = web.get("/report").text
        token = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        sent = web.post("/report", data={"csrf": token, "description": DESC}, files=files)
        assert sent.status_code == 200 and "1 file was received" in sent.text
        api = web.post("/api/v1/reports", data={"description": DESC}, files=files)
        assert api.status_code == 201, api.text
        more = web.post("/api/v1/followups", data={"receipt": api.json()["receipt"], "text": DESC}, files=files)
        assert more.status_code == 202, more.text
    assert len([f for _doc, fs in opened(node, service) for f in fs.values()]) == 3
    on_intake = raw_files(node.home)
    result, cases = drain_node(node)
    assert result.unreadable == 0
    with cases_of(node) as store:  # the desk holds the three cleaned copies, without their metadata
        found = [store.attachment(c.id, a.n) for c in cases for a in store.attachments(c.id)]
    kept = [f[1] for f in found if f is not None]
    assert len(kept) == 3 and all(EXIF_MARKER not in data and data.startswith(b"\xff\xd8") for data in kept)
    at_rest = raw_files(node.home)
    logs = all_log_text(caplog, capfd.readouterr())
    assert "POST /report" in logs, "no log line was captured: the log check checked nothing"
    assert "inbox.db" in on_intake and {"inbox.db", "cases.db"} <= set(at_rest)
    for files_now in (on_intake, at_rest):
        for where, data in files_now.items():
            assert EXIF_MARKER not in data, f"the photo's metadata is readable in {where}"
            assert FILENAME.encode() not in data and b"Ottoline" not in data, f"the file name is in {where}"
    assert FILENAME not in logs and "Ottoline" not in logs and EXIF_MARKER.decode() not in logs
