"""End to end: nodes relay approved summaries to a partner over real HTTP on loopback and by folder;
the partner opens, verifies, keeps the history and reports; replays and tampering are refused.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from crypto.envelope import MAX_ENVELOPE
from crypto.push import HEADER as PUSH_HEADER
from crypto.push import sign_push
from intake import clock
from intake.domain import Category, Consent
from intake.node import open_cases
from intake.store.casework import CaseWork
from relay.gate import Relay
from relay.partner.inbox import import_folder
from relay.partner.report import report
from relay.partner.store import open_pending
from relay.transport import export, push
from tests.conftest import Node, make_node
from tests.relay.conftest import LiveInbox, Partner, file_case, make_partner, node_key


def register(node: Node, partner: Partner, *, url: str = "", name: str = "monitor") -> Relay:
    """Both sides of a pairing: the partner accepts the node, the node adds the partner with its token."""
    inbox = partner.home.open_inbox()
    try:
        _node, token = inbox.add_node(node.settings.home.name, node_key(node))
    finally:
        inbox.close()
    store = open_cases(node.settings, node.keys)
    relay = Relay(store, node.keys)
    relay.add_partner(name, partner.key_string, url=url, token=token if url else "")
    return relay


def approve(relay: Relay, case_id: int) -> int:
    return relay.approve(case_id, relay.review(case_id).content_hash)


def open_all(partner: Partner):  # type: ignore[no-untyped-def]
    store = partner.home.open_db(partner.keys)
    try:
        return open_pending(partner.home, partner.keys, store), store.latest(), report(store)
    finally:
        store.close()


def test_two_nodes_relay_to_one_partner_over_https(
    tmp_path: Path, partner: Partner, live_inbox: LiveInbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    nodes = [make_node(tmp_path / "north"), make_node(tmp_path / "south")]
    relays = [register(n, partner, url=live_inbox.url) for n in nodes]
    ids = []
    for node, relay in zip(nodes, relays, strict=True):
        for words in ("Wages withheld for two months at the assembly plant.", "Overtime of 100 hours a month."):
            case_id = file_case(node, words, categories=[Category.WAGES, Category.WORKING_HOURS])
            assert approve(relay, case_id) == 1
            ids.append((relay, case_id))
        file_case(node, "Internal only, never shared.", consent=Consent.INTERNAL)
    with httpx.Client(timeout=10) as client:
        for relay in relays:
            result = push(relay, client)
            assert len(result.delivered) == 2 and not result.failed
            assert all(r.delivered_at for r in relay.outbox())
            assert push(relay, client).delivered == [], "nothing is sent twice"
    outcomes, latest, summary_report = open_all(partner)
    assert [o.ok for o in outcomes] == [True] * 4, outcomes
    assert {o.node for o in outcomes} == {"north", "south"}
    assert len(latest) == 4
    assert all("never shared" not in v.summary.narrative for v, _ in latest)
    assert summary_report["nodes"] == 2
    assert summary_report["groups_per_factory"] == {"Example Electronics": 2}, "two groups, one factory"
    # A later status change arrives as an update under the same reference; the partner keeps both.
    relay, case_id = ids[0]
    store = relay.store
    CaseWork(store, relay.keys).update(case_id, seen_version=store.get_case(case_id).version, status="triaged")
    approve(relay, case_id)
    with httpx.Client(timeout=10) as client:
        assert len(push(relay, client).delivered) == 1
    outcomes, latest, _ = open_all(partner)
    assert [o.ok for o in outcomes] == [True]
    updated = [(v, n) for v, n in latest if n == 2]
    assert len(updated) == 1 and updated[0][0].summary.status == "triaged"
    pstore = partner.home.open_db(partner.keys)
    try:
        history = pstore.history(updated[0][0].summary.case_ref)
    finally:
        pstore.close()
    assert [v.summary.status for v in history] == ["new", "triaged"]
    for r in relays:
        r.store.close()
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "envelope received from north" in logged, "the inbox logs (the test sees its log)"
    for secret in ("Wages withheld", "Overtime of 100", "Example Electronics", history[0].summary.case_ref, "Bearer"):
        assert secret not in logged, secret


def test_the_partner_report_is_suppressed(tmp_path: Path, partner: Partner) -> None:
    node = make_node(tmp_path / "node")
    relay = register(node, partner)
    for n in range(7):
        case_id = file_case(node, f"Case {n}: wages withheld.", categories=[Category.WAGES])
        approve(relay, case_id)
    case_id = file_case(node, "Dust everywhere.", categories=[Category.HEALTH_SAFETY])
    approve(relay, case_id)
    export(relay, tmp_path / "usb")
    assert all(name_why[1] == "" for name_why in import_folder(partner.home, tmp_path / "usb"))
    _outcomes, _latest, doc = open_all(partner)
    table = doc["factory_by_category"]
    assert table["columns"] == ["health_safety", "wages"]
    assert table["cells"] == [["<5", "*"]], "1 shown as <5; 7 hidden too, else the total of 8 gives it away"
    assert table["total"] == 8
    by_month = doc["factory_by_month"]
    assert by_month["rows"] == ["Example Electronics"] and by_month["total"] == 8
    assert doc["groups_per_factory"] == {"Example Electronics": 1}
    relay.store.close()


def test_folder_transport_and_replays(tmp_path: Path, partner: Partner, live_inbox: LiveInbox) -> None:
    node = make_node(tmp_path / "node")
    relay = register(node, partner, url=live_inbox.url)
    case_id = file_case(node)
    approve(relay, case_id)
    usb = tmp_path / "usb"
    [path] = export(relay, usb)
    assert path.stat().st_mode & 0o777 == 0o600
    assert b"supervisor" not in path.read_bytes()
    assert relay.outbox()[0].exported_at and not relay.outbox()[0].delivered_at
    assert import_folder(partner.home, usb) == [(path.name, "")]
    outcomes, latest, _ = open_all(partner)
    assert [o.ok for o in outcomes] == [True] and len(latest) == 1
    # The same envelope again, by the other route: refused as a replay, nothing duplicated.
    with httpx.Client(timeout=10) as client:
        assert len(push(relay, client).delivered) == 1
    outcomes, latest, _ = open_all(partner)
    assert [(o.ok, o.reason) for o in outcomes] == [(False, "replayed")]
    assert len(latest) == 1 and latest[0][1] == 1
    # Re-imported from the stick: a replay again.
    import_folder(partner.home, usb)
    outcomes, _latest, _ = open_all(partner)
    assert [o.reason for o in outcomes] == ["replayed"]
    relay.store.close()


def test_tampered_unknown_and_misaddressed_envelopes_are_refused(tmp_path: Path, partner: Partner) -> None:
    node = make_node(tmp_path / "node")
    relay = register(node, partner)
    stranger = make_node(tmp_path / "stranger")  # never registered with the partner
    stranger_store = open_cases(stranger.settings, stranger.keys)
    stranger_relay = Relay(stranger_store, stranger.keys)
    stranger_relay.add_partner("monitor", partner.key_string)
    other = make_partner(tmp_path / "other-partner")
    for case_node, case_relay in ((node, relay), (stranger, stranger_relay)):
        approve(case_relay, file_case(case_node))
    usb = tmp_path / "usb"
    [good] = export(relay, usb)
    [unknown] = export(stranger_relay, usb)
    data = bytearray(good.read_bytes())
    data[len(data) // 2] ^= 0x01
    (usb / "tampered.envelope").write_bytes(bytes(data))
    (usb / "cut.envelope").write_bytes(good.read_bytes()[:50])
    good.unlink()
    # Another partner's inbox refuses them at the door: they are not sealed to its key.
    refused = dict(import_folder(other.home, usb))
    assert all(why.startswith("not_for_this_key") for name, why in refused.items() if name != "cut.envelope")
    assert refused["cut.envelope"].startswith("truncated")
    results = dict(import_folder(partner.home, usb))
    assert results[unknown.name] == "" and results["tampered.envelope"] == ""
    assert results["cut.envelope"].startswith("truncated")
    outcomes, latest, _ = open_all(partner)
    reasons = sorted(o.reason for o in outcomes)
    assert reasons == sorted(["altered", "unknown_sender"]), outcomes
    assert latest == []
    store = partner.home.open_db(partner.keys)
    try:
        assert sorted(r[1] for r in store.rejected()) == reasons
    finally:
        store.close()
    relay.store.close()
    stranger_store.close()


def test_the_inbox_refuses_bad_requests(tmp_path: Path, partner: Partner, live_inbox: LiveInbox) -> None:
    node = make_node(tmp_path / "node")
    relay = register(node, partner, url=live_inbox.url)
    approve(relay, file_case(node))
    _p, data, _c = relay.envelope(relay.outbox()[0].envelope_id)
    token = relay.partners()[0].token
    url = live_inbox.url + "/relay/v1/envelopes"
    with httpx.Client(timeout=10) as client:
        for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic " + token}):
            r = client.post(url, content=data, headers=headers)
            assert r.status_code == 401 and r.json()["error"] == "unauthorized"
        auth = {"Authorization": f"Bearer {token}"}

        def signed(body: bytes) -> dict[str, str]:
            return {**auth, PUSH_HEADER: sign_push(body, key=node.keys.signing_key)}

        assert client.post(url, content=b"", headers=signed(b"")).json()["error"] == "truncated"
        assert client.post(url, content=b"hello" * 100, headers=signed(b"hello" * 100)).status_code == 400
        big = client.post(url, content=b"x" * (MAX_ENVELOPE + 1), headers=auth)
        assert big.status_code == 413
        ok = client.post(url, content=data, headers=signed(data))
        again = client.post(url, content=data, headers=signed(data))
        assert ok.status_code == again.status_code == 200
        assert json.loads(ok.content)["received_at"] == json.loads(again.content)["received_at"], "idempotent"
    inbox = partner.home.open_inbox()
    try:
        assert inbox.count() == 1
    finally:
        inbox.close()
    relay.store.close()


def inbox_count(partner: Partner) -> int:
    inbox = partner.home.open_inbox()
    try:
        return inbox.count()
    finally:
        inbox.close()


def test_a_push_with_another_nodes_token_gets_no_receipt_and_stores_nothing(
    tmp_path: Path, partner: Partner, live_inbox: LiveInbox
) -> None:
    """Node north pushes with south's token (a mixed-up pairing): refused at the door, not at open."""
    north, south = make_node(tmp_path / "north"), make_node(tmp_path / "south")
    north_relay = register(north, partner, url=live_inbox.url)
    south_relay = register(south, partner, url=live_inbox.url)
    north_token, south_token = north_relay.partners()[0].token, south_relay.partners()[0].token
    with north_relay.store.transaction() as conn:
        conn.execute("UPDATE relay_partners SET token = ?", (south_token,))
    approve(north_relay, file_case(north))
    [row] = north_relay.outbox()
    _p, data, _c = north_relay.envelope(row.envelope_id)
    with httpx.Client(timeout=10) as client:
        result = push(north_relay, client)
        assert not result.delivered
        assert result.failed[row.envelope_id].startswith("HTTP 403: this envelope was not pushed by the node")
        assert not north_relay.outbox()[0].delivered_at, "no receipt: the node keeps it and tells its operator"
        assert inbox_count(partner) == 0, "nothing stored"
        # The same by hand: no proof at all, or a proof by another key, is refused just as well.
        url = live_inbox.url + "/relay/v1/envelopes"
        bare = client.post(url, content=data, headers={"Authorization": f"Bearer {south_token}"})
        assert bare.status_code == 401 and bare.json()["error"] == "no_push_signature"
        forged = sign_push(data, key=north.keys.signing_key)
        wrong = client.post(url, content=data, headers={"Authorization": f"Bearer {south_token}", PUSH_HEADER: forged})
        assert wrong.status_code == 403 and wrong.json()["error"] == "wrong_sender"
        assert "receipt" not in wrong.text
        assert inbox_count(partner) == 0
        # With its own token the very same envelope goes through, and opens.
        with north_relay.store.transaction() as conn:
            conn.execute("UPDATE relay_partners SET token = ?", (north_token,))
        assert push(north_relay, client, force=True).delivered == [row.envelope_id]
    outcomes, _latest, _report = open_all(partner)
    assert [(o.ok, o.node) for o in outcomes] == [(True, "north")]
    north_relay.store.close()
    south_relay.store.close()


