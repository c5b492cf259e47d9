"""The partner answers (issue 15, item 4): a partner's message about a case reaches the node that sent
it, over the real push (uvicorn on loopback) and by USB files; everything else is refused with
nothing stored; the partner's clock may be hours off.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from nacl.signing import SigningKey

from crypto.envelope import EnvelopeError
from crypto.message import MAX_MESSAGE, seal_message, sign_fetch
from crypto.push import HEADER as PUSH_HEADER
from intake import audit, clock
from intake.node import open_cases
from intake.store import partner_messages
from relay.gate import Relay
from relay.inbound import MESSAGES_PATH, Inbound, import_folder
from relay.message import PartnerMessage, stamp
from relay.partner.outgoing import compose, export
from relay.transport import export as node_export
from relay.transport import push
from tests.conftest import Node, make_node
from tests.relay.conftest import LiveInbox, Partner, file_case, make_partner
from tests.relay.test_partner import approve, open_all, register

QUESTION = "Has the factory paid the overtime it owes since October?"


def relayed_case(node: Node, partner: Partner, url: str = "", *, via_usb: bool = False) -> tuple[Relay, int, str]:
    """A node pairs with the partner, relays one case to it (HTTPS, or USB when no url) and the partner
    opens it; returns (the node's relay, the case id, the partner's reference for it)."""
    relay = register(node, partner, url=url)
    case_id = file_case(node, "Overtime was not paid for three months at the assembly plant.")
    approve(relay, case_id)
    if via_usb or not url:
        folder = node.settings.home.parent / "usb-envelopes"
        node_export(relay, folder)
        from relay.partner.inbox import import_folder as partner_import

        partner_import(partner.home, folder)
    else:
        with httpx.Client(timeout=10) as client:
            assert push(relay, client).delivered
    outcomes, _latest, _report = open_all(partner)
    assert outcomes and all(o.ok for o in outcomes), outcomes
    return relay, case_id, outcomes[-1].case_ref


def ask(partner: Partner, ref: str, text: str = QUESTION, **kw: Any) -> Any:
    store = partner.home.open_db(partner.keys)
    try:
        return compose(partner.home, partner.keys, store, ref, text, **kw)
    finally:
        store.close()


def stored(node: Node, case_id: int | None = None) -> list[partner_messages.StoredMessage]:
    store = open_cases(node.settings, node.keys)
    try:
        if case_id is not None:
            return partner_messages.for_case(store, case_id)
        ids = [r[0] for r in store._conn.execute("SELECT DISTINCT case_id FROM partner_messages")]
        return [m for i in ids for m in partner_messages.for_case(store, i)]
    finally:
        store.close()


def outgoing(partner: Partner) -> list[Any]:
    inbox = partner.home.open_inbox()
    try:
        return inbox.outgoing()
    finally:
        inbox.close()


def receive(node: Node, data: bytes, **kw: Any) -> Any:
    store = open_cases(node.settings, node.keys)
    try:
        return Inbound(store, node.keys).receive(data, via=kw.pop("via", "folder"), **kw)
    finally:
        store.close()


# -- round trips -------------------------------------------------------------------------------------------
def test_a_question_reaches_the_node_on_its_next_push(
    tmp_path: Path, partner: Partner, live_inbox: LiveInbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    node = make_node(tmp_path / "north")
    relay, case_id, ref = relayed_case(node, partner, live_inbox.url)
    queued = ask(partner, ref, kind="brand_response")
    assert queued.node == "north" and queued.sequence == 1
    assert [r.outcome for r in outgoing(partner)] == [""], "waiting for the node"

    with httpx.Client(timeout=10) as client:
        report = push(relay, client)
    assert not report.delivered and not report.failed, "nothing new to send: the push still collects"
    assert [(o.status, o.case_id, o.partner) for o in report.messages.outcomes] == [("stored", case_id, "monitor")]
    [message] = stored(node, case_id)
    assert (message.kind, message.partner, message.text, message.via) == (
        "brand_response",
        "monitor",
        QUESTION,
        "https",
    )
    assert message.created_at == stamp(queued.created_at) and message.received_at
    assert [(r.outcome, bool(r.acked_at)) for r in outgoing(partner)] == [("stored", True)], "acknowledged"

    with httpx.Client(timeout=10) as client:
        again = push(relay, client)
    assert again.messages.outcomes == [], "taken once: the inbox does not send it again"
    assert len(stored(node, case_id)) == 1

    entries = audit.entries(relay.store._conn, case_id=case_id)
    arrived = [e for e in entries if e.action == "partner_message"]
    assert len(arrived) == 1 and arrived[0].detail["kind"] == "brand_response"
    assert QUESTION not in json.dumps([e.detail for e in entries]), "the audit log names, never quotes"
    assert all(QUESTION not in r.getMessage() for r in caplog.records), "no message text in any log line"
    relay.store.close()


def test_messages_travel_by_usb_files_both_ways(tmp_path: Path, partner: Partner) -> None:
    node = make_node(tmp_path / "south")
    relay, case_id, ref = relayed_case(node, partner)  # no URL: USB only
    relay.store.close()
    ask(partner, ref, "¿Qué respondió la marca? 品牌回复了吗？", kind="update_request")
    ask(partner, ref, "We escalated this to the public buyer.", kind="escalation_decision")
    usb = tmp_path / "usb-messages"
    written = export(partner.home, usb)
    assert len(written) == 2 and all(p.suffix == ".message" for p in written)
    assert all((p.stat().st_mode & 0o077) == 0 for p in written), "written private"
    assert all(b"escalated" not in p.read_bytes() for p in written), "sealed on the stick"

    store = open_cases(node.settings, node.keys)
    try:
        results = import_folder(Inbound(store, node.keys), usb)
        assert [o.status for _name, o in results] == ["stored", "stored"]
        again = import_folder(Inbound(store, node.keys), usb)
        assert [o.status for _name, o in again] == ["duplicate", "duplicate"], "a second import stores nothing"
    finally:
        store.close()
    kinds = sorted(m.kind for m in stored(node, case_id))
    assert kinds == ["escalation_decision", "update_request"]
    assert all(r.exported_at and not r.acked_at for r in outgoing(partner)), "exported; no word back by USB"


# -- bad input: refused, nothing stored ----------------------------------------------------------------------
def node_verify_key(node: Node) -> Any:
    from intake.node import load_keyring

    return load_keyring(node.settings).verify_key


def sealed(
    partner: Partner | SigningKey, node: Node, ref: str, *, text: str = QUESTION, sequence: int = 1,
    when: datetime | None = None, payload: bytes | None = None, to: Any = None,
) -> bytes:  # fmt: skip
    """A message as a partner's software would seal it, every part choosable."""
    key = partner if isinstance(partner, SigningKey) else partner.home.inbox_keys().receipt
    when = when or clock.now_s()
    if payload is None:
        payload = PartnerMessage(kind="question", case_ref=ref, text=text, created_at=stamp(when)).to_bytes()
    return seal_message(payload, sender=key, recipient=to or node_verify_key(node), sequence=sequence, created_at=when)


