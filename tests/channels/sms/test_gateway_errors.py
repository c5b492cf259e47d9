"""Malformed gateway and webhook input gets a clear 4xx, never a 500 (issue 12, item 7).

SMSSync's ``task=sent`` callback with a secret that is not a string, or ``queued_messages`` that is
not a list of strings, in a JSON body or a form body; and the hotline's language menu answered with
5,000 digits (validly signed: Twilio passes on whatever the caller's phone sends).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from twilio.request_validator import RequestValidator

from channels.server import create_intake_app
from tests.conftest import Node, make_node

TOKEN = "synthetic-auth-token"
PUBLIC = "https://intake.example.org"
SECRET = "synthetic-gateway-secret"


@pytest.fixture
def node(tmp_path: Path) -> Node:
    return make_node(tmp_path / "node", twilio_auth_token=TOKEN, public_url=PUBLIC, smssync_secret=SECRET)


@pytest.fixture
def client(node: Node) -> Iterator[TestClient]:
    with TestClient(create_intake_app(node.settings), raise_server_exceptions=False) as c:
        yield c


def queued(client: TestClient) -> list[dict[str, str]]:
    """Queue one reply for the phone (an SMS in), and return what the phone is told to send."""
    r = client.post(
        "/smssync", data={"from": "+60123456789", "message": "hello", "message_id": "m-1", "secret": SECRET}
    )
    assert r.status_code == 200
    messages = client.get("/smssync", params={"task": "send", "secret": SECRET}).json()["payload"]["messages"]
    assert messages
    return list(messages)


BAD_JSON = [
    {"secret": 12345, "queued_messages": []},
    {"secret": [SECRET], "queued_messages": []},
    {"secret": {"s": SECRET}, "queued_messages": []},
    {"secret": SECRET, "queued_messages": 5},
    {"secret": SECRET, "queued_messages": {"a": 1}},
    {"secret": SECRET, "queued_messages": [1, 2]},
    {"secret": SECRET, "queued_messages": [["nested"]]},
    {"secret": SECRET, "queued_messages": True},
]


@pytest.mark.parametrize("body", BAD_JSON, ids=[json.dumps(b)[:40] for b in BAD_JSON])
def test_smssync_sent_with_wrong_types_in_json_is_a_clear_400(client: TestClient, body: dict[str, object]) -> None:
    messages = queued(client)
    r = client.post("/smssync?task=sent", json=body)
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert error["code"] == "invalid_input" and error["fields"], error
    # Nothing was marked sent: the reply is still queued for the phone.
    again = client.get("/smssync", params={"task": "send", "secret": SECRET}).json()["payload"]["messages"]
    assert [m["uuid"] for m in again] == [m["uuid"] for m in messages]


@pytest.mark.parametrize(
    "value", ["[1, 2]", '["a", ["b"]]', "[not json", '[{"uuid": "x"}]'], ids=["numbers", "nested", "broken", "objects"]
)
def test_smssync_sent_in_a_form_with_a_bad_list_is_a_clear_400(client: TestClient, value: str) -> None:
    messages = queued(client)
    r = client.post("/smssync?task=sent", data={"secret": SECRET, "queued_messages": value})
    assert r.status_code == 400, r.text
    assert r.json()["error"]["fields"] == {"queued_messages": "This value is not one we can use."}
    again = client.get("/smssync", params={"task": "send", "secret": SECRET}).json()["payload"]["messages"]
    assert [m["uuid"] for m in again] == [m["uuid"] for m in messages]


def test_json_sent_as_a_form_is_read_as_json(client: TestClient) -> None:
    # The body is tried as JSON whatever the Content-Type says: the same checks apply.
    r = client.post(
        "/smssync?task=sent",
        content=json.dumps({"secret": 7, "queued_messages": []}),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 400 and r.json()["error"]["fields"] == {"secret": "This value is not one we can use."}


def test_smssync_sent_in_a_form_with_one_uuid_or_a_json_list(client: TestClient) -> None:
    first = queued(client)[0]["uuid"]
    r = client.post("/smssync?task=sent", data={"secret": SECRET, "queued_messages": first})
    assert r.status_code == 200 and r.json() == {"message_uuids": [first]}
    r = client.post("/smssync", data={"from": "+60123456789", "message": "HELP", "message_id": "m-2", "secret": SECRET})
    uuids = [
        m["uuid"]
        for m in client.get("/smssync", params={"task": "send", "secret": SECRET}).json()["payload"]["messages"]
    ]
    assert uuids
    r = client.post("/smssync?task=sent", data={"secret": SECRET, "queued_messages": json.dumps(uuids)})
    assert r.status_code == 200 and r.json() == {"message_uuids": uuids}
    assert client.get("/smssync", params={"task": "send", "secret": SECRET}).json()["payload"]["messages"] == []
    # A uuid that is not ours is ignored, as before.
    r = client.post("/smssync?task=sent", data={"secret": SECRET, "queued_messages": "not-a-uuid"})
    assert r.status_code == 200 and r.json() == {"message_uuids": []}


def test_smssync_sent_with_a_wrong_string_secret_is_still_403(client: TestClient) -> None:
    assert client.post("/smssync?task=sent", json={"secret": "wrong", "queued_messages": []}).status_code == 403


def signed(client: TestClient, path: str, **params: str):
    params = {"AccountSid": "AC" + "0" * 32, "CallSid": "CA" + "2" * 32, "From": "+639170000002", **params}
    signature = RequestValidator(TOKEN).compute_signature(PUBLIC + path, params)
    return client.post(path, data=params, headers={"X-Twilio-Signature": signature})


@pytest.mark.parametrize("digits", ["9" * 5000, "1" * 4301, "0" * 5000, "٣" * 5000, "1" * 20])
def test_voice_language_menu_with_thousands_of_digits_repeats_the_menu(client: TestClient, digits: str) -> None:
    r = signed(client, "/twilio/voice/lang?page=0", Digits=digits)
    assert r.status_code == 200, r.text[:200]
    assert r.headers["content-type"].startswith("application/xml")
    assert "<Redirect>/twilio/voice?page=0</Redirect>" in r.text, "the menu again"


@pytest.mark.parametrize("digits", ["9" * 5000, "1" * 5000])
def test_voice_answers_with_thousands_of_digits_ask_again(client: TestClient, digits: str) -> None:
    r = signed(client, "/twilio/voice/answer?step=consent&lang=en", Digits=digits)
    assert r.status_code == 200 and "step=consent" in r.text
