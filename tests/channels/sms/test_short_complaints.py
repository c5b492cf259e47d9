"""Nothing the worker wrote is dropped (issue 12, item 2), in every shipped language and through
every SMS way in: a first message that is a short complaint ("工资三个月没发", seven characters) is
the worker's story. It used to be dropped (only a first message over 100 characters was kept), the
story asked again, and "完成" refused with "tell us what happened first".

Each conversation here starts with a short complaint in its language, answers the factory question,
sends the language's DONE word at once, and reaches the desk with the complaint as its description:
through Twilio's signed webhook, through ``intake sms pull`` (a real process, talking HTTP to a
local stand-in for Twilio's Messages API) and through the SMSSync gateway.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from twilio.request_validator import RequestValidator

import i18n
from channels.server import create_intake_app
from channels.sms import texts
from channels.sms.detect import detect_locale
from tests.conftest import Node, drain_node, make_node

TOKEN = "synthetic-auth-token"
PUBLIC = "https://intake.example.org"
SECRET = "synthetic-gateway-secret"
ACCOUNT = "AC" + "0123456789abcdef" * 2
NUMBER = "+15550001111"
RECEIPT = re.compile(r"\d{4}-\d{4}-\d{4}-\d{4}")

# Synthetic complaints, each a few words in its language ("we were not paid", "no overtime pay").
COMPLAINTS = {
    "en": "No pay for overtime.", "bn": "বেতন পাইনি", "cs": "Nezaplatili přesčasy.",
    "es": "No nos pagan las horas extra.", "fil": "Hindi po kami binabayaran.", "fr": "Nous ne sommes pas payés.",
    "hi": "हमें वेतन नहीं मिला", "id": "Pabrik tidak bayar lembur.", "km": "មិនបានប្រាក់ខែ",
    "ms": "Kilang tak bayar gaji.", "my": "လစာ မရပါ", "ne": "हामीलाई तलब दिइएको छैन",
    "pl": "Nie dostaliśmy wypłaty.", "sw": "Hatujalipwa mshahara.", "ta": "சம்பளம் கிடைக்கவில்லை",
    "th": "ไม่ได้ค่าแรงสองเดือน", "uk": "Нам не платять зарплату.", "ur": "تنخواہ نہیں ملی",
    "vi": "Không được trả lương.", "zh_Hans": "工资三个月没发", "zh_Hant": "工資三個月沒發",
}  # fmt: skip
LOCALES = i18n.available_locales()


def t(locale: str, msgid: str) -> str:
    return i18n.translations(locale).gettext(msgid)


def keyword(locale: str, name: str) -> str:
    return t(locale, texts.KEYWORDS[name]).split("|")[0]


def phone(locale: str) -> str:
    return f"+4470001{LOCALES.index(locale):05d}"


def factory(locale: str) -> str:
    return f"Example Factory {LOCALES.index(locale)}"


def flow(locale: str) -> list[str]:
    """What the worker sends: the complaint, the factory, DONE at once, then the menus' answers.
    Where the complaint's language is not recognised, the worker picks it from the menu."""
    complaint = COMPLAINTS[locale]
    choose = [] if detect_locale(complaint) == locale else ["LANG", str(LOCALES.index(locale) + 1)]
    return [complaint, *choose, factory(locale), keyword(locale, "done"), "1 3", "1", keyword(locale, "no")]


def test_every_shipped_language_has_a_complaint() -> None:
    assert set(COMPLAINTS) == set(LOCALES)
    assert all(len(c) < 40 for c in COMPLAINTS.values()), "short complaints, as workers text them"


def check_replies(locale: str, replies: list[list[str]]) -> None:
    """The factory is asked after the complaint, then more or DONE; DONE goes on; a receipt comes."""
    joined = ["\n".join(r) for r in replies]
    assert t(locale, texts.ASK_FACTORY_AFTER) in joined[len(joined) - 6], (locale, joined)
    assert t(locale, texts.ASK_MORE) in joined[-5], (locale, joined)
    assert t(locale, texts.ASK_CATEGORIES) in joined[-4], (locale, joined)
    assert t(locale, texts.DESCRIPTION_FIRST) not in "".join(joined)
    assert RECEIPT.search(joined[-1]), (locale, joined)


def check_cases(node: Node) -> None:
    result, cases = drain_node(node)
    assert result.unreadable == 0
    by_factory = {c.factory: c for c in cases}
    for locale in LOCALES:
        case = by_factory.get(factory(locale))
        assert case is not None, f"{locale}: no case"
        assert case.locale == locale and case.channel.value == "sms"
        assert case.description == COMPLAINTS[locale], (locale, case.description)
        assert [c.value for c in case.categories] == ["wages", "health_safety"]
    assert len(cases) == len(LOCALES)


@pytest.fixture
def sms_node(tmp_path: Path) -> Node:
    return make_node(tmp_path / "node", twilio_auth_token=TOKEN, public_url=PUBLIC, smssync_secret=SECRET)


def test_a_short_first_complaint_by_signed_webhook_in_every_language(sms_node: Node) -> None:
    with TestClient(create_intake_app(sms_node.settings)) as client:
        for locale in LOCALES:
            replies = []
            for i, body in enumerate(flow(locale)):
                params = {"From": phone(locale), "To": NUMBER, "Body": body, "MessageSid": f"SM{locale}{i:024d}",
                          "AccountSid": ACCOUNT}  # fmt: skip
                signature = RequestValidator(TOKEN).compute_signature(PUBLIC + "/twilio/sms", params)
                r = client.post("/twilio/sms", data=params, headers={"X-Twilio-Signature": signature})
                assert r.status_code == 200
                replies.append(re.findall(r"<Message>(.*?)</Message>", r.text, re.S))
            check_replies(locale, [[_unescape(m) for m in r] for r in replies])
    check_cases(sms_node)


