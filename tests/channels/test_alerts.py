"""Every alert sent, read back from real local servers: SMTP with STARTTLS, an ntfy topic, and Prism
serving Twilio's spec. None carries a report's words, factory, place, phone number or receipt;
each sentence matches a template of intake/alerts.py (the allow-list)."""

from __future__ import annotations

import re
import ssl
from pathlib import Path
from typing import Any

import pytest

from channels.alerts import transports
from channels.sms.service import SmsChannel, SmsInbound, handle_inbound
from channels.sms.twilio_rest import RewritingHttpClient
from intake import alerts
from intake.domain import Category, Channel, Report
from intake.services import IntakeService, accept_report
from tests.channels.alert_servers import Mailbox, Topic, ntfy_server, smtp_server
from tests.conftest import make_node
from tests.prism import prism

__all__ = ["prism"]  # the contract tier's fixture

SID = "AC" + "0123456789abcdef" * 2
MARKERS = ["Zqxdescr", "Zqxfactory", "Zqxtown", "+8613912345678", "13912345678"]
WORKER_SMS = "+8613700137777"


class Recording(RewritingHttpClient):
    """The twilio client's HTTP client, keeping every form it posted (what Prism received)."""

    def __init__(self, base: str) -> None:
        super().__init__(base, timeout=20)
        self.forms: list[dict[str, Any]] = []

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        self.forms.append(dict(kwargs.get("data") or {}))
        return super().request(method, url, *args, **kwargs)


def allowed(text: str, locale: str = "en") -> bool:
    subject, sentences = alerts.templates(locale)
    pattern = "|".join(re.escape(t).replace(re.escape("{n}"), "[0-9]+") for t in sentences)
    return text == subject or re.fullmatch(f"(?:(?:{pattern}) ?)+", text) is not None


def feed(svc: IntakeService) -> list[str]:
    """Urgent reports by web and SMS, each carrying every marker; their receipts."""
    receipts = []
    for n in range(3):
        receipts.append(
            str(
                accept_report(
                    svc,
                    Report(
                        channel=Channel.WEB, description=f"{MARKERS[0]} they beat a worker {n}", factory=MARKERS[1],
                        location=MARKERS[2], phone=MARKERS[3], contact_ok=True, categories=[Category.RETALIATION],
                    ),
                )
            )
        )  # fmt: skip
    sms = SmsChannel(svc)
    for i, text in enumerate(["hello", MARKERS[1], f"{MARKERS[0]} a worker died", "DONE", "9", "1", "1"]):
        for reply in handle_inbound(sms, SmsInbound("smssync", f"s{i}", WORKER_SMS, text)):
            receipts += re.findall(r"[0-9]{4}-[0-9]{4}-[0-9]{4}-[0-9]{4}", reply)
    return receipts


def assert_content_free(texts: list[str], receipts: list[str]) -> None:
    assert texts, "no alert was sent"
    secrets = MARKERS + [WORKER_SMS, WORKER_SMS[1:]] + receipts + [r.replace("-", "") for r in receipts]
    for text in texts:
        for secret in secrets:
            assert secret not in text, "an alert carried a report's content"
        assert "web" not in text.lower() and "sms" not in text.lower(), "no channel"
        assert not re.search(r"[0-9]{1,2}:[0-9]{2}|20[0-9]{2}", text), "no time"
        assert allowed(text), f"not a content-free template: {text!r}"


def test_every_alert_by_email_and_ntfy_is_content_free(tmp_path: Path) -> None:
    with smtp_server(tmp_path) as box, ntfy_server() as topic:
        node = make_node(
            tmp_path / "node", alert_email_to="coord@example.org,second@example.org", smtp_host="127.0.0.1",
            smtp_port=box.port, smtp_user="alerts", smtp_password="synthetic-pass", smtp_from="intake@example.org",
            alert_ntfy_url=topic.url, alert_ntfy_token="tk_synthetic",
        )  # fmt: skip
        svc = IntakeService.open(node.settings)
        try:
            receipts = feed(svc)
            assert len(receipts) >= 4
            context = ssl.create_default_context(cafile=str(box.cafile))
            send = alerts.AlertSender(node.settings, svc.inbox, transports(node.settings, ssl_context=context))
            assert send.run_once() == 3
        finally:
            svc.close()
        check_mail(box, receipts)
        check_topic(topic, receipts)


def check_mail(box: Mailbox, receipts: list[str]) -> None:
    assert len(box.messages) == 2 and all(box.tls), "every mail went over STARTTLS"
    assert box.logins == ["alerts:synthetic-pass"] * 2
    assert sorted(str(m["To"]) for m in box.messages) == ["coord@example.org", "second@example.org"]
    for raw, message in zip(box.raw, box.messages, strict=True):
        assert message["Date"] is None
        body = message.get_content().strip()
        assert body == "4 urgent reports are waiting. Open the desk to see them."
        assert_content_free([str(message["Subject"]), body], receipts)
        assert_content_free([str(message["Subject"])], receipts)
        for secret in MARKERS + receipts:
            assert secret.encode() not in raw


def check_topic(topic: Topic, receipts: list[str]) -> None:
    assert len(topic.posts) == 1
    path, headers, body = topic.posts[0]
    assert path == "/coordinators-7f3a" and headers["Authorization"] == "Bearer tk_synthetic"
    assert_content_free([body.decode("utf-8")], receipts)
    for secret in MARKERS + receipts:
        assert secret.encode() not in body and all(secret not in v for v in headers.values())


@pytest.mark.contract
def test_every_alert_by_twilio_sms_is_content_free_and_valid_per_twilios_spec(tmp_path: Path, prism: str) -> None:
    node = make_node(
        tmp_path / "node", alert_sms_to="+4915112345678,+4915187654321", twilio_account_sid=SID,
        twilio_auth_token="synthetic-token", twilio_number="+15550001111", twilio_api_base=prism,
    )  # fmt: skip
    svc = IntakeService.open(node.settings)
    http = Recording(prism)
    try:
        receipts = feed(svc)
        send = alerts.AlertSender(node.settings, svc.inbox, transports(node.settings, twilio_http=http))
        assert send.run_once() == 2
        assert [status for _, _, status in http.calls] == [201, 201], "Prism accepted each as Twilio would"
    finally:
        svc.close()
    assert sorted(f["To"] for f in http.forms) == ["+4915112345678", "+4915187654321"]
    assert_content_free([f["Body"] for f in http.forms], receipts)


def test_intake_serve_runs_the_sender_and_stops_it(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from channels.server import create_intake_app

    with ntfy_server() as topic:
        node = make_node(tmp_path / "node", alert_ntfy_url=topic.url)
        app = create_intake_app(node.settings)
        with TestClient(app, base_url="http://testserver"):
            sender = app.state.alerts
            assert isinstance(sender, alerts.AlertSender) and sender._thread is not None
            assert sender._thread.is_alive()
        assert not sender._thread.is_alive(), "stopped with the server"
    off = make_node(tmp_path / "off")
    app = create_intake_app(off.settings)
    with TestClient(app, base_url="http://testserver"):
        assert app.state.alerts is None
