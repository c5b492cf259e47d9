"""A partner's message on the desk's case page, and passing it on to the worker (issue 15, item 4):
the caseworker picks a template, reviews it in the worker's language in the reply box, posts it, and
the worker's status board shows it; the message is marked passed on, in the audit log too."""

from __future__ import annotations

import html
import re
from pathlib import Path

from fastapi.testclient import TestClient

from intake.desk.app import create_desk_app
from intake.domain import Category, Consent
from intake.replies import PASS_ON_TEMPLATES, reply_template
from intake.services import IntakeService, read_status
from tests.conftest import drain_node, make_node
from tests.intake.desk import cases_store, csrf_of, login, report
from tests.relay.conftest import make_partner
from tests.relay.test_partner import approve, open_all, register
from tests.relay.test_partner_messages import ask, receive, sealed, stored

QUESTION = "The brand says it paid. <script>alert(1)</script> Can the workers confirm?"


def test_the_desk_shows_a_partner_message_and_passes_it_on_in_the_workers_language(tmp_path: Path) -> None:
    node, partner = make_node(tmp_path / "north"), make_partner(tmp_path / "partner")
    relay = register(node, partner)
    receipt = report(
        node, "No nos pagaron las horas extra de octubre.", locale="es", consent=Consent.ANONYMISED,
        factory="Example Electronics", categories=[Category.WAGES],
    )  # fmt: skip
    drain_node(node)
    case_id = max(c.id for c in relay.store.list_cases())
    approve(relay, case_id)
    from relay.partner.inbox import import_folder
    from relay.transport import export

    export(relay, tmp_path / "usb")
    relay.store.close()
    import_folder(partner.home, tmp_path / "usb")
    ref = open_all(partner)[0][0].case_ref
    ask(partner, ref, QUESTION, kind="brand_response")
    from relay.partner.outgoing import export as partner_export

    [path] = partner_export(partner.home, tmp_path / "back")
    assert receive(node, path.read_bytes()).status == "stored"
    [message] = stored(node, case_id)

    with TestClient(create_desk_app(node.settings), base_url="http://127.0.0.1:8001") as client:
        assert login(client, node).status_code == 303
        page = client.get(f"/cases/{case_id}").text
        assert "Messages from partners" in page and "monitor" in page
        assert html.escape(QUESTION, quote=False) in page or html.escape(QUESTION) in page, "shown, escaped"
        assert "<script>alert(1)</script>" not in page
        assert "Brand&#39;s response" in page or "Brand's response" in page

        prepared = client.get(f"/cases/{case_id}", params={"template": "brand_replied", "partner_message": message.id})
        expected = reply_template("brand_replied", "es")
        assert expected and expected in html.unescape(prepared.text), "the reply box holds the worker's-language text"
        assert f'name="partner_message" value="{message.id}"' in prepared.text
        assert QUESTION not in html.unescape(
            re.search(r"<textarea id=\"reply\".*?</textarea>", prepared.text, re.S).group()
        )  # type: ignore[union-attr]

        posted = client.post(
            f"/cases/{case_id}/reply",
            data={"csrf": csrf_of(prepared.text), "text": expected, "partner_message": str(message.id),
                  "pass_on_template": "brand_replied"},
        )  # fmt: skip
        assert posted.status_code == 200 and "Reply posted on the status board." in posted.text
        assert "Passed on to the worker" in posted.text

    service = IntakeService.open(node.settings)
    try:
        board = read_status(service, receipt)
    finally:
        service.close()
    assert [body for _at, body in board.messages] == [expected], "the worker reads it on their status board"
    [after] = stored(node, case_id)
    assert after.passed_on_template == "brand_replied" and after.passed_on_by == node.user and after.passed_on_at
    with cases_store(node) as store:
        actions = [r[0] for r in store._conn.execute("SELECT action FROM audit WHERE case_id = ?", (case_id,))]
    assert "partner_message" in actions and "partner_message_passed_on" in actions


def test_a_pass_on_naming_another_cases_message_marks_nothing(tmp_path: Path) -> None:
    node, partner = make_node(tmp_path / "north"), make_partner(tmp_path / "partner")
    relay = register(node, partner)
    report(node, "Wages late again.", consent=Consent.ANONYMISED, factory="Example Electronics")
    report(node, "Another case.", consent=Consent.ANONYMISED, factory="Example Electronics")
    drain_node(node)
    first, second = sorted(c.id for c in relay.store.list_cases())
    approve(relay, first)
    from relay.partner.inbox import import_folder
    from relay.transport import export

    export(relay, tmp_path / "usb")
    relay.store.close()
    import_folder(partner.home, tmp_path / "usb")
    ref = open_all(partner)[0][0].case_ref
    assert receive(node, sealed(partner, node, ref)).status == "stored"
    [message] = stored(node, first)
    with TestClient(create_desk_app(node.settings), base_url="http://127.0.0.1:8001") as client:
        login(client, node)
        page = client.get(f"/cases/{second}", params={"template": "escalated", "partner_message": message.id}).text
        assert 'name="pass_on_template"' not in page, "not this case's message"
        client.post(
            f"/cases/{second}/reply",
            data={"csrf": csrf_of(page), "text": "Hello", "partner_message": str(message.id),
                  "pass_on_template": "escalated"},
        )  # fmt: skip
        bad = client.get(f"/cases/{first}", params={"template": "nope", "partner_message": message.id}).text
        assert 'name="pass_on_template"' not in bad, "no such template"
    assert stored(node, first)[0].passed_on_at == ""
    assert set(PASS_ON_TEMPLATES) == {"partner_asked", "brand_replied", "buyer_replied", "escalated"}
