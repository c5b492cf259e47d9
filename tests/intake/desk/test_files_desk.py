"""Evidence files on the desk (issue 16 item 6): listed on the case page, served from memory with
strict headers and audited, attached to CAP steps without metadata and without touching the disk.

Real SQLCipher stores of a throwaway node through the desk app; synthetic files made in code
(tests/intake/hostile_files.py).
"""

from __future__ import annotations

import html
import io
import json
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from intake.desk.files import REFUSED
from intake.evidence import clean
from intake.store import attachments
from intake.store.actions import Actions
from intake.store.casework import CaseWork
from tests.conftest import Node, make_node
from tests.intake import hostile_files as h
from tests.intake.desk import audit_rows, cases_store, csrf_of, login, verify
from tests.intake.desk.test_desk_app import Desk, check_headers, one_case, open_desk

PIXEL, EXIF = b"PX", b"EXIFMARKER"
WARNING = "This file is kept as the worker sent it and may contain the author's name or other details."
ORIGINAL_WARNING = "The original still carries the phone's metadata (location, camera): never share it."


@pytest.fixture
def unlocked(node: Node) -> Iterator[Desk]:
    for desk in open_desk(node):
        assert login(desk.client, desk.node).status_code == 303
        yield desk


def add_file(node: Node, case_id: int | None, data: bytes | None, type_: str, **fields: Any) -> int:
    """A file stored the way the drain stores a worker's (intake/store/attachments.py)."""
    with cases_store(node) as store, store.transaction() as conn:
        n = attachments.add(conn, case_id, data, type_, **fields)
    assert n is not None
    return n


def stored_files(node: Node) -> list[tuple[Any, ...]]:
    with cases_store(node) as store:
        rows = store._conn.execute("SELECT case_id, n, source, action_id, type, warning, data FROM attachments")
        return [tuple(r) for r in rows.fetchall()]


def file_audit(node: Node, action: str) -> list[dict[str, Any]]:
    return [json.loads(str(r[5])) for r in audit_rows(node) if r[3] == action]


def a_photo() -> bytes:
    return clean(h.jpeg((64, 48))).data


# -- the case page ----------------------------------------------------------------------------------


def test_the_case_page_lists_pictures_inline_and_other_files_as_downloads(node: Node, unlocked: Desk) -> None:
    case_id, _ = one_case(node)
    photo = add_file(node, case_id, a_photo(), "image/jpeg")
    pdf = add_file(node, case_id, h.pdf(), "application/pdf", warning="metadata")
    lost = add_file(node, case_id, None, "image/jpeg", missing="download_failed")
    kept = add_file(node, case_id, a_photo(), "image/jpeg", original=h.jpeg_with_exif_gps(PIXEL, EXIF))
    page = html.unescape(unlocked.case_page(case_id))
    assert f'<img src="/cases/{case_id}/files/{photo}" alt="File {photo}" width="64" height="48">' in page
    assert f'<a href="/cases/{case_id}/files/{pdf}" download>File {pdf}</a> <small>PDF · 1 KB</small>' in page
    assert page.count(WARNING) == 1, "only the PDF carries the metadata warning"
    assert f"File {lost} was sent but could not be fetched." in page
    assert f'src="/cases/{case_id}/files/{lost}"' not in page
    assert f'<a href="/cases/{case_id}/files/{kept}?original=1" download>Download the original</a>' in page
    assert page.count(ORIGINAL_WARNING) == 1
    assert not file_audit(node, "file_view"), "listing reads no content and audits no view"


def test_a_case_without_files_shows_no_files_section(node: Node, unlocked: Desk) -> None:
    case_id, _ = one_case(node)
    assert 'id="files"' not in unlocked.case_page(case_id)
    add_file(node, case_id, a_photo(), "image/jpeg")
    assert 'id="files"' in unlocked.case_page(case_id)


# -- serving a file ---------------------------------------------------------------------------------


