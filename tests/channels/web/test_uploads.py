"""Files on the web form and the JSON API (issue 16): read as they arrive, cleaned, sealed with their
report, every refusal clear and nothing half-stored. Real app, real SQLCipher inbox, synthetic files.

Streaming over a real socket (a body over the cap, a body cut off) is in test_uploads_live.py.
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from channels.web.errors import FIELD_MESSAGES
from crypto.sealed import open_item
from crypto.stream import open_stream_bytes
from intake.evidence import clean
from intake.services import IntakeService, file_label
from tests.channels.web import client_for, gettext, html_page, json_error, stored
from tests.conftest import Node, csrf_token, receipt_in
from tests.intake.hostile_files import HOSTILE, jpeg, jpeg_with_exif_gps, pdf

DESC = "Synthetic: the pay slip shows 26 days but we worked 30."
Files = list[tuple[str, tuple[str, bytes, str]]]


def photos(*data: bytes) -> Files:
    return [("attachments", (f"IMG_{i:04d}.jpg", d, "image/jpeg")) for i, d in enumerate(data, start=1)]


def post_report_form(client: TestClient, files: Files, **fields: Any) -> httpx.Response:
    """The report form as a browser sends it: multipart, the token first, the files last."""
    data = {"csrf": csrf_token(client), "lang": "en", "description": DESC, **fields}
    response: httpx.Response = client.post("/report", data=data, files=files)
    return response


def opened(node: Node, service: IntakeService) -> list[tuple[dict[str, Any], dict[int, bytes]]]:
    """Every stored item opened with the node key, as the desk's drain would: (doc, {n: file})."""
    identity = node.keys.identity
    out = []
    for _seq, item_id, blob in service.inbox.items():
        doc = json.loads(open_item(blob, identity))
        files = {
            n: open_stream_bytes(chunks, identity, label=file_label(item_id, n))
            for n, chunks in service.inbox.files(item_id).items()
        }
        out.append((doc, files))
    return out


def file_rows(service: IntakeService) -> int:
    return int(service.inbox._conn.execute("SELECT count(*) FROM attachments").fetchone()[0])


def field_error(html: str) -> list[str]:
    return re.findall(r'class="field-error">([^<]*)<', html)


# -- the report form ------------------------------------------------------------------------------


def test_a_report_with_two_photos_stores_one_item_and_two_sealed_files(
    client: TestClient, node: Node, service: IntakeService
) -> None:
    first, second = jpeg_with_exif_gps(b"PAYSLIP", b"EXIFMARK-1"), jpeg((80, 60), (200, 10, 10))
    page = html_page(post_report_form(client, photos(first, second)), 200)
    receipt_in(page)
    assert "2 files were received with your report." in page
    [(doc, files)] = opened(node, service)
    assert doc["report"]["description"] == DESC
    assert [a["n"] for a in doc["attachments"]] == [1, 2]
    assert {a["type"] for a in doc["attachments"]} == {"image/jpeg"}
    assert files == {1: clean(first).data, 2: clean(second).data}  # the cleaned copies, nothing else
    assert b"EXIFMARK" not in files[1]


def test_a_report_without_a_file_chosen_is_a_report_without_files(
    client: TestClient, node: Node, service: IntakeService
) -> None:
    """A browser sends an empty part with filename="" when no file was chosen: no file, no count."""
    page = html_page(post_report_form(client, [("attachments", ("", b"", "application/octet-stream"))]), 200)
    receipt_in(page)
    assert 'id="files-received"' not in page
    [(doc, files)] = opened(node, service)
    assert "attachments" not in doc and files == {}


def test_the_form_takes_files_without_javascript(client: TestClient) -> None:
    page = client.get("/report").text
    assert 'enctype="multipart/form-data"' in page
    assert re.search(
        r'<input id="attachments" name="attachments" type="file" multiple accept="image/\*,application/pdf"', page
    )
    assert "Up to 5 files of 10 MB." in page
    assert page.index('name="attachments"') > page.index('name="description"'), "files must come after the words"
    assert "<script" not in page


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_every_hostile_file_is_refused_clearly_and_nothing_is_stored(
    client: TestClient, service: IntakeService, name: str
) -> None:
    make, reason = HOSTILE[name]
    before = stored(service)
    response = post_report_form(client, [*photos(jpeg()), ("attachments", ("file.bin", make(), "image/jpeg"))])
    expected = {"unsupported": 415, "archive": 415, "script": 415, "too_big_image": 413}.get(reason, 422)
    page = html_page(response, expected)
    assert DESC in page, "the worker's words must come back"
    errors = field_error(page)
    assert errors[0] == gettext("en", FIELD_MESSAGES[f"file_{reason}"]).format(number=2)  # says which file
    assert "Please choose your files again." in page
    assert stored(service) == before and file_rows(service) == 0


def test_six_files_are_refused_and_nothing_is_stored(client: TestClient, service: IntakeService) -> None:
    response = post_report_form(client, photos(*[jpeg()] * 6))
    page = html_page(response, 413)
    assert "Please attach at most 5 files." in field_error(page)
    assert DESC in page
    assert stored(service) == (0, 0) and file_rows(service) == 0


