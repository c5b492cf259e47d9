"""``intake doctor`` counts the replies to WhatsApp workers that wait for the worker to write again
(their 24-hour window closed: docs/sms.md#whatsapp), as the SMS channel does, without importing it:
ok while they are recent, a warning once the oldest waited more than a week (issues 16, 17)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from typer.testing import CliRunner

from channels.sms.service import SmsChannel
from channels.voice.callback_token import call_body
from intake import clock, whatsapp
from intake.cli.app import app
from intake.doctor import Finding, Level, diagnose
from intake.services import IntakeService
from tests.conftest import Node
from tests.intake.cli.test_doctor import healthy_node

WA = "whatsapp:+8613800138000"
WA_OPEN = "whatsapp:+8613800138002"  # wrote an hour ago: their window is open
SMS = "+8613800138001"


def whatsapp_findings(node: Node) -> list[Finding]:
    report = diagnose(node.home, load=lambda: node.settings, unlock=lambda _s: node.keys)
    return [f for f in report.findings if f.check == "whatsapp"]


def test_replies_waiting_for_a_whatsapp_worker_are_counted_then_warned_about(tmp_path: Path) -> None:
    node, pass_file = healthy_node(tmp_path, in_process=True)
    assert whatsapp_findings(node) == [], "nothing waits: nothing said"
    service = IntakeService.open(node.settings)
    try:
        sms = SmsChannel(service)
        now = clock.now()
        whatsapp.wrote(service, sms.reporter(WA), now - timedelta(hours=30))
        whatsapp.wrote(service, sms.reporter(WA_OPEN), now - timedelta(hours=1))
        for to, text in [
            (WA, "Synthetic reply one"), (WA, "Synthetic reply two"), (WA, call_body("token")),  # a call: no text
            ("whatsapp:+86 138 0013 8000", "Synthetic reply three"),  # the same worker, written otherwise
            (WA_OPEN, "Synthetic reply four"), (SMS, "Synthetic reply five"),
        ]:  # fmt: skip
            service.inbox.queue("twilio", *sms.seal_recipient(to, text))
        assert sms.whatsapp_waiting(WA, clock.time()) == 3, "the channel's own count"
    finally:
        service.close()
    [finding] = whatsapp_findings(node)
    assert finding.level is Level.OK and finding.fix == ""
    assert finding.message == (
        "3 WhatsApp replies wait for the worker to write again; WhatsApp allows only approved templates after 24 hours."
    )
    # The CLI in this process: its backup and outbox times are this test's clock (years ahead under
    # INTAKE_TEST_YEARS_AHEAD), which a doctor in a process of its own would rightly find in its future.
    env = {"INTAKE_PASSPHRASE": node.passphrase}
    out = CliRunner().invoke(app, ["--home", str(node.home), "doctor", "--passphrase-file", str(pass_file)], env=env)
    assert out.exit_code == 0 and "  whatsapp: 3 WhatsApp replies wait" in out.output, out.output
    assert "Synthetic" not in out.output and "8613800138000" not in out.output
    with clock.use(clock.FixedClock(clock.now() + timedelta(days=8))):
        [late] = whatsapp_findings(node)
    assert late.level is Level.WARN, "a week on: someone should reach the worker another way"
    assert late.message.startswith("4 WhatsApp replies wait"), "the open window has closed too"
    assert "The oldest has waited 8 days" in late.fix
