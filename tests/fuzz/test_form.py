"""Generated input for the web form: the report form, the status form and the follow-up form.

Each example is one browser-without-JavaScript submission with a valid CSRF token (fresh from the
form page, or the one already sent: a double submit), or with a missing, forged or foreign one, and
fields that are arbitrary unicode, huge, missing, repeated or unknown, sent as the form encoding a
browser uses or as something else entirely. Whatever arrives: no 5xx, nothing logged at ERROR, and
neither the words nor any receipt code in a log line. Then the same forms again straight through
the ASGI interface, with the client going away at any point of the body.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections import Counter
from collections.abc import Sequence
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from intake.domain import Category
from tests.conftest import csrf_token, run_coroutine
from tests.fuzz.conftest import (
    SECRET,
    LogWatch,
    distinctive,
    encode_form,
    fuzz_settings,
    receipts_in,
    server_error,
    twilio_signature,
)

pytestmark = [pytest.mark.fuzz, pytest.mark.slow]

REPORT_FIELDS = ("description", "factory", "location", "name", "phone", "categories", "consent", "contact_ok")

# -- strategies ------------------------------------------------------------------------------------------
# Any unicode but lone surrogates (no browser can send those: they are not UTF-8).
chars = st.characters(exclude_categories=("Cs",))
text = st.text(chars, max_size=60)
# Huge without drawing each character: a short piece repeated past the 64 KiB body limit and below it.
huge = st.builds(lambda piece, n: piece * n, st.text(chars, min_size=1, max_size=6), st.integers(500, 30_000))
value = st.one_of(text, st.sampled_from(["", " ", "\x00", "0", "1", "on", "yes", "-1", "9" * 400]))
categories = st.lists(st.one_of(st.sampled_from([c.value for c in Category]), text), max_size=40)
field_names = st.one_of(st.sampled_from([*REPORT_FIELDS, "lang", "website", "csrf", "receipt", "text"]), text)


# Fields whose odd values hide the rest behind one refusal get good values often enough to go past it.
FIELD_VALUES: dict[str, st.SearchStrategy[str]] = {
    "consent": st.one_of(st.sampled_from(["0", "1", "2"]), value),
    "contact_ok": st.one_of(st.sampled_from(["", "1", "on"]), value),
    "phone": st.one_of(st.from_regex(r"\+?[0-9 ()-]{0,24}", fullmatch=True), value),
}


@st.composite
def form_fields(
    draw: st.DrawFn, names: Sequence[str], values: dict[str, st.SearchStrategy[str]]
) -> list[tuple[str, str]]:
    """Pairs in the order sent: each known field missing, once, or repeated; unknown ones too."""
    pairs: list[tuple[str, str]] = []
    for name in names:
        times = draw(st.sampled_from([0, 1, 1, 1, 2, 3]))
        if name == "categories":
            pairs += [(name, c) for c in draw(categories)][: times * 20]
        else:
            pairs += [(name, draw(values.get(name, value))) for _ in range(times)]
    pairs += draw(st.lists(st.tuples(field_names, value), max_size=4))
    if pairs and draw(st.integers(0, 7)) == 0:  # one field huge: over the body limit, or just under it
        at = draw(st.integers(0, len(pairs) - 1))
        pairs[at] = (pairs[at][0], draw(huge))
    if draw(st.integers(0, 9)) == 0:
        pairs += [(f"extra{i}", "x") for i in range(draw(st.integers(40, 80)))]  # over max_fields=64
    return draw(st.permutations(pairs)) if len(pairs) < 12 else pairs


# Listed more than once: drawn more often (the first is also what hypothesis shrinks towards).
CSRF_KINDS = ["fresh"] * 10 + ["again", "again", "resend", "resend", "none", "forged", "foreign", "repeated"]
ENCODINGS = ["urlencoded"] * 10 + ["multipart"] * 4 + ["multipart-file", "json", "text", "none", "odd"]


@st.composite
def submissions(
    draw: st.DrawFn, names: Sequence[str], values: dict[str, st.SearchStrategy[str]] | None = None
) -> dict[str, Any]:
    return {
        "fields": draw(form_fields(names, {**FIELD_VALUES, **(values or {})})),
        "csrf": draw(st.sampled_from(CSRF_KINDS)),
        "encoding": draw(st.sampled_from(ENCODINGS)),
        "lang": draw(st.one_of(st.none(), st.sampled_from(["en", "zh_Hans", "ar", "my", "xx", "../en"]), text)),
        "odd_type": draw(st.sampled_from(["multipart/form-data", "application/xml", "x/y; charset=utf-99", "", "*/*"])),
    }


# -- sending --------------------------------------------------------------------------------------------
class Forms:
    """Sends generated submissions to one form and keeps count of what came back."""

    def __init__(self, client: TestClient, logs: LogWatch, page: str) -> None:
        self.client = client
        self.logs = logs
        self.page = page
        self.last_token = ""
        self.last: tuple[str, list[tuple[str, str]], str, str, list[str]] | None = None
        self.statuses: Counter[int] = Counter()

    def token(self, kind: str) -> list[tuple[str, str]]:
        if kind in ("fresh", "repeated") or not self.last_token:
            self.last_token = csrf_token(self.client, self.page)
        if kind == "none":
            return []
        if kind == "forged":
            return [("csrf", self.last_token[:-4] + "0000")]
        if kind == "foreign":  # signed for another browser's cookie
            return [("csrf", self.client.app.state.csrf.token("another-browser-cookie"))]
        if kind == "repeated":  # two tokens: the parser takes one of them
            return [("csrf", csrf_token(self.client, self.page)), ("csrf", self.last_token)]
        return [("csrf", self.last_token)]

    def send(self, path: str, sub: dict[str, Any]) -> None:
        resend = sub["csrf"] == "resend" and self.last is not None and self.last[0] == path
        if resend:  # the last submission again, byte for byte: a double tap or a reload
            assert self.last is not None
            _, pairs, encoding, odd_type, first_receipts = self.last
        else:
            pairs = self.token(sub["csrf"]) + list(sub["fields"])
            if sub["lang"] is not None:
                pairs.append(("lang", sub["lang"]))
            encoding, odd_type, first_receipts = sub["encoding"], sub["odd_type"], []
        self.logs.start()
        response = self.post(path, pairs, encoding, odd_type)
        self.statuses[response.status_code] += 1
        assert response.status_code < 500, server_error(response, pairs[:12])
        words = [w for name, v in pairs if name in ("description", "text", "name", "phone") for w in distinctive(v)]
        receipts = receipts_in(response.text)
        self.logs.check(secrets=words, codes=receipts)
        if resend and first_receipts:
            # Known bug (issue 12 item 3, form double submit): a second send made a second report
            # with another receipt. The same form sent again shows the receipt it got the first time.
            assert receipts == first_receipts, "the same form sent twice got another receipt"
        self.last = (path, pairs, encoding, odd_type, receipts)
        if receipts and not resend:  # every receipt is put to that test: the worker taps twice
            self.send(path, {**sub, "csrf": "resend"})

    def post(self, path: str, pairs: list[tuple[str, str]], encoding: str, odd_type: str) -> Any:
        c = self.client
        if encoding == "urlencoded":
            return c.post(
                path, content=encode_form(pairs), headers={"content-type": "application/x-www-form-urlencoded"}
            )
        if encoding == "multipart":
            return multipart(c, path, pairs)
        if encoding == "multipart-file":  # a file upload: the form takes none
            return multipart(c, path, pairs, upload=b"synthetic evidence")
        if encoding == "json":
            return c.post(path, content=json.dumps(dict(pairs)).encode(), headers={"content-type": "application/json"})
        if encoding == "text":
            return c.post(path, content="\n".join(f"{k}={v}" for k, v in pairs).encode(), headers={"content-type": "text/plain"})  # fmt: skip
        if encoding == "none":
            return c.post(path, content=encode_form(pairs))
        return c.post(path, content=encode_form(pairs), headers={"content-type": odd_type})


def multipart(client: TestClient, path: str, pairs: list[tuple[str, str]], upload: bytes | None = None) -> Any:
    """multipart/form-data built by hand: repeated fields and any field name, as a browser may send."""
    boundary = "fuzz-boundary-7d1e"
    parts = []
    for name, v in pairs:
        safe = name.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{safe}"\r\n\r\n{v}\r\n'.encode())
    if upload is not None:
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="upload"; filename="evidence.txt"\r\n'
            f"Content-Type: text/plain\r\n\r\n".encode()
            + upload
            + b"\r\n"
        )
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return client.post(path, content=body, headers={"content-type": f"multipart/form-data; boundary={boundary}"})


# -- the tests -------------------------------------------------------------------------------------------
def issued_receipt(client: TestClient) -> str:
    response = client.post("/api/v1/reports", json={"description": "Synthetic fuzz report: wages unpaid."})
    assert response.status_code == 201, response.text
    return str(response.json()["receipt"])


def receipt_values(code: str) -> st.SearchStrategy[str]:
    """The real code in the shapes a worker types it, a typo of it, other digits, or anything."""
    digits = code.replace("-", "")
    typo = digits[:-1] + str((int(digits[-1]) + 1) % 10)
    thai = digits.translate(str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙"))
    return st.one_of(
        st.sampled_from([code, digits, " ".join(code.split("-")), typo, thai, digits * 3, code + "\x00"]),
        st.from_regex(r"[0-9 \-]{12,24}", fullmatch=True),
        value,
    )


def test_the_report_form_takes_anything_without_a_5xx(fuzz_client: TestClient, logs: LogWatch) -> None:
    forms = Forms(fuzz_client, logs, "/report")

    @fuzz_settings(500)
    @given(sub=submissions(REPORT_FIELDS))
    def fuzz(sub: dict[str, Any]) -> None:
        forms.send("/report", sub)

    fuzz()
    assert logs.saw_lines(), "no log line was captured: the log checks checked nothing"
    # It reached the handler both ways: receipts were issued and refusals were shown.
    assert forms.statuses[200] and any(400 <= s < 500 for s in forms.statuses), forms.statuses


def test_the_status_and_follow_up_forms_take_anything_without_a_5xx(fuzz_client: TestClient, logs: LogWatch) -> None:
    forms = Forms(fuzz_client, logs, "/status")
    receipts = receipt_values(issued_receipt(fuzz_client))

    @fuzz_settings(400)
    @given(path=st.sampled_from(["/status", "/status/add", "/status/add"]),
           sub=submissions(("receipt", "text"), {"receipt": receipts}))  # fmt: skip
    def fuzz(path: str, sub: dict[str, Any]) -> None:
        forms.send(path, sub)

    fuzz()
    assert logs.saw_lines(), "no log line was captured: the log checks checked nothing"
    assert forms.statuses[200] and any(400 <= s < 500 for s in forms.statuses), forms.statuses


def test_the_answer_form_takes_anything_without_a_5xx(fuzz_client: TestClient, logs: LogWatch) -> None:
    """Issue 15: the status page's question form (``/status/answer``), with a question waiting."""
    from intake.answers import post_questions
    from intake.receipts import parse_receipt
    from intake.store.board_questions import PostedQuestion

    code = issued_receipt(fuzz_client)
    service = fuzz_client.app.state.service  # type: ignore[attr-defined]
    board = bytes(service.receipts.hash(parse_receipt(code)))
    post_questions(service.inbox, [PostedQuestion("fuzzQ7Wm2KpLr9Tb", board, "confirm", "back_pay", 0)])
    forms = Forms(fuzz_client, logs, "/status")
    answers = st.one_of(st.sampled_from(["1", "2", "3", "0", "4", "-1", "01", "999", "1000", "١", ""]), value)
    questions = st.one_of(st.just("fuzzQ7Wm2KpLr9Tb"), value)

    @fuzz_settings(150)
    @given(sub=submissions(("receipt", "question", "answer"),
                           {"receipt": receipt_values(code), "answer": answers, "question": questions}))  # fmt: skip
    def fuzz(sub: dict[str, Any]) -> None:
        forms.send("/status/answer", sub)

    fuzz()
    assert logs.saw_lines(), "no log line was captured: the log checks checked nothing"
    assert forms.statuses[200] and any(400 <= s < 500 for s in forms.statuses), forms.statuses