def test_a_picture_is_served_inline_and_a_pdf_as_a_download_with_strict_headers(node: Node, unlocked: Desk) -> None:
    case_id, _ = one_case(node)
    photo_bytes, pdf_bytes = a_photo(), h.pdf()
    photo = add_file(node, case_id, photo_bytes, "image/jpeg")
    pdf = add_file(node, case_id, pdf_bytes, "application/pdf", warning="metadata")
    shown = unlocked.client.get(f"/cases/{case_id}/files/{photo}")
    assert shown.status_code == 200 and shown.content == photo_bytes
    assert shown.headers["content-type"] == "image/jpeg"
    assert shown.headers["content-disposition"] == f'inline; filename="case-{case_id}-file-{photo}.jpg"'
    got = unlocked.client.get(f"/cases/{case_id}/files/{pdf}")
    assert got.status_code == 200 and got.content == pdf_bytes
    assert got.headers["content-type"] == "application/pdf"
    assert got.headers["content-disposition"] == f'attachment; filename="case-{case_id}-file-{pdf}.pdf"'
    for response in (shown, got):
        check_headers(response)  # nosniff, no-store, the desk's CSP, no CORS
        csp = response.headers["content-security-policy"]
        assert "img-src 'self';" in csp and csp.count("'self'") == 4, "img-src allows the desk itself, nothing more"
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    ("type_", "data"),
    [
        ("text/html", b"<html><script>alert(document.cookie)</script></html>"),
        ("image/svg+xml", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'),
        ("application/javascript", b"alert(1)"),
        ("image/gif", b"GIF89a<script>alert(1)</script>"),
    ],
)
def test_a_file_of_any_other_type_is_never_rendered(node: Node, unlocked: Desk, type_: str, data: bytes) -> None:
    """Defence in depth: someone who could write to the store directly still gets no page rendered."""
    case_id, _ = one_case(node)
    n = add_file(node, case_id, data, type_)
    response = unlocked.client.get(f"/cases/{case_id}/files/{n}")
    assert response.status_code == 200 and response.content == data
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["content-disposition"] == f'attachment; filename="case-{case_id}-file-{n}.bin"'
    assert response.headers["x-content-type-options"] == "nosniff"
    check_headers(response)
    page = unlocked.case_page(case_id)
    assert "<img" not in page and f'href="/cases/{case_id}/files/{n}" download' in page


def test_a_kept_original_is_a_download_only(node: Node, unlocked: Desk) -> None:
    case_id, _ = one_case(node)
    original = h.jpeg_with_exif_gps(PIXEL, EXIF)
    n = add_file(node, case_id, a_photo(), "image/jpeg", original=original)
    response = unlocked.client.get(f"/cases/{case_id}/files/{n}?original=1")
    assert response.status_code == 200 and response.content == original
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["content-disposition"] == f'attachment; filename="case-{case_id}-file-{n}-original.jpg"'
    check_headers(response)
    # No original kept: nothing to download.
    plain = add_file(node, case_id, a_photo(), "image/jpeg")
    assert unlocked.client.get(f"/cases/{case_id}/files/{plain}?original=1").status_code == 404


def test_every_view_is_audited_without_content(node: Node, unlocked: Desk) -> None:
    case_id, _ = one_case(node)
    n = add_file(node, case_id, a_photo(), "image/jpeg", original=h.jpeg())
    for _ in range(2):
        assert unlocked.client.get(f"/cases/{case_id}/files/{n}").status_code == 200
    assert unlocked.client.get(f"/cases/{case_id}/files/{n}?original=1").status_code == 200
    views = [r for r in audit_rows(node) if r[3] == "file_view"]
    assert [(r[2], r[4], json.loads(str(r[5]))) for r in views] == [
        (node.user, case_id, {"n": n, "original": False}),
        (node.user, case_id, {"n": n, "original": False}),
        (node.user, case_id, {"n": n, "original": True}),
    ]
    assert verify(node).ok


@pytest.mark.parametrize("path", ["/cases/4242/files/1", "/cases/{c}/files/9", "/cases/{c}/files/{lost}",
                                  "/cases/{c}/files/abc", "/cases/{c}/files/-1", "/cases/{c}/files/99999999999999999999",
                                  "/cases/abc/files/1", "/cases/{c}/files/1?original=1"])  # fmt: skip
def test_an_unknown_case_or_file_is_the_404_page(node: Node, unlocked: Desk, path: str) -> None:
    case_id, _ = one_case(node)
    add_file(node, case_id, a_photo(), "image/jpeg")
    lost = add_file(node, case_id, None, "image/jpeg", missing="download_failed")
    before = len(audit_rows(node))
    response = unlocked.client.get(path.format(c=case_id, lost=lost))
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html") and "There is no such case." in response.text
    check_headers(response)
    assert len(audit_rows(node)) == before, "nothing was viewed"