def audit_count(node: Node) -> int:
    store = open_cases(node.settings, node.keys)
    try:
        return int(store._conn.execute("SELECT COUNT(*) FROM audit").fetchone()[0])
    finally:
        store.close()


@pytest.fixture
def paired(tmp_path: Path, partner: Partner) -> tuple[Node, int, str]:
    node = make_node(tmp_path / "north")
    relay, case_id, ref = relayed_case(node, partner)
    relay.store.close()
    return node, case_id, ref


def test_each_bad_message_is_refused_with_nothing_stored(tmp_path: Path, partner: Partner, paired: Any) -> None:
    node, case_id, ref = paired
    good = sealed(partner, node, ref, sequence=5)
    flipped = bytearray(good)
    flipped[-40] ^= 1
    stranger = make_partner(tmp_path / "stranger")
    other_node = make_node(tmp_path / "other-node")
    too_long = PartnerMessage.model_construct(
        kind="question", case_ref=ref, text="x" * 4001, created_at=stamp(clock.now_s())
    ).to_bytes()
    cases = {
        "unknown_case": sealed(partner, node, "a" * 16),
        "unknown_sender": sealed(stranger, node, ref),
        "altered": bytes(flipped),
        "not_for_this_key": sealed(partner, node, ref, to=node_verify_key(other_node)),
        "too_large": good + bytes(MAX_MESSAGE),
        "bad_message": sealed(partner, node, ref, payload=too_long),
        "truncated": good[:100],
    }
    before = audit_count(node)
    for expected, data in cases.items():
        outcome = receive(node, data)
        assert (outcome.status, outcome.reason) == ("refused", expected), (expected, outcome)
        assert QUESTION not in outcome.detail
    assert stored(node) == [] and audit_count(node) == before, "nothing stored, nothing audited"

    assert receive(node, good).status == "stored"
    again = sealed(partner, node, ref, sequence=5, text="A second message under a used number")
    assert (receive(node, again).status, receive(node, again).reason) == ("refused", "replayed")
    assert receive(node, good).status == "duplicate", "the very same message again: no alarm, nothing new"
    assert [m.sequence for m in stored(node, case_id)] == [5]


