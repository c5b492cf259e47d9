"""The Recordings calls the hotline makes, against Prism serving Twilio's own OpenAPI spec."""

from __future__ import annotations

from pathlib import Path

import pytest

from channels.sms.twilio_rest import RecordingsGateway
from intake.errors import GatewayError
from tests.conftest import make_node

pytestmark = pytest.mark.contract
SID = "AC" + "0123456789abcdef" * 2


def test_list_and_delete_recordings_are_valid_per_twilios_spec(tmp_path: Path, prism: str) -> None:
    node = make_node(
        tmp_path / "n", twilio_account_sid=SID, twilio_auth_token="synthetic", twilio_number="+15550001111",
        twilio_api_base=prism,
    )  # fmt: skip
    gw = RecordingsGateway(node.settings)
    found = gw.recordings()
    assert found and all(r.sid.startswith("RE") for r in found)
    assert gw.delete_recording(found[0].sid) is True
    assert gw.delete_recording("REnot-a-sid") is False  # Prism: 422, as Twilio would refuse it
    ours = [gw.http.calls[0]] + [c for c in gw.http.calls if c[0] != "GET"]
    assert all(path.startswith(f"/2010-04-01/Accounts/{SID}/Recordings") for _, path, _ in ours)
    assert [s for m, _, s in gw.http.calls if m == "DELETE"] == [204, 422]
    assert gw.media_url(found[0].sid) == f"{prism}/2010-04-01/Accounts/{SID}/Recordings/{found[0].sid}.mp3"


def test_unreachable_twilio_is_a_retryable_error(tmp_path: Path, prism: str) -> None:
    from tests.conftest import free_port

    node = make_node(
        tmp_path / "n", twilio_account_sid=SID, twilio_auth_token="synthetic", twilio_number="+15550001111",
        twilio_api_base=f"http://127.0.0.1:{free_port()}",
    )  # fmt: skip
    with pytest.raises(GatewayError) as info:
        RecordingsGateway(node.settings).recordings()
    assert info.value.retry


def test_hotline_call_records_are_listed_and_deleted_per_twilios_spec(tmp_path: Path, prism: str) -> None:
    node = make_node(
        tmp_path / "n", twilio_account_sid=SID, twilio_auth_token="synthetic", twilio_number="+15550001111",
        twilio_api_base=prism,
    )  # fmt: skip
    gw = RecordingsGateway(node.settings)
    calls = gw.finished_calls("+15550001111")
    assert all(sid.startswith("CA") for sid in calls)
    listed = [(m, path, st) for m, path, st in gw.http.calls if m == "GET"]
    assert listed and all(path == f"/2010-04-01/Accounts/{SID}/Calls.json" for _, path, _ in listed)
    assert gw.delete_call("CA" + "0123456789abcdef" * 2) is True
    assert gw.delete_call("CAnot-a-sid") is False  # refused (as Twilio refuses an unfinished call)
    assert [s for m, _, s in gw.http.calls if m == "DELETE"] == [204, 422]


def test_a_call_back_is_placed_per_twilios_spec(tmp_path: Path, prism: str) -> None:
    """The desk's queued call-back, sent by `intake sms pull`: a POST to the Calls resource (issue 15)."""
    from channels.sms.pull import pull
    from channels.sms.service import SmsChannel
    from channels.sms.twilio_rest import TwilioGateway
    from channels.voice.callback_token import call_body, seal_token
    from intake.services import IntakeService

    node = make_node(
        tmp_path / "n", twilio_account_sid=SID, twilio_auth_token="synthetic", twilio_number="+15550001111",
        twilio_api_base=prism, public_url="https://intake.example.org",
    )  # fmt: skip
    gw = TwilioGateway(node.settings)
    assert gw.call("+15550002222", "https://intake.example.org/twilio/voice/callback?t=abc").startswith("CA")
    service = IntakeService.open(node.settings)
    try:
        sms = SmsChannel(service)
        body = call_body(seal_token(node.settings, "q1", "en"))
        service.inbox.queue("twilio", *sms.seal_recipient("+15550002222", body))
        result = pull(sms, gw)
        # (Prism's example inbound message gets an SMS reply in the same pull: sent counts both.)
        assert result.sent >= 1 and not result.dropped and service.inbox.outbox_due("twilio", 2**62) == []
    finally:
        service.close()
    calls = [status for m, path, status in gw.http.calls if m == "POST" and path.endswith("/Calls.json")]
    assert calls == [201, 201]  # the direct call and the queued call-back, both valid per the spec