def test_a_locked_or_missing_session_goes_to_the_login(node: Node, unlocked: Desk) -> None:
    case_id, _ = one_case(node)
    n = add_file(node, case_id, a_photo(), "image/jpeg")
    stranger = TestClient(unlocked.app, base_url="http://127.0.0.1:8001")
    refused = stranger.get(f"/cases/{case_id}/files/{n}", follow_redirects=False)
    assert refused.status_code == 303 and refused.headers["location"] == "/login" and not refused.content
    assert unlocked.post("/lock", {}).status_code == 303
    locked = unlocked.client.get(f"/cases/{case_id}/files/{n}", follow_redirects=False)
    assert locked.status_code == 303 and locked.headers["location"] == "/login"
    assert b"\xff\xd8" not in locked.content
    assert not file_audit(node, "file_view")


# -- attaching a file to a CAP step -----------------------------------------------------------------


def a_step(node: Node, case_id: int) -> int:
    with cases_store(node) as store:
        return Actions(CaseWork(store, node.keys)).add(case_id, "Show the repaired fire exit", "employer", "2099-01-31")


def attach(desk: Desk, case_id: int, step: int, data: bytes, *, csrf: str | None = None) -> httpx.Response:
    token = csrf if csrf is not None else csrf_of(desk.case_page(case_id))
    response: httpx.Response = desk.client.post(
        f"/cases/{case_id}/actions/{step}/files",
        data={"csrf": token},
        files={"file": ("IMG_0042 Nguyen Thi Lan.jpg", data, "image/jpeg")},
        follow_redirects=False,
    )
    return response


def test_a_photo_attached_to_a_step_is_stored_without_its_metadata(node: Node, unlocked: Desk) -> None:
    case_id, _ = one_case(node)
    step = a_step(node, case_id)
    photo = h.jpeg_with_exif_gps(PIXEL, EXIF)
    assert Image.open(io.BytesIO(photo)).getexif().get_ifd(h.GPS_IFD), "the photo really carries GPS"
    response = attach(unlocked, case_id, step, photo)
    assert response.status_code == 303 and response.headers["location"] == f"/cases/{case_id}#action-{step}"
    [(case, n, source, action, type_, warning, data)] = stored_files(node)
    assert (case, n, source, action, type_, warning) == (case_id, 1, "caseworker", step, "image/jpeg", "")
    image = Image.open(io.BytesIO(data))
    assert not image.getexif() and not image.getexif().get_ifd(h.GPS_IFD)
    assert EXIF not in data and b"Nguyen" not in data and h.read_pixel_marker(data, len(PIXEL)) == PIXEL
    assert file_audit(node, "file_attach") == [{"n": 1, "action_id": step, "ext": "jpg"}]
    assert verify(node).ok
    # The step shows its file, inline; the case's own list of worker files stays empty.
    page = html.unescape(unlocked.case_page(case_id))
    row = page[page.index(f'<td id="action-{step}">') :]
    row = row[: row.index("</td>")]
    assert f'<img src="/cases/{case_id}/files/1"' in row and "added by a caseworker" in row
    assert 'id="files"' not in page
    assert unlocked.client.get(f"/cases/{case_id}/files/1").content == data


def test_a_pdf_attached_to_a_step_keeps_the_metadata_warning(node: Node, unlocked: Desk) -> None:
    case_id, _ = one_case(node)
    step = a_step(node, case_id)
    assert attach(unlocked, case_id, step, h.pdf()).status_code == 303
    assert [(r[4], r[5]) for r in stored_files(node)] == [("application/pdf", "metadata")]
    assert WARNING in html.unescape(unlocked.case_page(case_id))


HOSTILE = ["svg", "html", "zip", "elf", "docm", "truncated_jpeg", "png_bomb", "heic", "plain_text", "empty"]