def test_an_envelope_waiting_under_one_node_gets_no_receipt_for_another(
    tmp_path: Path, partner: Partner, live_inbox: LiveInbox
) -> None:
    """A registered node that got hold of another's envelope pushes it first, under its own name: the
    real sender gets no receipt until the partner has opened (and refused) that copy."""
    north, south = make_node(tmp_path / "north"), make_node(tmp_path / "south")
    north_relay = register(north, partner, url=live_inbox.url)
    south_relay = register(south, partner, url=live_inbox.url)
    approve(north_relay, file_case(north))
    [row] = north_relay.outbox()
    _p, data, _c = north_relay.envelope(row.envelope_id)
    url = live_inbox.url + "/relay/v1/envelopes"
    south_token = south_relay.partners()[0].token
    with httpx.Client(timeout=10) as client:
        first = client.post(
            url,
            content=data,
            headers={
                "Authorization": f"Bearer {south_token}",
                PUSH_HEADER: sign_push(data, key=south.keys.signing_key),
            },
        )
        assert first.status_code == 200  # south signed the push, so the inbox cannot tell
        result = push(north_relay, client)
        assert result.failed[row.envelope_id].startswith("HTTP 409"), result
        assert not north_relay.outbox()[0].delivered_at, "no receipt for a copy filed under south"
        outcomes, _latest, _report = open_all(partner)
        assert [o.reason for o in outcomes] == ["wrong_sender"]
        assert push(north_relay, client, force=True).delivered == [row.envelope_id], "then it goes through"
    outcomes, _latest, _report = open_all(partner)
    assert [(o.ok, o.node) for o in outcomes] == [(True, "north")]
    north_relay.store.close()
    south_relay.store.close()