# -- a client that goes away mid-body ---------------------------------------------------------------------
COOKIE = "fuzz-browser-cookie"


async def asgi_post(
    app: Any, path: str, headers: list[tuple[bytes, bytes]], chunks: list[bytes], cut: int
) -> list[Any]:
    """POST ``chunks`` straight to the ASGI app; after ``cut`` of them the client is gone. Returns
    the messages the app sent."""
    sent: list[Any] = []
    done = asyncio.Event()
    pending = [{"type": "http.request", "body": c, "more_body": True} for c in chunks[:cut]]
    if cut >= len(chunks):
        pending.append({"type": "http.request", "body": b"", "more_body": False})

    async def receive() -> dict[str, Any]:
        if pending:
            return pending.pop(0)
        if cut >= len(chunks):  # the whole request was sent: the client waits for the answer
            await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body"):
            done.set()

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "https",
        "path": path.split("?")[0], "raw_path": path.split("?")[0].encode(), "root_path": "",
        "query_string": path.partition("?")[2].encode(), "headers": [(b"host", b"testserver"), *headers],
        "client": ("127.0.0.1", 50000), "server": ("testserver", 443),
    }  # fmt: skip
    await asyncio.wait_for(app(scope, receive, send), timeout=30)
    return sent


DISCONNECT_PATHS = ["/report", "/status/add", "/status", "/api/v1/reports", "/twilio/sms", "/smssync"]