def _unescape(xml_text: str) -> str:
    return xml_text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&amp;", "&")


def test_a_short_first_complaint_by_smssync_in_every_language(sms_node: Node) -> None:
    with TestClient(create_intake_app(sms_node.settings)) as client:
        for locale in LOCALES:
            for i, body in enumerate(flow(locale)):
                r = client.post(
                    "/smssync",
                    data={"from": phone(locale), "message": body, "message_id": f"{locale}-{i}", "secret": SECRET,
                          "sent_to": NUMBER, "device_id": "phone-1"},
                )  # fmt: skip
                assert r.json() == {"payload": {"success": True, "error": None}}
        queued: list[dict[str, str]] = []
        while batch := client.get("/smssync", params={"task": "send", "secret": SECRET}).json()["payload"]["messages"]:
            queued += batch  # the phone sends them and says so; the next batch follows
            sent = client.post(
                "/smssync?task=sent", json={"secret": SECRET, "queued_messages": [m["uuid"] for m in batch]}
            )
            assert len(sent.json()["message_uuids"]) == len(batch)
        for locale in LOCALES:
            mine = [m["message"] for m in queued if m["to"] == phone(locale)]
            assert t(locale, texts.ASK_FACTORY_AFTER) in mine and t(locale, texts.ASK_MORE) in mine, (locale, mine)
            assert RECEIPT.search(mine[-1]), (locale, mine)
    check_cases(sms_node)


# -- a local stand-in for Twilio's Messages API, for `intake sms pull` ----------------------------------
@dataclass
class TwilioMessages:
    """Inbound messages waiting at "Twilio"; what the node sends and deletes. Speaks the JSON of
    Twilio's 2010-04-01 Messages resource, as much of it as the twilio library reads."""

    waiting: dict[str, dict[str, str]] = field(default_factory=dict)
    sent: list[tuple[str, str]] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    base: str = ""

    def text(self, sender: str, body: str, when: datetime) -> None:
        sid = f"SM{len(self.waiting) + len(self.deleted):032x}"
        self.waiting[sid] = {
            "sid": sid, "account_sid": ACCOUNT, "direction": "inbound", "from": sender, "to": NUMBER, "body": body,
            "status": "received", "date_sent": format_datetime(when), "num_segments": "1",
        }  # fmt: skip


@pytest.fixture
def twilio_api() -> Iterator[TwilioMessages]:
    state = TwilioMessages()
    prefix = f"/2010-04-01/Accounts/{ACCOUNT}/Messages"

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def reply(self, status: int, payload: object = None) -> None:
            body = json.dumps(payload).encode() if payload is not None else b""
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            query = parse_qs(url.query)
            if url.path != prefix + ".json":
                return self.reply(404, {"code": 20404, "status": 404})
            # Inbound: To is our number. Outbound (From is our number): nothing finished to clean up.
            items = [] if "From" in query else sorted(state.waiting.values(), key=lambda m: m["sid"])
            self.reply(200, {"messages": items, "next_page_uri": None, "page": 0, "page_size": 100,
                             "first_page_uri": url.path, "previous_page_uri": None, "start": 0, "end": len(items),
                             "uri": url.path})  # fmt: skip

        def do_POST(self) -> None:
            url = urlsplit(self.path)
            form = parse_qs(self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode())
            if url.path == prefix + ".json":
                state.sent.append((form["To"][0], form["Body"][0]))
                sid = f"SMo{len(state.sent):031x}"
                return self.reply(201, {"sid": sid, "account_sid": ACCOUNT, "direction": "outbound-api",
                                        "status": "queued", "to": form["To"][0], "from": NUMBER, "body": ""})  # fmt: skip
            self.reply(200, {"sid": url.path.rsplit("/", 1)[-1].removesuffix(".json"), "body": ""})

        def do_DELETE(self) -> None:
            sid = urlsplit(self.path).path.rsplit("/", 1)[-1].removesuffix(".json")
            if state.waiting.pop(sid, None) is not None:
                state.deleted.append(sid)
            self.reply(204)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def test_a_short_first_complaint_by_intake_sms_pull_in_every_language(
    tmp_path: Path, twilio_api: TwilioMessages
) -> None:
    node = make_node(tmp_path / "node")
    (node.home / "settings.toml").write_text(
        f'twilio_api_base = "{twilio_api.base}"\ntwilio_number = "{NUMBER}"\n', encoding="utf-8"
    )
    when = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
    # One conversation after another, as they would wait at Twilio while the link was down.
    for locale in LOCALES:
        for body in flow(locale):
            when += timedelta(seconds=1)
            twilio_api.text(phone(locale), body, when)
    waiting = len(twilio_api.waiting)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INTAKE_", "TWILIO_"))}
    env.update(TWILIO_ACCOUNT_SID=ACCOUNT, TWILIO_AUTH_TOKEN=TOKEN, COLUMNS="200")
    out = subprocess.run(
        [sys.executable, "-m", "intake.cli", "--home", str(node.home), "sms", "pull"],
        capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL, timeout=300, check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
    assert twilio_api.waiting == {} and len(twilio_api.deleted) == waiting, "nothing left at Twilio"
    for locale in LOCALES:
        mine = [body for to, body in twilio_api.sent if to == phone(locale)]
        assert t(locale, texts.ASK_FACTORY_AFTER) in mine and t(locale, texts.ASK_MORE) in mine, (locale, mine)
        assert RECEIPT.search(mine[-1]), (locale, mine)
    check_cases(node)