def test_only_a_case_sent_to_that_partner(tmp_path: Path, partner: Partner, paired: Any) -> None:
    node, _case_id, ref = paired
    second = make_partner(tmp_path / "second")
    register(node, second, name="second").store.close()  # paired after the case was relayed
    outcome = receive(node, sealed(second, node, ref))
    assert (outcome.status, outcome.reason) == ("refused", "unknown_case"), "that reference is the first partner's"
    assert stored(node) == []


def test_a_message_fetched_from_one_partner_signed_by_another_is_refused(
    tmp_path: Path, partner: Partner, paired: Any
) -> None:
    node, _case_id, ref = paired
    second = make_partner(tmp_path / "second")
    relay = register(node, second, name="second")
    try:
        via = next(p for p in relay.partners() if p.name == "second")
    finally:
        relay.store.close()
    outcome = receive(node, sealed(partner, node, ref), via="https", partner=via)
    assert (outcome.status, outcome.reason) == ("refused", "wrong_sender")
    assert stored(node) == []


@pytest.mark.parametrize("hours", [-9, -2, 3, 14])
def test_the_partners_clock_hours_off_is_shown_not_refused(partner: Partner, paired: Any, hours: int) -> None:
    node, case_id, ref = paired
    partner_now = clock.now_s() + timedelta(hours=hours)
    assert receive(node, sealed(partner, node, ref, when=partner_now)).status == "stored"
    [message] = stored(node, case_id)
    assert message.created_at == stamp(partner_now), "the partner's time, as it said"
    received = datetime.strptime(message.received_at, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert abs(received - partner_now) >= timedelta(hours=abs(hours)) - timedelta(minutes=5)


def test_a_message_whose_two_times_differ_is_refused(partner: Partner, paired: Any) -> None:
    node, _case_id, ref = paired
    now = clock.now_s()
    payload = PartnerMessage(kind="question", case_ref=ref, text=QUESTION, created_at=stamp(now)).to_bytes()
    outcome = receive(node, sealed(partner, node, ref, payload=payload, when=now + timedelta(seconds=1)))
    assert (outcome.status, outcome.reason) == ("refused", "bad_message")


def test_the_partner_refuses_to_queue_what_cannot_be_sent(partner: Partner, paired: Any) -> None:
    _node, _case_id, ref = paired
    from intake.errors import InvalidInput

    for ref_, text in (("b" * 16, QUESTION), (ref, "   "), (ref, "x" * 4001)):
        with pytest.raises(InvalidInput):
            ask(partner, ref_, text)
    assert outgoing(partner) == []
    with pytest.raises(EnvelopeError):
        seal_message(b"x" * 70000, sender=SigningKey.generate(), recipient=SigningKey.generate().verify_key,
                     sequence=1, created_at=clock.now_s())  # fmt: skip


# -- over the real inbox server ------------------------------------------------------------------------------
def test_partner_clocks_hours_ahead_and_behind_over_the_push(
    tmp_path: Path, partner: Partner, live_inbox: LiveInbox
) -> None:
    node = make_node(tmp_path / "north")
    relay, case_id, ref = relayed_case(node, partner, live_inbox.url)
    ahead, behind = clock.now_s() + timedelta(hours=7), clock.now_s() - timedelta(hours=11)
    ask(partner, ref, "From a partner whose clock runs fast.", now=ahead)
    ask(partner, ref, "From a partner whose clock runs slow.", now=behind, kind="update_request")
    with httpx.Client(timeout=10) as client:
        report = push(relay, client)
    relay.store.close()
    assert [o.status for o in report.messages.outcomes] == ["stored", "stored"], report.messages
    assert sorted(m.created_at for m in stored(node, case_id)) == [stamp(behind), stamp(ahead)]


def test_the_fetch_endpoint_refuses_strangers_and_garbage(
    tmp_path: Path, partner: Partner, live_inbox: LiveInbox
) -> None:
    north, south = make_node(tmp_path / "north"), make_node(tmp_path / "south")
    relay, _case_id, ref = relayed_case(north, partner, live_inbox.url)
    ask(partner, ref)
    token = relay.partners()[0].token
    relay.store.close()
    south_relay = register(south, partner, url=live_inbox.url)
    south_token = south_relay.partners()[0].token
    south_relay.store.close()
    url = live_inbox.url + MESSAGES_PATH

    def fetch(body: bytes, *, bearer: str, signer: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {bearer}", PUSH_HEADER: sign_fetch(body, key=signer)}
        return httpx.post(url, content=body, headers=headers, timeout=10)

    empty = b'{"ack":[]}'
    assert httpx.post(url, content=empty, timeout=10).status_code == 401
    assert fetch(empty, bearer="x" * 43, signer=north.keys.signing_key).status_code == 401
    assert fetch(empty, bearer=token, signer=south.keys.signing_key).status_code == 403, "north's token, south's key"
    for garbage in (
        b"",
        b"[]",
        b'{"ack":[{"id":"nope","outcome":"stored"}]}',
        b'{"ack":[{"id":"' + b"a" * 32 + b'"}]}',
    ):
        r = fetch(garbage, bearer=token, signer=north.keys.signing_key)
        assert r.status_code == 400 and r.json()["error"] == "malformed", garbage
    assert fetch(b" " * 70000, bearer=token, signer=north.keys.signing_key).status_code == 413
    [waiting] = outgoing(partner)
    south_ack = json.dumps({"ack": [{"id": waiting.message_id, "outcome": "stored"}]}).encode()
    r = fetch(south_ack, bearer=south_token, signer=south.keys.signing_key)
    assert r.status_code == 200 and r.json() == {"messages": []}, "south sees nothing of north's"
    assert not outgoing(partner)[0].acked_at, "and cannot acknowledge north's message away"
    r = fetch(empty, bearer=token, signer=north.keys.signing_key)
    assert r.status_code == 200 and len(r.json()["messages"]) == 1


def test_the_unlocked_desk_collects_messages_on_its_own_push(
    tmp_path: Path, partner: Partner, live_inbox: LiveInbox
) -> None:
    from intake.desk.relay import push_in_background
    from intake.desk.sessions import Sessions
    from tests.conftest import run_coroutine

    node = make_node(tmp_path / "north")
    relay, case_id, ref = relayed_case(node, partner, live_inbox.url)
    relay.store.close()
    ask(partner, ref, kind="update_request")
    sessions = Sessions(idle=600)
    store = open_cases(node.settings, node.keys)
    sessions.create(node.keys, store)
    report = run_coroutine(push_in_background(sessions, node.settings))
    assert report is not None and [o.status for o in report.messages.outcomes] == ["stored"]
    assert [m.kind for m in stored(node, case_id)] == ["update_request"]
    store.close()


def test_a_refused_message_is_acknowledged_so_the_partner_learns_why(
    tmp_path: Path, partner: Partner, live_inbox: LiveInbox
) -> None:
    node = make_node(tmp_path / "north")
    relay, _case_id, ref = relayed_case(node, partner, live_inbox.url)
    node_key = bytes(node_verify_key(node))
    inbox = partner.home.open_inbox()
    try:  # a partner's software that seals an oversized text, and one about a case it never got
        long_text = PartnerMessage.model_construct(
            kind="question", case_ref=ref, text="y" * 5000, created_at=stamp(clock.now_s())
        ).to_bytes()
        inbox.queue_message(node_key, lambda n: sealed(partner, node, ref, sequence=n, payload=long_text))
        inbox.queue_message(node_key, lambda n: sealed(partner, node, "c" * 16, sequence=n))
    finally:
        inbox.close()
    with httpx.Client(timeout=10) as client:
        report = push(relay, client)
        assert sorted(o.reason for o in report.messages.outcomes) == ["bad_message", "unknown_case"]
        assert push(relay, client).messages.outcomes == [], "acknowledged: not sent again"
    relay.store.close()
    assert stored(node) == []
    assert sorted(r.outcome for r in outgoing(partner)) == ["refused:bad_message", "refused:unknown_case"]