@st.composite
def cut_requests(draw: st.DrawFn) -> tuple[str, list[tuple[bytes, bytes]], list[bytes], int]:
    path = draw(st.sampled_from(DISCONNECT_PATHS))
    fields = draw(
        form_fields(("description", "text", "receipt", "Body", "From", "MessageSid", "message"), FIELD_VALUES)
    )
    if path == "/api/v1/reports":
        raw = json.dumps({"description": draw(text) or "x", **dict(fields[:3])}).encode()
        headers = [(b"content-type", b"application/json")]
    else:
        extra = [("secret", SECRET)] if path == "/smssync" else []
        raw = encode_form([("csrf", "{csrf}"), *extra, *fields])
        headers = [(b"content-type", b"application/x-www-form-urlencoded"), (b"cookie", f"csrf={COOKIE}".encode())]
    if draw(st.booleans()):
        headers.append((b"content-length", str(len(raw)).encode()))
    splits = sorted(set(draw(st.lists(st.integers(0, len(raw)), max_size=6))))
    bounds = [0, *splits, len(raw)]
    chunks = [raw[a:b] for a, b in itertools.pairwise(bounds)]
    return path, headers, chunks, draw(st.integers(0, len(chunks)))


def test_a_client_going_away_at_any_byte_is_no_5xx_and_stores_nothing(fuzz_client: TestClient, logs: LogWatch) -> None:
    app = fuzz_client.app
    inbox = app.state.service.inbox
    outcomes: Counter[str] = Counter()

    @fuzz_settings(400)
    @given(request=cut_requests())
    def fuzz(request: tuple[str, list[tuple[bytes, bytes]], list[bytes], int]) -> None:
        path, headers, chunks, cut = request
        token = app.state.csrf.token(COOKIE).encode()
        chunks = [c.replace(b"%7Bcsrf%7D", token) for c in chunks]  # a valid token for this browser
        if path == "/twilio/sms":
            headers = [*headers, (b"x-twilio-signature", twilio_signature(path, b"".join(chunks)).encode())]
        before = inbox.count()
        logs.start()
        sent = run_coroutine(asgi_post(app, path, headers, chunks, cut))
        statuses = [m["status"] for m in sent if m["type"] == "http.response.start"]
        assert all(s < 500 for s in statuses), (path, statuses)
        logs.check()
        if cut < len(chunks):  # the body never arrived whole: nothing of it may be kept
            assert inbox.count() == before, f"{path}: a request cut short stored something"
            outcomes["cut"] += 1
        else:
            outcomes[f"whole {statuses[0] if statuses else '-'}"] += 1

    fuzz()
    assert logs.saw_lines(), "no log line was captured: the log checks checked nothing"
    assert outcomes["cut"] and any(k.startswith("whole 2") for k in outcomes), outcomes
