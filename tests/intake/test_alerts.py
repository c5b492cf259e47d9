"""Content-free alerts, the core (intake/alerts.py): what is counted, coalescing, retries, refusal."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from channels.alerts import transports
from channels.sms.service import SmsChannel, SmsInbound, handle_inbound
from intake import alerts
from intake.doctor import Level, diagnose
from intake.domain import Channel, Report
from intake.errors import SettingsError
from intake.services import IntakeService, accept_report
from intake.settings import Settings
from intake.store import alerts as queue
from intake.store.actions import Actions
from intake.store.casework import CaseWork
from tests.channels.alert_servers import Topic, hanging_server, ntfy_server
from tests.conftest import Node, free_port, make_node
from tests.intake.desk import cases_store
from tests.intake.desk.test_desk_app import one_case

URGENT = "The supervisor hit a worker on line 3 and she fainted"
CALM = "The canteen food is cold"
WORKER = "+8613800138000"


@pytest.fixture
def topic() -> Iterator[Topic]:
    with ntfy_server() as t:
        yield t


def alert_node(tmp_path: Path, **overrides: object) -> Node:
    return make_node(tmp_path / "node", **overrides)


def report(text: str) -> Report:
    return Report(channel=Channel.WEB, description=text, factory="Factory", location="Town")


def sender(node: Node, svc: IntakeService, **kw: object) -> alerts.AlertSender:
    return alerts.AlertSender(node.settings, svc.inbox, transports(node.settings, **kw))  # type: ignore[arg-type]


def test_an_urgent_report_is_counted_and_a_calm_one_is_not(tmp_path: Path, topic: Topic) -> None:
    node = alert_node(tmp_path, alert_ntfy_url=topic.url)
    svc = IntakeService.open(node.settings)
    try:
        accept_report(svc, report(CALM))
        assert queue.counts(svc.inbox) == {}
        accept_report(svc, report(URGENT))
        accept_report(svc, report(URGENT))
        assert queue.counts(svc.inbox) == {"urgent": 2}
        # nothing about urgency is stored beside the items: the items table holds sealed blobs only
        cols = [r[1] for r in svc.inbox._conn.execute("PRAGMA table_info(items)").fetchall()]
        assert cols == ["seq", "id", "blob", "received_at"]
        assert sender(node, svc).run_once() == 1
        assert [body.decode() for _, _, body in topic.posts] == [
            "2 urgent reports are waiting. Open the desk to see them."
        ]
        assert queue.counts(svc.inbox) == {}
    finally:
        svc.close()


def test_with_alerts_off_nothing_is_counted(node: Node, service: IntakeService) -> None:
    assert not node.settings.alerts_on
    accept_report(service, report(URGENT))
    assert queue.counts(service.inbox) == {}


def test_notices_are_coalesced_and_counts_summed(tmp_path: Path, topic: Topic) -> None:
    node = alert_node(tmp_path, alert_ntfy_url=topic.url, alert_every_minutes=15)
    svc = IntakeService.open(node.settings)
    try:
        send = sender(node, svc)
        accept_report(svc, report(URGENT))
        assert send.run_once(now=1_000_000) == 1
        for _ in range(3):
            accept_report(svc, report(URGENT))
        assert send.run_once(now=1_000_000 + 14 * 60) == 0, "a second notice within 15 minutes"
        assert send.run_once(now=1_000_000 + 15 * 60) == 1
        assert [b.decode().split(".")[0] for _, _, b in topic.posts] == [
            "1 urgent report is waiting",
            "3 urgent reports are waiting",
        ]
    finally:
        svc.close()


def test_a_dead_alert_service_blocks_nothing_and_is_retried_with_backoff(tmp_path: Path, topic: Topic) -> None:
    dead = f"http://127.0.0.1:{free_port()}/topic"
    node = alert_node(tmp_path, alert_ntfy_url=dead, alert_every_minutes=1)
    svc = IntakeService.open(node.settings)
    try:
        send = sender(node, svc)
        accept_report(svc, report(URGENT))
        assert send.run_once(now=1_000_000) == 0
        [row] = svc.inbox._conn.execute("SELECT attempts, next_at, urgent FROM alert_outbox").fetchall()
        assert tuple(row) == (1, 1_000_000 + alerts.backoff(1), 1)
        accept_report(svc, report(URGENT))  # intake goes on; the count waits
        assert send.run_once(now=1_000_000 + 90) == 0
        [row] = svc.inbox._conn.execute("SELECT attempts, next_at, urgent FROM alert_outbox").fetchall()
        assert tuple(row) == (2, 1_000_000 + 90 + alerts.backoff(2), 2), "summed into the waiting notice"
        assert alerts.backoff(2) == 2 * alerts.backoff(1) and alerts.backoff(50) == alerts.BACKOFF_MAX
        # the service comes back (same node, now pointed at a live topic): one notice with both
        live = Settings.load(node.home, env={}, alert_ntfy_url=topic.url, alert_every_minutes=1)
        svc.inbox._conn.execute("UPDATE alert_outbox SET recipient = ?", (topic.url,))
        back = alerts.AlertSender(live, svc.inbox, transports(live))
        assert back.run_once(now=1_000_000 + 90 + alerts.backoff(2)) == 1
        assert [b.decode() for _, _, b in topic.posts] == ["2 urgent reports are waiting. Open the desk to see them."]
    finally:
        svc.close()


def test_a_hanging_alert_service_does_not_slow_intake(tmp_path: Path) -> None:
    with hanging_server() as hang:
        node = alert_node(tmp_path, alert_ntfy_url=f"http://127.0.0.1:{hang.port}/topic", alert_every_minutes=1)
        svc = IntakeService.open(node.settings)
        try:
            accept_report(svc, report(URGENT))
            send = sender(node, svc, timeout=60.0)
            stuck = threading.Thread(target=send.run_once, daemon=True)
            stuck.start()
            assert hang.accepted.wait(30), "the sender reached the hanging server"
            # while the sender waits on the hanging service, reports are stored and counted
            for _ in range(5):
                accept_report(svc, report(URGENT))
            assert stuck.is_alive(), "the sender is still held by the hanging server"
            assert queue.counts(svc.inbox) == {"urgent": 5}
            assert svc.inbox.count() == 6
            hang.drop()  # the service gives up: the sender records a failed try and lets go
            stuck.join(60)
            [row] = svc.inbox._conn.execute("SELECT attempts, urgent FROM alert_outbox").fetchall()
            assert tuple(row) == (1, 1)
        finally:
            svc.close()


def test_an_sms_report_is_counted_when_stored_and_its_words_never_leave_memory(tmp_path: Path, topic: Topic) -> None:
    node = alert_node(tmp_path, alert_ntfy_url=topic.url)
    svc = IntakeService.open(node.settings)
    try:
        sms = SmsChannel(svc)
        for i, text in enumerate(["hello", "Acme", URGENT]):
            handle_inbound(sms, SmsInbound("smssync", f"m{i}", WORKER, text))
        assert queue.counts(svc.inbox) == {}, "counted when the report is stored, not before"
        for i, text in enumerate(["DONE", "9", "1", "2"], start=3):
            handle_inbound(sms, SmsInbound("smssync", f"m{i}", WORKER, text))
        assert svc.inbox.count() == 1
        assert queue.counts(svc.inbox) == {"urgent": 1}
        [state] = svc.inbox._conn.execute("SELECT count(*) FROM sms_sessions").fetchone()
        assert state == 0
    finally:
        svc.close()


def test_the_alert_hash_of_a_number_is_the_sms_sessions_hash(service: IntakeService) -> None:
    from intake.node import SESSION_LABEL, IntakeKeys

    key = IntakeKeys.load(service.settings.intake_key_path).key(SESSION_LABEL)
    sms = SmsChannel(service)
    assert alerts.number_hashes(key, WORKER) == [sms.reporter(WORKER), sms.reporter("whatsapp:" + WORKER)]


def test_a_reporting_workers_number_as_recipient_is_refused(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    sid, coordinator = "AC" + "0" * 32, "+4915112345678"
    node = alert_node(
        tmp_path, alert_sms_to=f"{coordinator},{WORKER}", twilio_account_sid=sid, twilio_auth_token="t",
        twilio_number="+15550001111",
    )  # fmt: skip
    svc = IntakeService.open(node.settings)
    sent: list[str] = []
    try:
        assert alerts.refused_entries(node.settings, svc.inbox) == []
        handle_inbound(SmsChannel(svc), SmsInbound("smssync", "w1", WORKER, "hello"))  # a worker starts a report
        assert alerts.refused_entries(node.settings, svc.inbox) == [2]
        accept_report(svc, report(URGENT))
        send = alerts.AlertSender(node.settings, svc.inbox, {"sms": lambda to, s, b: sent.append(to)})
        with caplog.at_level("ERROR", logger="intake.alerts"):
            assert send.run_once(now=1_000_000) == 1
        assert sent == [coordinator], "the coordinator is told; the worker's phone never"
        assert "alert_sms_to: entry 2" in caplog.text and WORKER not in caplog.text
        found = [
            f for f in diagnose(node.home, load=lambda: node.settings, unlock=None).findings if f.check == "alerts"
        ]
        assert [f.level for f in found] == [Level.FAIL]
        assert "alert_sms_to" in found[0].message and WORKER not in found[0].message + found[0].fix
    finally:
        svc.close()


def test_doctor_says_whether_alerts_are_set_up_and_whether_they_are_stuck(tmp_path: Path) -> None:
    def check(node: Node) -> list[tuple[Level, str]]:
        report = diagnose(node.home, load=lambda: node.settings, unlock=None)
        return [(f.level, f.message) for f in report.findings if f.check == "alerts"]

    off = make_node(tmp_path / "off")
    assert check(off) == [(Level.OK, "Alerts are off (no alert_sms_to, alert_email_to or alert_ntfy_url).")]
    node = alert_node(tmp_path, alert_ntfy_url=f"http://127.0.0.1:{free_port()}/topic")
    assert check(node) == [(Level.OK, "Alerts go out by ntfy.")]
    svc = IntakeService.open(node.settings)
    try:
        accept_report(svc, report(URGENT))
        send = sender(node, svc)
        for round_ in range(alerts.STUCK_ATTEMPTS + 1):
            send.run_once(now=1_000_000 + round_ * alerts.BACKOFF_MAX)
    finally:
        svc.close()
    assert check(node) == [(Level.FAIL, "Alerts are queued but not going out.")]


def test_cap_steps_newly_overdue_are_counted_once(tmp_path: Path) -> None:
    node = alert_node(tmp_path, alert_ntfy_url=f"http://127.0.0.1:{free_port()}/topic")
    case_id, _ = one_case(node)
    svc = IntakeService.open(node.settings)
    try:
        with cases_store(node) as store:
            plan = Actions(CaseWork(store, node.keys))
            plan.add(case_id, "Pay the missing overtime", "employer", "2030-01-31")
            plan.add(case_id, "Fix the fire exit", "employer", "2030-03-01")
            done = plan.add(case_id, "Return the passports", "employer", "2030-01-15")
            plan.set_done(case_id, done, True)
            assert alerts.check_overdue(node.settings, svc.inbox, store, date(2030, 2, 1)) == 1
            assert alerts.check_overdue(node.settings, svc.inbox, store, date(2030, 2, 1)) == 0, "once an hour: once"
            assert alerts.check_overdue(node.settings, svc.inbox, store, date(2030, 2, 20)) == 0
            assert alerts.check_overdue(node.settings, svc.inbox, store, date(2030, 3, 2)) == 1
        assert queue.counts(svc.inbox)["overdue"] == 2
        _subject, body = alerts.compose(0, 2, "en")
        assert body == "2 corrective action steps are overdue. Open the desk to see them."
    finally:
        svc.close()


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"alert_sms_to": "+8613800138000,0138000"}, "alert_sms_to: entry 2"),
        ({"alert_sms_to": "+8613800138000"}, "alert_sms_to needs twilio_account_sid"),
        ({"alert_email_to": "coordinator@example.org"}, "alert_email_to needs smtp_host"),
        ({"alert_email_to": "not-an-address", "smtp_host": "mail.example.org"}, "alert_email_to"),
        ({"alert_ntfy_url": "http://ntfy.example.org/topic"}, "alert_ntfy_url"),
        ({"alert_ntfy_url": "https://ntfy.sh/"}, "alert_ntfy_url"),
        ({"alert_every_minutes": 0}, "alert_every_minutes"),
        ({"smtp_starttls": 0, "smtp_host": "mail.example.org"}, "smtp_starttls"),
        ({"smtp_port": 70000}, "smtp_port"),
    ],
)
def test_bad_alert_settings_are_refused_naming_the_setting(
    tmp_path: Path, overrides: dict[str, object], named: str
) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.load(tmp_path, env={}, **overrides)  # type: ignore[arg-type]
    assert named in str(caught.value.detail)
    assert "0138000" not in str(caught.value.detail), "a number is never repeated"


def test_secrets_of_alerts_stay_out_of_repr(tmp_path: Path) -> None:
    s = Settings.load(tmp_path, env={}, smtp_password="hunter2-smtp", alert_ntfy_token="tk_secret")
    assert "hunter2-smtp" not in repr(s) and "tk_secret" not in repr(s)