def test_push_retries_with_backoff_and_checks_receipts(tmp_path: Path, partner: Partner, live_inbox: LiveInbox) -> None:
    node = make_node(tmp_path / "node")
    relay = register(node, partner, url="http://127.0.0.1:9")  # nothing listens there
    approve(relay, file_case(node))
    with httpx.Client(timeout=5) as client:
        result = push(relay, client)
        assert len(result.failed) == 1 and not result.delivered
        row = relay.outbox()[0]
        assert row.attempts == 1 and "could not be reached" in row.last_error
        assert datetime.fromisoformat(row.next_at) > datetime.now(UTC) + timedelta(seconds=10)
        assert push(relay, client).waiting == 1, "backing off: not tried again at once"
        # The partner moves to its real address; an operator forces the retry.
        with relay.store.transaction() as conn:
            conn.execute("UPDATE relay_partners SET url = ?", (live_inbox.url,))
        assert len(push(relay, client, force=True).delivered) == 1
    relay.store.close()


def test_a_forged_receipt_does_not_mark_delivered(tmp_path: Path, partner: Partner) -> None:
    node = make_node(tmp_path / "node")
    impostor = make_partner(tmp_path / "impostor")
    relay = register(node, partner, url="https://partner.example.org")
    approve(relay, file_case(node))
    from crypto.envelope import read_header, sign_receipt

    def answer(request: httpx.Request) -> httpx.Response:
        header = read_header(request.content)
        return httpx.Response(
            200,
            content=sign_receipt(header.envelope_id, key=impostor.home.inbox_keys().receipt, received_at=clock.now()),
        )

    with httpx.Client(transport=httpx.MockTransport(answer)) as client:
        result = push(relay, client)
    assert not result.delivered and "does not verify" in next(iter(result.failed.values()))
    assert not relay.outbox()[0].delivered_at
    relay.store.close()