@pytest.mark.parametrize("name", HOSTILE)
def test_a_hostile_file_is_refused_with_a_clear_message_and_nothing_stored(
    node: Node, unlocked: Desk, name: str
) -> None:
    case_id, _ = one_case(node)
    step = a_step(node, case_id)
    make, reason = h.HOSTILE[name]
    response = attach(unlocked, case_id, step, make())
    assert response.status_code == 400
    assert html.escape(REFUSED[reason], quote=False) in response.text
    assert f'href="/cases/{case_id}#plan"' in response.text
    assert stored_files(node) == [] and not file_audit(node, "file_attach")


def test_a_step_of_another_case_or_no_case_stores_nothing(node: Node, unlocked: Desk) -> None:
    case_id, _ = one_case(node)
    other, _ = one_case(node, "Another report: the canteen closed and food money is deducted.")
    step = a_step(node, other)
    response = attach(unlocked, case_id, step, a_photo())
    assert response.status_code == 400 and "There is no such action on this case." in response.text
    token = csrf_of(unlocked.case_page(case_id))
    assert attach(unlocked, 4242, step, a_photo(), csrf=token).status_code == 404
    assert stored_files(node) == [] and not file_audit(node, "file_attach")


@pytest.mark.parametrize("token", [None, "", "wrong", "other"])
def test_a_missing_or_wrong_token_is_refused_before_the_file_is_read(
    node: Node, unlocked: Desk, token: str | None
) -> None:
    case_id, _ = one_case(node)
    step = a_step(node, case_id)
    if token == "other":  # another caseworker's valid token, not this session's
        other = TestClient(unlocked.app, base_url="http://127.0.0.1:8001")
        assert login(other, node).status_code == 303
        token = csrf_of(other.get("/cases").text)
    files = {"file": ("a.jpg", a_photo(), "image/jpeg")}
    data = {} if token is None else {"csrf": token}
    response = unlocked.client.post(f"/cases/{case_id}/actions/{step}/files", data=data, files=files)
    assert response.status_code == 403 and "That did not work." in response.text
    assert stored_files(node) == []


def multipart(*parts: tuple[str, bytes, bool], boundary: str = "b0undary") -> tuple[bytes, dict[str, str]]:
    """A multipart body by hand: (name, content, is_file) parts in the order given."""
    body = b""
    for name, content, is_file in parts:
        filename = '; filename="scan.jpg"' if is_file else ""
        body += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"{filename}\r\n\r\n'.encode()
        body += content + b"\r\n"
    body += f"--{boundary}--\r\n".encode()
    return body, {"content-type": f"multipart/form-data; boundary={boundary}"}


def post_raw(desk: Desk, case_id: int, step: int, body: bytes, headers: dict[str, str]) -> httpx.Response:
    response: httpx.Response = desk.client.post(
        f"/cases/{case_id}/actions/{step}/files", content=body, headers=headers, follow_redirects=False
    )
    return response