def test_a_file_over_max_file_bytes_is_refused_and_nothing_is_stored(node: Node, service: IntakeService) -> None:
    with client_for(node, service, max_file_bytes=4096) as small:
        response = post_report_form(small, photos(jpeg(), b"\xff\xd8\xff" + b"\x00" * 5000))
    page = html_page(response, 413)
    assert "File 2 is larger than 1 MB. Please send a smaller copy or a photo of it." in field_error(page)
    assert stored(service) == (0, 0) and file_rows(service) == 0


def test_uploads_off_shows_no_file_input_and_refuses_files(node: Node, service: IntakeService) -> None:
    with client_for(node, service, max_files=0) as off:
        assert 'type="file"' not in off.get("/report").text
        response = post_report_form(off, photos(jpeg()))
    html_page(response, 413)
    assert stored(service) == (0, 0)


def test_an_expired_form_with_files_keeps_the_words_and_cleans_nothing(
    client: TestClient, service: IntakeService
) -> None:
    csrf_token(client)
    response = client.post("/report", data={"csrf": "1.x.y", "description": DESC}, files=photos(jpeg()))
    page = html_page(response, 403)
    assert DESC in page and "Please choose your files again." in page
    assert stored(service) == (0, 0)


def test_the_honeypot_still_works_with_files(client: TestClient, service: IntakeService) -> None:
    response = post_report_form(client, photos(jpeg()), website="http://spam.example")
    html_page(response, 400)
    assert stored(service) == (0, 0)


def test_a_resend_with_other_files_is_not_taken_for_the_same_submission(
    client: TestClient, service: IntakeService
) -> None:
    token = csrf_token(client)
    data = {"csrf": token, "description": DESC}
    first = receipt_in(html_page(client.post("/report", data=data, files=photos(jpeg())), 200))
    again = receipt_in(html_page(client.post("/report", data=data, files=photos(jpeg())), 200))
    assert again == first and stored(service)[0] == 1  # a double tap: the same receipt, stored once
    other = client.post("/report", data=data, files=photos(jpeg((64, 48), (1, 2, 3))))
    html_page(other, 422)  # the same form with another file: refused, not taken for a repeat
    assert stored(service)[0] == 1


def test_a_rate_limited_upload_keeps_the_words(node: Node, service: IntakeService) -> None:
    with client_for(node, service, rate_limit_per_minute=1) as limited:
        token = csrf_token(limited)  # the GET does not count; the first POST does
        data = {"csrf": token, "description": DESC}
        html_page(limited.post("/report", data=data, files=photos(jpeg())), 200)
        page = html_page(limited.post("/report", data=data, files=photos(jpeg())), 429)
    assert DESC in page
    assert stored(service)[0] == 1


# -- follow-ups ------------------------------------------------------------------------------------


def test_a_follow_up_with_a_file(client: TestClient, node: Node, service: IntakeService) -> None:
    receipt = receipt_in(html_page(post_report_form(client, []), 200))
    data = {"csrf": csrf_token(client, "/status"), "lang": "en", "receipt": receipt, "text": "Synthetic: my pay slip."}
    page = html_page(client.post("/status/add", data=data, files=[("attachments", ("s.pdf", pdf(), "x"))]), 200)
    assert "1 file was received with your report." in page
    [_report, (doc, files)] = opened(node, service)
    assert doc["kind"] == "followup"
    assert doc["attachments"][0]["type"] == "application/pdf" and doc["attachments"][0]["warning"] == "metadata"
    assert files == {1: pdf()}


def test_a_refused_file_on_a_follow_up_keeps_the_text(client: TestClient, service: IntakeService) -> None:
    receipt = receipt_in(html_page(post_report_form(client, []), 200))
    text = "Synthetic: they took our passports again."
    data = {"csrf": csrf_token(client, "/status"), "receipt": receipt, "text": text}
    page = html_page(client.post("/status/add", data=data, files=photos(HOSTILE["svg"][0]())), 415)
    assert text in page and "Please choose your files again." in page
    assert 'enctype="multipart/form-data"' in page  # the form comes back, ready to send again
    assert stored(service)[0] == 1 and file_rows(service) == 0


# -- the JSON API ----------------------------------------------------------------------------------


def test_the_api_takes_a_multipart_report_with_files(client: TestClient, node: Node, service: IntakeService) -> None:
    fields = {"description": DESC, "consent": "1", "categories": ["wages", "working_hours"], "contact_ok": "false"}
    response = client.post("/api/v1/reports", data=fields, files=photos(jpeg(), jpeg((30, 30))))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["attachments"] == 2 and set(body) == {"receipt", "locale", "status_url", "attachments"}
    [(doc, files)] = opened(node, service)
    assert doc["report"]["categories"] == ["wages", "working_hours"] and doc["report"]["consent"] == 1
    assert sorted(files) == [1, 2]


