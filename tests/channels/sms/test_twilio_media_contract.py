"""The calls that clean up after MMS / WhatsApp media, against Prism serving Twilio's own OpenAPI spec:
DELETE .../Messages/{MessageSid}/Media/{Sid}.json, DELETE .../Messages/{Sid}.json and the redaction
POST .../Messages/{Sid}.json (Body=""). A 2xx from Prism means the request is one Twilio documents;
a request its spec does not allow gets 422."""

from __future__ import annotations

from pathlib import Path

import pytest

from channels.sms.media import InboundMedia, MediaFetcher, MediaRef, MessagesGateway
from channels.sms.twilio_rest import TwilioGateway
from intake.services import IntakeService
from tests.conftest import Node, make_node
from tests.prism import prism

__all__ = ["prism"]
pytestmark = pytest.mark.contract
SID = "AC" + "0123456789abcdef" * 2
MESSAGE = "MM" + "1" * 32
MEDIA = "ME" + "2" * 32


@pytest.fixture
def tw_node(tmp_path: Path, prism: str) -> Node:
    return make_node(
        tmp_path / "node", twilio_account_sid=SID, twilio_auth_token="synthetic-token", twilio_api_base=prism
    )


def test_media_cleanup_calls_are_valid_per_twilios_spec(tw_node: Node) -> None:
    gw = MessagesGateway(tw_node.settings)
    assert gw.delete_media(MESSAGE, MEDIA) is True
    assert gw.delete(MESSAGE) is True
    gw.redact(MESSAGE)
    account = f"/2010-04-01/Accounts/{SID}/Messages"
    assert gw.http.calls == [
        ("DELETE", f"{account}/{MESSAGE}/Media/{MEDIA}.json", 204),
        ("DELETE", f"{account}/{MESSAGE}.json", 204),
        ("POST", f"{account}/{MESSAGE}.json", 200),
    ]


def test_a_media_sid_twilio_would_refuse_is_refused(tw_node: Node) -> None:
    gw = MessagesGateway(tw_node.settings)
    assert gw.delete_media(MESSAGE, "MEnot-a-sid") is False
    assert gw.http.calls[-1][2] == 422


def test_the_fetcher_cleans_up_through_the_same_calls(tw_node: Node) -> None:
    service = IntakeService.open(tw_node.settings)
    fetcher = MediaFetcher(service)
    try:
        path = f"/2010-04-01/Accounts/{SID}/Messages/{MESSAGE}/Media/{MEDIA}"
        assert fetcher.process(InboundMedia(MESSAGE, (MediaRef(MEDIA, path),)), store=False) == "deleted"
    finally:
        fetcher.close()
        service.close()


def test_the_pull_lists_a_messages_media_as_twilios_spec_allows(tw_node: Node) -> None:
    gw = MessagesGateway(tw_node.settings)
    listed = gw.media(MESSAGE)  # Prism answers with the spec's example: its SIDs are Media SIDs
    assert all(sid.startswith("ME") for sid in listed)
    assert gw.http.calls == [("GET", f"/2010-04-01/Accounts/{SID}/Messages/{MESSAGE}/Media.json", 200)]


def test_the_pull_lists_the_whatsapp_senders_messages_too(tmp_path: Path, prism: str) -> None:
    node = make_node(
        tmp_path / "wa", twilio_account_sid=SID, twilio_auth_token="synthetic-token", twilio_api_base=prism,
        twilio_number="+15550001111", twilio_whatsapp_from="whatsapp:+14155238886",
    )  # fmt: skip
    gw = TwilioGateway(node.settings)
    for m in gw.inbound(None):
        assert isinstance(m.num_media, int) and m.num_media >= 0
    gw.finished_outbound()
    # Inbound to each address, outbound from each (Prism's example pages on to its own next page).
    firsts = [c for c in gw.http.calls if c == ("GET", f"/2010-04-01/Accounts/{SID}/Messages.json", 200)]
    assert len(firsts) == 4 and all(status == 200 and method == "GET" for method, _p, status in gw.http.calls)