def test_withdrawn_consent_cancels_what_was_queued(tmp_path: Path, partner: Partner, live_inbox: LiveInbox) -> None:
    node = make_node(tmp_path / "node")
    relay = register(node, partner, url=live_inbox.url)
    case_id = file_case(node)
    approve(relay, case_id)
    store = relay.store
    CaseWork(store, node.keys).update(case_id, seen_version=store.get_case(case_id).version, consent=0)
    with httpx.Client(timeout=10) as client:
        result = push(relay, client)
    assert result.cancelled and not result.delivered
    assert relay.outbox()[0].cancelled == "consent withdrawn"
    assert export(relay, tmp_path / "usb") == []
    inbox = partner.home.open_inbox()
    try:
        assert inbox.count() == 0
    finally:
        inbox.close()
    store.close()


@pytest.mark.parametrize("profile_home", ["keyring.json", "inbox.key"])
def test_a_partner_home_is_not_readable_at_rest(tmp_path: Path, partner: Partner, profile_home: str) -> None:
    node = make_node(tmp_path / "node")
    relay = register(node, partner)
    approve(relay, file_case(node))
    export(relay, tmp_path / "usb")
    import_folder(partner.home, tmp_path / "usb")
    open_all(partner)
    assert (partner.home.home / profile_home).stat().st_mode & 0o077 == 0
    for path in partner.home.home.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert b"supervisor" not in data and b"Example Electronics" not in data, path
    relay.store.close()
