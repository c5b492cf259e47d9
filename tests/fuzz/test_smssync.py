"""Generated SMSSync gateway requests: incoming messages, ``task=send`` polls and ``task=sent`` acks.

The Android gateway speaks form posts and JSON. Each example is one request with any task, a form
or a JSON body of any shape, and a secret that is right, wrong, missing, or not a string at all (a
number, a list, an object, null), in the body or the query; ``queued_messages`` is a list of our
uuids, of strangers' uuids, or any JSON value. Whatever arrives: no 5xx, nothing logged at ERROR,
and no message text or phone number in a log line.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import example, given
from hypothesis import strategies as st

from channels.sms.routes import _uuid_for
from tests.fuzz.conftest import SECRET, LogWatch, distinctive, encode_form, fuzz_settings, receipts_in, server_error

pytestmark = [pytest.mark.fuzz, pytest.mark.slow]

chars = st.characters(exclude_categories=("Cs",))
text = st.text(chars, max_size=40)
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(), text),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(text, inner, max_size=4)),
    max_leaves=12,
)
odd_secrets = st.one_of(
    st.sampled_from(["", "wrong-secret", SECRET + " ", SECRET.upper(), SECRET + "\x00"]), json_values
)
# Mostly right (the handlers behind the check are what is fuzzed), else wrong or not a string.
secrets = st.integers(0, 4).flatmap(lambda n: odd_secrets if n == 4 else st.just(SECRET))
ours = st.integers(1, 60).map(_uuid_for)  # replies this node queued, or will have
uuids = st.one_of(ours, st.uuids().map(str), text)
queued = st.one_of(st.lists(uuids, max_size=8), uuids, json_values)
phones = st.one_of(
    st.sampled_from(["+255700000001", "+8613800138000"]), st.from_regex(r"\+[1-9][0-9]{6,14}", fullmatch=True), text
)
bodies = st.one_of(
    st.sampled_from(["hello", "Synthetic Example Mill", "Wages unpaid since March.", "DONE", "1", "0", "NO"]),
    text,
    st.builds(lambda piece, n: piece * n, st.text(chars, min_size=1, max_size=5), st.integers(100, 8000)),
)


@st.composite
def gateway_requests(draw: st.DrawFn) -> dict[str, Any]:
    """method, task, where the secret goes, the body's encoding, and the fields."""
    fields: dict[str, Any] = {}
    for name, values in {
        "secret": secrets, "from": phones, "message": bodies, "message_id": st.one_of(st.uuids().map(str), text),
        "sent_timestamp": st.one_of(st.integers(0, 2**41).map(str), text), "sent_to": phones,
        "device_id": text, "queued_messages": queued,
    }.items():  # fmt: skip
        if draw(st.integers(0, 5)):
            fields[name] = draw(values)
    fields.update(draw(st.dictionaries(text, json_values, max_size=2)))
    # Which of the three exchanges; then its task value, method and encoding (mostly the usual ones).
    route = draw(st.sampled_from(["message", "sent", "poll", "message", "sent"]))
    task = {"message": st.one_of(st.sampled_from([None, None, "result"]), text),
            "sent": st.sampled_from(["sent"] * 4 + ["SENT", "sent "]),
            "poll": st.one_of(st.sampled_from(["send"] * 3 + [None]), text)}[route]  # fmt: skip
    encodings = ["json", "json", "form", "garbage"] if route == "sent" else ["form", "form", "form", "json", "garbage"]
    return {
        "method": "GET" if route == "poll" and draw(st.integers(0, 3)) else "POST",
        "task": draw(task),
        "secret_in_query": draw(st.one_of(st.none(), st.none(), secrets.filter(lambda s: isinstance(s, str)))),
        "encoding": draw(st.sampled_from(encodings)),
        "fields": fields,
    }


def form_value(value: Any) -> str:
    """How a form carries a value: strings as they are, anything else as its JSON text."""
    return value if isinstance(value, str) else json.dumps(value)


def send(client: TestClient, logs: LogWatch, statuses: Counter[int], req: dict[str, Any]) -> None:
    query = {}
    if req["task"] is not None:
        query["task"] = req["task"]
    if req["secret_in_query"] is not None:
        query["secret"] = req["secret_in_query"]
    fields = req["fields"]
    logs.start()
    if req["method"] == "GET":
        # A URL carries 64 KiB at most (the client refuses more): long values are cut for a GET.
        params = {k: form_value(v)[:2000] for k, v in fields.items()}
        response = client.get("/smssync", params={**params, **query})
    elif req["encoding"] == "json":
        response = client.post("/smssync", params=query, content=json.dumps(fields).encode(),
                               headers={"content-type": "application/json"})  # fmt: skip
    elif req["encoding"] == "form":
        body = encode_form([(k, form_value(v)) for k, v in fields.items()])
        response = client.post("/smssync", params=query, content=body,
                               headers={"content-type": "application/x-www-form-urlencoded"})  # fmt: skip
    else:
        response = client.post("/smssync", params=query, content=json.dumps(fields).encode()[:-1] + b"\xff\xfe")
    statuses[response.status_code] += 1
    assert response.status_code < 500, server_error(response, req)
    words = [w for k in ("message", "from") for w in distinctive(fields.get(k), at_least=10)]
    logs.check(secrets=words, codes=receipts_in(response.text))


def sent(secret: Any, queued_messages: Any, encoding: str = "json") -> dict[str, Any]:
    fields = {"secret": secret, "queued_messages": queued_messages}
    return {"method": "POST", "task": "sent", "secret_in_query": None, "encoding": encoding, "fields": fields}


def test_the_sms_gateway_takes_any_request_without_a_5xx(fuzz_client: TestClient, logs: LogWatch) -> None:
    statuses: Counter[int] = Counter()

    @fuzz_settings(800)
    # Known bugs (issue 12 item 7): task=sent with a secret that is not a string, or with
    # queued_messages that is not a list of strings, was a 500.
    @example(req=sent(12345, []))
    @example(req=sent([SECRET], []))
    @example(req=sent({"secret": SECRET}, []))
    @example(req=sent(SECRET, 7))
    @example(req=sent(SECRET, {"uuid": "x"}))
    @example(req=sent(SECRET, [1, None, ["x"]]))
    @example(req=sent(SECRET, '["not", "closed"', encoding="form"))
    @given(req=gateway_requests())
    def fuzz(req: dict[str, Any]) -> None:
        send(fuzz_client, logs, statuses, req)

    fuzz()
    assert logs.saw_lines(), "no log line was captured: the log checks checked nothing"
    assert statuses[200] and any(400 <= s < 500 for s in statuses), statuses