def test_the_api_answers_json_bodies_as_before(client: TestClient) -> None:
    response = client.post("/api/v1/reports", json={"description": DESC})
    assert set(response.json()) == {"receipt", "locale", "status_url"}


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"consent": "true"}, "consent"),  # consent is never guessed, in a form field either
        ({"consent": "2.0"}, "consent"),
        ({"contact_ok": "maybe"}, "contact_ok"),
        ({"unknown": "x"}, "unknown"),
    ],
)
def test_the_api_refuses_form_fields_it_would_refuse_as_json(
    client: TestClient, service: IntakeService, fields: dict[str, str], field: str
) -> None:
    response = client.post("/api/v1/reports", data={"description": DESC, **fields}, files=photos(jpeg()))
    assert field in json_error(response, 400, "invalid_input")["fields"]
    assert stored(service) == (0, 0)


def test_the_api_refuses_a_hostile_file_with_its_reason(client: TestClient, service: IntakeService) -> None:
    response = client.post("/api/v1/reports", data={"description": DESC}, files=photos(HOSTILE["zip"][0]()))
    error = json_error(response, 415, "invalid_input")
    assert error["fields"] == {"attachments": gettext("en", FIELD_MESSAGES["file_archive"]).format(number=1)}
    too_many = client.post("/api/v1/reports", data={"description": DESC}, files=photos(*[jpeg()] * 6))
    assert json_error(too_many, 413, "too_large")["fields"] == {"attachments": "Please attach at most 5 files."}
    assert stored(service) == (0, 0)


def test_the_api_takes_a_multipart_follow_up(client: TestClient, node: Node, service: IntakeService) -> None:
    receipt = client.post("/api/v1/reports", json={"description": DESC}).json()["receipt"]
    response = client.post("/api/v1/followups", data={"receipt": receipt, "text": "Synthetic."}, files=photos(jpeg()))
    assert (response.status_code, response.json()) == (202, {"accepted": True, "attachments": 1})
    assert len(opened(node, service)[1][1]) == 1


def test_an_idempotency_key_with_other_files_is_a_conflict(client: TestClient, service: IntakeService) -> None:
    key = {"idempotency-key": "synthetic-key-0123456789"}
    first = client.post("/api/v1/reports", data={"description": DESC}, files=photos(jpeg()), headers=key)
    again = client.post("/api/v1/reports", data={"description": DESC}, files=photos(jpeg()), headers=key)
    assert first.json() == again.json()
    other = client.post("/api/v1/reports", data={"description": DESC}, files=photos(jpeg((9, 9))), headers=key)
    json_error(other, 422, "idempotency_key_reused")
    assert stored(service)[0] == 1


# -- malformed bodies and the body cap -------------------------------------------------------------

BOUNDARY = "synthetic-boundary-7MA4YWxkTrZu0gW"


def part(name: str, value: bytes, filename: str | None = None) -> bytes:
    disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename is not None else "")
    return f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + value + b"\r\n"


MULTIPART = {"content-type": f"multipart/form-data; boundary={BOUNDARY}"}


@pytest.mark.parametrize(
    "body",
    [
        part("description", DESC.encode()) + part("attachments", jpeg()[:200], "a.jpg"),  # no closing boundary
        b"not multipart at all",
        part("description", DESC.encode()).replace(b"Content-Disposition", b"Bad Header"),
        part("other", jpeg(), "a.jpg") + f"--{BOUNDARY}--\r\n".encode(),  # a file under another name
    ],
    ids=["cut", "garbage", "bad-header", "file-elsewhere"],
)
def test_an_unreadable_multipart_body_is_a_clear_400(client: TestClient, service: IntakeService, body: bytes) -> None:
    response = client.post("/api/v1/reports", content=body, headers=MULTIPART)
    json_error(response, 400, "malformed")
    assert stored(service) == (0, 0)


def test_no_boundary_is_a_clear_400(client: TestClient) -> None:
    response = client.post("/api/v1/reports", content=b"x", headers={"content-type": "multipart/form-data"})
    json_error(response, 400, "malformed")


def test_only_upload_routes_take_the_larger_body(node: Node, service: IntakeService) -> None:
    big = part("receipt", b"1" * 70_000) + f"--{BOUNDARY}--\r\n".encode()  # over max_request_bytes (64 KiB)
    with client_for(node, service) as c:
        json_error(c.post("/api/v1/status", content=big, headers=MULTIPART), 413, "too_large")
        # an upload route takes the body in, and its own field cap refuses the oversized field
        json_error(c.post("/api/v1/followups", content=big, headers=MULTIPART), 413, "too_large")
        body = part("description", DESC.encode()) + part("attachments", b"\xff" * 70_000, "a.jpg")
        body += f"--{BOUNDARY}--\r\n".encode()
        refused = c.post("/api/v1/reports", content=body, headers=MULTIPART)
    assert json_error(refused, 415, "invalid_input")  # read whole (under the upload cap), then refused as a type
    assert stored(service) == (0, 0)