def test_a_file_before_the_token_a_cut_body_or_no_form_is_refused(node: Node, unlocked: Desk) -> None:
    case_id, _ = one_case(node)
    step = a_step(node, case_id)
    token = csrf_of(unlocked.case_page(case_id)).encode()
    photo = a_photo()
    body, headers = multipart(("file", photo, True), ("csrf", token, False))
    assert post_raw(unlocked, case_id, step, body, headers).status_code == 403, "the token comes first"
    body, headers = multipart(("csrf", token, False), ("file", photo, True))
    cut = post_raw(unlocked, case_id, step, body[: len(body) // 2], headers)
    assert cut.status_code == 400 and html.escape(REFUSED["malformed"], quote=False) in cut.text
    two, headers = multipart(("csrf", token, False), ("file", photo, True), ("file", photo, True))
    many = post_raw(unlocked, case_id, step, two, headers)
    assert many.status_code == 400 and REFUSED["too_many"] in many.text
    fields, headers = multipart(("csrf", token, False), *((f"f{i}", b"x", False) for i in range(20)))
    assert post_raw(unlocked, case_id, step, fields, headers).status_code == 400
    huge_field, headers = multipart(("csrf", token, False), ("note", b"x" * 10_000, False))
    assert post_raw(unlocked, case_id, step, huge_field, headers).status_code == 413
    for kind in ("application/x-www-form-urlencoded", "multipart/form-data", "text/plain"):
        response = post_raw(unlocked, case_id, step, b"csrf=" + token, {"content-type": kind})
        assert response.status_code == 400
    assert stored_files(node) == []
    # The same form, whole and in order, is taken.
    body, headers = multipart(("csrf", token, False), ("file", photo, True))
    assert post_raw(unlocked, case_id, step, body, headers).status_code == 303
    assert len(stored_files(node)) == 1


@pytest.fixture
def small_node(tmp_path: Path) -> Node:
    return make_node(tmp_path / "small", max_file_bytes=4096)


def test_a_file_over_the_limit_is_refused_with_413_and_nothing_stored(small_node: Node) -> None:
    for desk in open_desk(small_node):
        assert login(desk.client, small_node).status_code == 303
        case_id, _ = one_case(small_node)
        step = a_step(small_node, case_id)
        big = h.pdf(b"A" * 8000)
        response = attach(desk, case_id, step, big)
        assert response.status_code == 413 and "The file is larger than this node accepts (4 KB)." in response.text
        # Sent without a length (chunked), the stream is cut off at the limit all the same.
        token = csrf_of(desk.case_page(case_id)).encode()
        body, headers = multipart(("csrf", token, False), ("file", big, True))
        chunked = desk.client.post(
            f"/cases/{case_id}/actions/{step}/files", content=iter([body[:5000], body[5000:]]), headers=headers
        )
        assert chunked.status_code == 413
        assert stored_files(small_node) == []
        assert attach(desk, case_id, step, clean(h.jpeg((8, 8))).data).status_code == 303


class _TempSpy:
    """Records every file the process opens in the temporary directory (named or O_TMPFILE)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.opened: list[str] = []
        real, tmp = os.open, os.path.realpath(tempfile.gettempdir())

        def spy(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
            if os.path.realpath(os.fsdecode(path)).startswith(tmp):
                self.opened.append(os.fsdecode(path))
            return real(path, flags, *args, **kwargs)

        monkeypatch.setattr(os, "open", spy)


def _listing() -> set[str]:
    return set(os.listdir(tempfile.gettempdir()))


def test_an_upload_never_touches_the_temporary_directory(
    node: Node, unlocked: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    case_id, _ = one_case(node)
    step = a_step(node, case_id)
    noise = Image.frombytes("RGB", (800, 800), os.urandom(800 * 800 * 3))
    out = io.BytesIO()
    noise.save(out, "PNG")
    big = out.getvalue()
    assert len(big) > 1024 * 1024, "over Starlette's 1 MB spool threshold"
    token = csrf_of(unlocked.case_page(case_id))
    body, headers = multipart(("csrf", token.encode(), False), ("file", big, True))

    # The spy can see a spooled upload: Starlette's own form reader writes this body to /tmp.
    async def spooling(request: Request) -> Response:
        form = await request.form()
        return Response(str(len(form)))

    control = _TempSpy(monkeypatch)
    with TestClient(Starlette(routes=[Route("/", spooling, methods=["POST"])])) as client:
        assert client.post("/", content=body, headers=headers).status_code == 200
    assert control.opened, "request.form() spooled the file"
    monkeypatch.undo()

    before = _listing()
    spy = _TempSpy(monkeypatch)
    response = post_raw(unlocked, case_id, step, body, headers)
    monkeypatch.undo()
    assert response.status_code == 303
    assert spy.opened == [], "the desk opened a file in the temporary directory during the upload"
    assert not {n for n in _listing() - before if re.match(r"^tmp", n)}, "no temporary file left behind"
    [(*_, data)] = stored_files(node)
    assert Image.open(io.BytesIO(data)).size == (800, 800)


def test_no_byte_of_an_upload_reaches_the_log(node: Node, unlocked: Desk, caplog: pytest.LogCaptureFixture) -> None:
    case_id, _ = one_case(node)
    step = a_step(node, case_id)
    caplog.set_level("DEBUG")
    assert attach(unlocked, case_id, step, h.jpeg_with_exif_gps(PIXEL, EXIF)).status_code == 303
    token = csrf_of(unlocked.case_page(case_id)).encode()
    body, headers = multipart(("csrf", token, False), ("file", b"Nguyen" + EXIF, True))
    assert post_raw(unlocked, case_id, step, body.replace(b"--b0undary--", b"--b0undXry"), headers).status_code == 400
    logged = caplog.text + "".join(str(r.args) for r in caplog.records)
    assert EXIF.decode() not in logged and "Nguyen" not in logged and "IMG_0042" not in logged
