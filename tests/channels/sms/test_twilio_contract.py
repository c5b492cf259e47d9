"""Every Twilio REST call the project makes, against Prism serving Twilio's own OpenAPI spec.

Prism answers 422 to a request its spec does not allow and 401 to one without credentials, so a
2xx here means the call is one Twilio documents.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from channels.sms.pull import pull
from channels.sms.service import SmsChannel, SmsInbound, handle_inbound
from channels.sms.twilio_rest import RewritingHttpClient, TwilioGateway
from intake.errors import GatewayError
from intake.services import IntakeService
from tests.conftest import Node, free_port, make_node

pytestmark = pytest.mark.contract
SID = "AC" + "0123456789abcdef" * 2
NUMBER = "+15550001111"


@pytest.fixture
def tw_node(tmp_path: Path, prism: str) -> Node:
    return make_node(
        tmp_path / "node", twilio_account_sid=SID, twilio_auth_token="synthetic-token", twilio_number=NUMBER,
        twilio_api_base=prism,
    )  # fmt: skip


def gateway(node: Node) -> TwilioGateway:
    return TwilioGateway(node.settings)


def test_each_rest_call_is_valid_per_twilios_spec(tw_node: Node) -> None:
    gw = gateway(tw_node)
    assert isinstance(gw.inbound(datetime(2026, 11, 1, tzinfo=UTC)), list)
    outbound = gw.finished_outbound()
    assert outbound, "Twilio's example list holds finished outbound messages"
    assert gw.send("+8613800138000", "Your report: received, no reply yet.").startswith("SM")
    assert gw.delete(outbound[0].sid) is True
    gw.redact(outbound[0].sid)
    calls = gw.http.calls
    assert {(m, p.rsplit("/", 1)[-1] if m != "GET" else "Messages.json") for m, p, _ in calls} >= {
        ("GET", "Messages.json"), ("POST", "Messages.json"), ("DELETE", f"{outbound[0].sid}.json"), ("POST", f"{outbound[0].sid}.json"),
    }  # fmt: skip
    assert all(200 <= status < 300 for _, _, status in calls), calls
    # Our own requests name our account (later GETs follow the example's next_page_uri, so skip them).
    ours = [calls[0]] + [c for c in calls if c[0] != "GET"]
    assert all(path.startswith(f"/2010-04-01/Accounts/{SID}/Messages") for _, path, _ in ours)


def test_a_request_twilio_would_refuse_is_refused(tw_node: Node) -> None:
    gw = gateway(tw_node)
    # Not a message sid by the spec's pattern: Prism answers 422, as Twilio would refuse it.
    assert gw.delete("SMnot-a-sid") is False
    assert gw.http.calls[-1][2] == 422
    with pytest.raises(GatewayError) as info:
        gw.redact("SMnot-a-sid")
    assert info.value.retry is False and info.value.http_status == 422


def test_pull_sends_queued_replies_and_cleans_up(tw_node: Node) -> None:
    service = IntakeService.open(tw_node.settings)
    try:
        desk = SmsChannel(service)
        # A conversation that reached the node by polling earlier: its replies wait in the outbox.
        handle_inbound(desk, SmsInbound("twilio", "SM" + "1" * 32, "+8613800138000", "hello"), queue_replies=True)
        assert len(service.inbox.outbox_due("twilio", 2**62)) == 1
        gw = gateway(tw_node)
        result = pull(desk, gw)
        assert result.sent >= 1 and result.cleaned >= 1 and not result.offline
        assert service.inbox.outbox_due("twilio", 2**62) == []
        assert all(200 <= s < 300 for _, _, s in gw.http.calls)
    finally:
        service.close()


def test_offline_keeps_everything_then_catches_up(tw_node: Node) -> None:
    service = IntakeService.open(tw_node.settings)
    try:
        desk = SmsChannel(service)
        handle_inbound(desk, SmsInbound("twilio", "SM" + "2" * 32, "+8613800138000", "hello"), queue_replies=True)
        dead = replace(tw_node.settings, twilio_api_base=f"http://127.0.0.1:{free_port()}")
        result = pull(desk, TwilioGateway(dead, RewritingHttpClient(dead.twilio_api_base, timeout=2)))
        assert result.offline and result.sent == 0 and result.retrying == 1
        assert service.inbox.outbox_due("twilio", 2**62), "the reply is still queued"
        assert service.inbox.outbox_due("twilio", int(datetime.now(UTC).timestamp())) == [], "and backs off"
        later = pull(desk, gateway(tw_node), now=datetime.now(UTC).timestamp() + 7200)
        assert later.sent >= 1 and not later.offline
        assert service.inbox.outbox_due("twilio", 2**62) == []
    finally:
        service.close()
