"""No worker's words, number, name or receipt code in any log line or in the raw bytes on disk.

A full flow runs with every logger at DEBUG (caplog on the root) and stdout/stderr captured at the
file-descriptor level; then every line is searched. The stores' files, write-ahead logs included,
are searched as raw bytes in UTF-8 and UTF-16-LE while their connections are open.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from intake.drain import drain
from intake.logs import ScrubFilter, scrub, setup_logging
from intake.node import open_cases
from intake.services import IntakeService
from tests.channels.web import JSON, ZH, html_page, post_form
from tests.conftest import Node, csrf_token, receipt_in

WORDS = ["Quillfeather", "Marrowgate", "zibbledorf", "蓝鲸宿舍", "扣押身份证"]
NAME = "Ottoline Varga-Pemberton"
PHONE = "+86 139 2468 1357"
PHONE_FORMS = [PHONE, "+8613924681357", "8613924681357", "13924681357", "139 2468 1357", "139-2468-1357"]
FORM_TEXT = f"The {WORDS[0]} supervisor at the {WORDS[1]} plant hit a worker on line 4. Call 139-2468-1357."
JSON_TEXT = f"{WORDS[3]}的管理员{WORDS[4]}，我们的电话是 13924681357。"
FOLLOWUP_TEXT = f"It happened again; {WORDS[2]} saw it too."
ZH_FOLLOWUP = f"补充：{WORDS[3]}又停水了。"
LOGGERS = ["", "intake", "channels", "crypto", "httpx", "httpcore", "multipart", "python_multipart", "asyncio"]
LOGGERS += ["fastapi", "starlette", "uvicorn", "uvicorn.error", "uvicorn.access", "sqlcipher3"]


def secrets_of(receipts: list[str]) -> list[str]:
    found = [*WORDS, NAME, *NAME.replace("-", " ").split(), *PHONE_FORMS]
    for code in receipts:
        found += [code, code.replace("-", ""), code.replace("-", " ")]
    return found


def all_log_text(caplog: pytest.LogCaptureFixture, captured: tuple[str, str]) -> str:
    lines = []
    for record in caplog.records:
        lines.append(record.getMessage())
        lines.append(repr(record.args))
        if record.exc_info:
            lines.append(logging.Formatter().formatException(record.exc_info))
        if record.exc_text:
            lines.append(record.exc_text)
    return "\n".join([*lines, caplog.text, *captured])


def raw_files(home: Path) -> dict[str, bytes]:
    return {str(p.relative_to(home)): p.read_bytes() for p in sorted(home.rglob("*")) if p.is_file()}


def assert_nothing_readable(files: dict[str, bytes], secrets: list[str]) -> None:
    for name, data in files.items():
        for secret in secrets:
            for encoding in ("utf-8", "utf-16-le"):
                assert secret.encode(encoding) not in data, f"{secret!r} ({encoding}) readable in {name}"


@pytest.fixture
def every_log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name or None)
    yield caplog


def test_a_full_flow_leaves_no_trace_in_logs_or_on_disk(
    client: TestClient,
    node: Node,
    service: IntakeService,
    every_log: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    # A form report with contact details, and a JSON report in Chinese.
    form = {
        "description": FORM_TEXT,
        "factory": f"{WORDS[1]} Plant",
        "location": WORDS[2],
        "categories": ["harassment"],
        "consent": "2",
        "contact_ok": "1",
        "phone": PHONE,
        "name": NAME,
    }
    form_receipt = receipt_in(html_page(post_form(client, "/report", form), 200))
    response = client.post(
        "/api/v1/reports",
        json={"description": JSON_TEXT, "factory": WORDS[3], "phone": PHONE, "name": NAME, "contact_ok": True},
        headers=ZH,
    )
    assert response.status_code == 201
    json_receipt = response.json()["receipt"]

    # Status lookups in every shape a worker might type, follow-ups on both paths, a refused request.
    for code in (form_receipt, form_receipt.replace("-", ""), json_receipt.replace("-", " ")):
        html_page(post_form(client, "/status", {"receipt": code}), 200)
        assert client.post("/api/v1/status", json={"receipt": code}).status_code == 200
    html_page(post_form(client, "/status/add", {"receipt": form_receipt, "text": FOLLOWUP_TEXT}), 200)
    assert client.post("/api/v1/followups", json={"receipt": json_receipt, "text": ZH_FOLLOWUP}).status_code == 202
    bad = client.post("/api/v1/reports", content=f'{{"description": "{WORDS[0]}", "x": "{PHONE}"}}', headers=JSON)
    assert bad.status_code == 400
    csrf_token(client)
    assert client.post("/report", data={"description": FORM_TEXT, "phone": PHONE}).status_code == 403

    # Raw bytes while the intake holds the inbox open (its write-ahead log is there).
    assert (node.home / "inbox.db-wal").is_file()
    on_intake = raw_files(node.home)

    # The desk drains; raw bytes again while cases.db and its write-ahead log are open.
    cases = open_cases(node.settings, node.keys)
    try:
        result = drain(service.inbox, cases, node.keys)
        assert (result.cases, result.followups, result.unreadable) == (2, 2, 0)
        assert (node.home / "cases.db-wal").is_file()
        on_desk = raw_files(node.home)
        opened = [cases.get_case(c.id) for c in cases.list_cases()]
    finally:
        cases.close()
    service.close()
    at_rest = raw_files(node.home)

    # The words did go through: the caseworker reads them, so their absence below means something.
    descriptions = {c.description for c in opened}
    assert descriptions == {FORM_TEXT, JSON_TEXT}
    assert {f.text for c in opened for f in c.followups} == {FOLLOWUP_TEXT, ZH_FOLLOWUP}

    secrets = secrets_of([form_receipt, json_receipt])
    for files in (on_intake, on_desk, at_rest):
        assert {"inbox.db", "cases.db"} <= set(files)
        assert_nothing_readable(files, secrets)
    assert "inbox.db-wal" in on_intake and "cases.db-wal" in on_desk

    logs = all_log_text(every_log, capfd.readouterr())
    assert "POST /report status=200" in logs and "POST /api/v1/reports status=201" in logs  # the capture works
    assert "report accepted" in logs
    for secret in secrets:
        assert secret not in logs, f"{secret!r} in the logs"
    assert "testclient" not in logs  # the client's address is never logged
    squashed = re.sub(r"[\s\-.\u00a0]", "", logs)  # however a code or number might be punctuated
    for digits in (form_receipt.replace("-", ""), json_receipt.replace("-", ""), "13924681357"):
        assert digits not in squashed


def test_an_unexpected_error_logs_its_type_not_its_message(
    client: TestClient,
    service: IntakeService,
    monkeypatch: pytest.MonkeyPatch,
    every_log: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    def explode(*_args: object, **_kwargs: object) -> None:
        raise ValueError(f"could not store {FORM_TEXT} from {NAME} at {PHONE}")

    monkeypatch.setattr("channels.web.api.accept_report", explode)
    response = client.post("/api/v1/reports", json={"description": FORM_TEXT, "phone": PHONE, "name": NAME})
    assert response.status_code == 500
    logs = all_log_text(every_log, capfd.readouterr())
    assert "ValueError" in logs
    for secret in secrets_of([]):
        assert secret not in logs and secret not in response.text


# -- the safety net: scrubbing --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "call +86 139 2468 1357 now",
        "call 13924681357 now",
        "number 139-2468-1357",
        "receipt 1234-5678-9012-3456",
        "receipt 1234567890123456",
        "badge 123456",
        "id 12 34 56",
        "from 203.0.113.77",
        "nbsp 139\u00a02468\u00a01357",
    ],
)
def test_scrub_removes_runs_of_six_or_more_digits(text: str) -> None:
    cleaned = scrub(text)
    assert "[digits]" in cleaned
    assert sum(c.isdigit() for c in cleaned) < 6
    assert cleaned.split()[0] == text.split()[0]


@pytest.mark.parametrize(
    "text",
    [
        "POST /report status=200 ms=3.5",
        "size=512",
        "12345",
        "line 4 shift 2",
        "2026",
        "HTTP/1.1 404",
        "took 12.5ms for 300 items",
    ],
)
def test_scrub_leaves_short_numbers(text: str) -> None:
    assert scrub(text) == text


def scrubbed_logger() -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(ScrubFilter())
    logger = logging.getLogger("tests.channels.web.privacy.scrubbed")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    return logger, stream


def test_the_filter_scrubs_arguments_and_drops_exception_messages() -> None:
    logger, stream = scrubbed_logger()
    logger.info("lookup for %s took %d ms", "1234-5678-9012-3456", 12)
    try:
        raise ValueError(f"bad input {FORM_TEXT} {NAME}")
    except ValueError:
        logger.exception("could not parse %s", PHONE)
    out = stream.getvalue()
    assert "lookup for [digits] took 12 ms" in out
    assert "could not parse [digits] [ValueError]" in out
    assert "Traceback" not in out
    for secret in secrets_of(["1234-5678-9012-3456"]):
        assert secret not in out


def test_the_filter_survives_a_broken_format_string() -> None:
    logger, stream = scrubbed_logger()
    logger.info("%d items for %s", "not a number", "13924681357")
    assert "13924681357" not in stream.getvalue()
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "receipt %s", ("1234567890123456",), None)
    assert ScrubFilter().filter(record) is True
    assert record.getMessage() == "receipt [digits]"


def test_setup_logging_puts_the_filter_on_every_line() -> None:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level, logging.getLogger("uvicorn.access").disabled)
    try:
        setup_logging("DEBUG")
        (handler,) = root.handlers
        assert any(isinstance(f, ScrubFilter) for f in handler.filters)
        assert logging.getLogger("uvicorn.access").disabled
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        logging.getLogger("uvicorn.access").disabled = saved[2]
