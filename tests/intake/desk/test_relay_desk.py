"""The relay's review gate in the desk: coordinators only, removals highlighted, approval bound to
what the page showed, CSRF on every form, and what reached cases.db."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape
from nacl.public import PrivateKey
from nacl.signing import SigningKey

from crypto import Keyring, Role
from crypto.envelope import partner_key_string
from i18n import d_
from intake.desk.app import create_desk_app
from intake.domain import Consent
from relay.gate import Relay
from tests.conftest import TEST_PROFILE, Node, drain_node
from tests.intake.desk import cases_store, csrf_of, login, report

WORDS = "My name is Tran Thi Mai, badge no. 88213. Call 0912 345 678. We are paid 3 million dong late every month."


@pytest.fixture
def desk(node: Node) -> Iterator[TestClient]:
    with TestClient(create_desk_app(node.settings), base_url="http://127.0.0.1:8001") as client:
        assert login(client, node).status_code == 303
        yield client


def consented_case(node: Node, consent: Consent = Consent.ANONYMISED) -> int:
    report(node, WORDS, locale="vi", consent=consent, factory="Nha may Mau")
    _, cases = drain_node(node)
    return max(c.id for c in cases)


def add_partner(node: Node) -> None:
    with cases_store(node) as store:
        key = partner_key_string(PrivateKey.generate().public_key, SigningKey.generate().verify_key)
        Relay(store, node.keys).add_partner("monitor", key)


def outbox(node: Node) -> list[tuple[object, ...]]:
    with cases_store(node) as store:
        return [tuple(r) for r in store._conn.execute("SELECT case_id, summary_hash FROM relay_outbox")]


def shown_hash(page: str) -> str:
    match = re.search(r'name="hash" value="([0-9a-f]{64})"', page)
    assert match, "no approval form"
    return match.group(1)


def test_the_review_page_highlights_every_removal(node: Node, desk: TestClient) -> None:
    case_id = consented_case(node)
    page = desk.get(f"/cases/{case_id}/relay")
    assert page.status_code == 200
    text = html.unescape(page.text)
    summary = text.split('class="words summary"')[1].split("</blockquote>")[0]
    for secret in ("Tran Thi Mai", "88213", "0912 345 678"):
        assert secret not in summary
        assert f">{secret}</del>" in text, f"{secret} shown struck through in the source"
    assert summary.count("<mark") >= 3
    assert "3 million dong" in summary
    assert d_("Waiting for review") in text
    assert f'href="/cases/{case_id}/relay"' in desk.get(f"/cases/{case_id}").text, "linked from the case page"
    assert f'href="/cases/{case_id}/relay"' in desk.get("/relay").text
    with cases_store(node) as store:
        views = store._conn.execute("SELECT count(*) FROM audit WHERE action = 'view' AND case_id = ?", (case_id,))
        assert views.fetchone()[0] >= 2, "the review page is a view of the case, audited"


def test_approving_seals_what_was_shown_and_a_stale_page_is_refused(node: Node, desk: TestClient) -> None:
    add_partner(node)
    case_id = consented_case(node)
    page = desk.get(f"/cases/{case_id}/relay").text
    first = shown_hash(page)
    # Someone edits the narrative in another tab; the first page's approval no longer holds.
    r = desk.post(
        f"/cases/{case_id}/relay/save",
        data={"csrf": csrf_of(page), "narrative": "Paid late every month.", "names": "", "workers_affected": "3"},
    )
    assert r.status_code == 200
    r = desk.post(f"/cases/{case_id}/relay/approve", data={"csrf": csrf_of(page), "hash": first})
    assert r.status_code == 409
    assert (
        str(escape(d_("The summary changed since you saw it (someone edited the case). Check it again, then approve.")))
        in r.text
    )
    assert outbox(node) == []
    page = desk.get(f"/cases/{case_id}/relay").text
    assert "Paid late every month." in page and ">2-9<" in page
    second = shown_hash(page)
    r = desk.post(f"/cases/{case_id}/relay/approve", data={"csrf": csrf_of(page), "hash": second})
    assert r.status_code == 200 and d_("Approved") in r.text
    assert outbox(node) == [(case_id, second)]
    r = desk.post(f"/cases/{case_id}/relay/withdraw", data={"csrf": csrf_of(page)})
    assert r.status_code == 200
    with cases_store(node) as store:
        assert store._conn.execute("SELECT cancelled FROM relay_outbox").fetchone()[0] == "approval withdrawn"


def test_consent_zero_and_two(node: Node, desk: TestClient) -> None:
    add_partner(node)
    internal = consented_case(node, Consent.INTERNAL)
    page = desk.get(f"/cases/{internal}/relay").text
    assert 'name="hash"' not in page
    assert str(escape(d_("Not shared: the worker did not consent"))) in page
    r = desk.post(f"/cases/{internal}/relay/approve", data={"csrf": csrf_of(page), "hash": "0" * 64})
    assert r.status_code == 409 and outbox(node) == []
    named = consented_case(node, Consent.WITH_NAME)
    page = desk.get(f"/cases/{named}/relay").text
    assert 'name="hash"' not in page and 'name="named_confirmed"' in page
    r = desk.post(
        f"/cases/{named}/relay/save",
        data={
            "csrf": csrf_of(page),
            "narrative": "Paid late.",
            "names": "",
            "workers_affected": "1",
            "named_confirmed": "1",
        },
    )
    assert r.status_code == 200
    page = desk.get(f"/cases/{named}/relay").text
    r = desk.post(f"/cases/{named}/relay/approve", data={"csrf": csrf_of(page), "hash": shown_hash(page)})
    assert r.status_code == 200 and len(outbox(node)) == 1


def test_bad_input_is_refused_clearly(node: Node, desk: TestClient) -> None:
    case_id = consented_case(node)
    page = desk.get(f"/cases/{case_id}/relay").text
    for fields, message in (
        ({"workers_affected": "many"}, "Workers affected must be a number from 1."),
        ({"workers_affected": "0"}, "Workers affected must be a number from 1."),
        ({"narrative": "x" * 8001}, "The narrative is too long (at most 8000 characters)."),
    ):
        r = desk.post(f"/cases/{case_id}/relay/save", data={"csrf": csrf_of(page), **fields})
        assert r.status_code == 400 and str(escape(d_(message))) in r.text
    assert desk.get("/cases/99999/relay").status_code == 404
    for path in ("save", "approve", "withdraw"):
        r = desk.post(f"/cases/{case_id}/relay/{path}", data={"csrf": "forged", "hash": shown_hash(page)})
        assert r.status_code == 403
    assert outbox(node) == []


def test_only_a_coordinator_reviews(node: Node) -> None:
    case_id = consented_case(node)
    ring = Keyring.load(node.settings.keyring_path)
    ring.add_user(node.keys, "worker1", "caseworker passphrase 1", role=Role.CASEWORKER, profile=TEST_PROFILE)
    with TestClient(create_desk_app(node.settings), base_url="http://127.0.0.1:8001") as client:
        assert login(client, node, "worker1", "caseworker passphrase 1").status_code == 303
        for path in ("/relay", f"/cases/{case_id}/relay"):
            assert client.get(path).status_code == 403
        token = csrf_of(client.get("/cases").text)
        r = client.post(f"/cases/{case_id}/relay/approve", data={"csrf": token, "hash": "0" * 64})
        assert r.status_code == 403
        assert f"/cases/{case_id}/relay" not in client.get(f"/cases/{case_id}").text
    assert outbox(node) == []
