"""Benchmark: the intake service against a bare FastAPI + SQLCipher baseline (see bench/README.md).

    /tmp/venv/bin/python bench/bench_intake.py [--requests N] [--concurrency 16] [--quick]
    /tmp/venv/bin/python bench/bench_intake.py --sustained 30 --no-form --no-sms --no-unlock   # issue 14

Everything runs on loopback in a throwaway folder that is deleted afterwards. Nothing here asserts
on a timing: the aims are printed with "met" or "not met" for information. The exit status is 1
when the figures cannot be trusted: a request got an unexpected status (e.g. 422 for a reused form
token), an acknowledged report carried no receipt code or a receipt code seen before (answered from
the de-duplication, not stored), or either server stored another number of items than it
acknowledged. Otherwise it is 0 unless something crashed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import io
import json
import math
import os
import pstats
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))  # baseline_app, for the in-process breakdown

import intake_costs  # noqa: E402

LOOPBACK = "127.0.0.1"
PASSPHRASE = "bench passphrase, thrown away"  # noqa: S105 - a throwaway node in a temp folder
CLK_TCK = os.sysconf("SC_CLK_TCK")

AIM_RATIO = 0.5  # issue 14 item 5: >= 0.5x the bare baseline under sustained load, every protection on
AIM_SMS_RATIO = 0.7  # issue 3: the Twilio webhook with signature check, de-duplication and sealing
AIM_P99_MS = 50.0
AIM_RSS_MB = 150.0
SUSTAINED_CAP = 10**7  # requests per phase with --sustained: the time bound ends it first


# ---------------------------------------------------------------------------------------------
# Realistic reports
# ---------------------------------------------------------------------------------------------
EN_SENTENCES = [
    "Since March our line has worked twelve hours a day, seven days a week, and the overtime is not paid at the legal rate.",
    "The agency took our passports when we arrived and says we get them back only when the recruitment fee is paid off.",
    "Supervisors shout at us and one of them pushed a woman on the SMT line when she asked to use the toilet.",
    "We handle solvents for cleaning the boards without gloves or masks, and several people have headaches and skin rashes.",
    "Student interns from the vocational school work the night shift and are told they will not graduate if they leave.",
    "Our social insurance is not paid in full; the payslip shows a deduction but the bureau has no record of it.",
    "Twelve people share one dormitory room, the showers have no hot water and the fire exit is locked at night.",
    "When we talked about electing a real worker representative, two of the organisers were moved to the worst jobs.",
    "Dispatch workers doing the same job as regular workers earn much less and cannot get a contract after years.",
    "The company says the factory is moving and wants us to resign without severance, or we lose this month's wages.",
    "Pregnant workers are pushed to quit, and job adverts say they only hire women under thirty.",
    "The quota was raised again last week and anyone who misses it is fined two hundred from their pay.",
    "A worker lost two fingers in a press last month and the guard had been removed to make the line faster.",
    "We have to sign blank timesheets and the real hours are kept in a second book that auditors never see.",
    "Before the customer audit the managers coached us on what to say and threatened anyone who complained.",
]
ZH_SENTENCES = [
    "从三月开始我们这条线每天工作十二个小时，一周七天，加班费没有按法定标准支付。",
    "中介在我们到厂时收走了护照，说要等招聘费还清才还给我们。",
    "主管经常骂人，上个月有个女工想去厕所，被组长推了一把。",
    "我们用溶剂清洗电路板，没有手套也没有口罩，好几个人头疼、皮肤起疹子。",
    "职业学校的实习生上夜班，老师说如果离开就不能毕业。",
    "社保没有足额缴纳，工资条上有扣款，但社保局查不到记录。",
    "宿舍一间住十二个人，洗澡没有热水，晚上消防通道被锁上了。",
    "我们讨论选举真正的工人代表之后，两个带头的工友被调到最差的岗位。",
    "派遣工和正式工做一样的工作，工资却低很多，干了几年也签不了合同。",
    "公司说工厂要搬迁，让我们自己辞职，不给经济补偿，不签就扣这个月的工资。",
    "怀孕的女工被逼辞职，招工广告写着只要三十岁以下的女性。",
    "上周产量指标又提高了，完不成的人要从工资里罚款两百元。",
    "上个月有个工人的两根手指被冲床压断，为了提高速度防护罩被拆掉了。",
    "我们被要求在空白考勤表上签字，真实工时记在另一本账上，审核员从来看不到。",
    "客户来审核之前，经理教我们怎么回答，还威胁说谁投诉就开除谁。",
]
FACTORIES_EN = [
    "Hengda Precision Electronics, Shenzhen",
    "Golden Lake Circuit Board Co.",
    "Bright Star Assembly Plant 3",
    "Nova Components (Penang)",
    "Sierra Electrónica, Guadalajara",
]
FACTORIES_ZH = ["深圳市恒达精密电子有限公司", "金湖线路板厂", "明星组装三厂", "东莞新辉电子科技", "昆山宏达电脑配件厂"]
LOCATIONS_EN = ["Longhua, Shenzhen", "Bayan Lepas, Penang", "El Salto, Jalisco", "Dongguan", ""]
LOCATIONS_ZH = ["深圳龙华", "东莞长安", "苏州昆山", "重庆西永", ""]
CATEGORIES = [
    "forced_labour", "recruitment_fees", "child_labour", "freedom_of_association", "discrimination",
    "harassment", "health_safety", "wages", "working_hours", "employment", "dormitory", "retaliation", "other",
]  # fmt: skip


def make_reports(count: int, seed: int = 2024) -> list[dict[str, Any]]:
    """Reports as the JSON API takes them: half English, half Chinese, 200-1500 characters."""
    rng = random.Random(seed)
    reports = []
    for i in range(count):
        chinese = i % 2 == 1
        pool = ZH_SENTENCES if chinese else EN_SENTENCES
        target = rng.randint(200, 1500)
        parts: list[str] = []
        while sum(len(p) + 1 for p in parts) < target:
            parts.append(rng.choice(pool))
        description = ("" if chinese else " ").join(parts)[:target].strip()
        report: dict[str, Any] = {
            "description": description,
            "factory": rng.choice(FACTORIES_ZH if chinese else FACTORIES_EN),
            "location": rng.choice(LOCATIONS_ZH if chinese else LOCATIONS_EN),
            "categories": rng.sample(CATEGORIES, rng.randint(1, 3)),
            "consent": rng.choice([0, 0, 1, 1, 2]),
            "locale": "zh_Hans" if chinese else "en",
        }
        if rng.random() < 0.25:
            report["phone"] = f"+86 13{rng.randint(0, 9)} {rng.randint(0, 9999):04d} {rng.randint(0, 9999):04d}"
            report["contact_ok"] = True
            if rng.random() < 0.5:
                report["name"] = "王小梅" if chinese else "Maria Santos"
        reports.append(report)
    return reports


def form_fields(report: dict[str, Any]) -> list[tuple[str, str]]:
    """The same report as the no-JS form posts it (urlencoded; without csrf, added per client)."""
    fields = [("lang", report["locale"])]
    fields += [(name, str(report.get(name, ""))) for name in ("description", "factory", "location", "name", "phone")]
    fields += [("categories", c) for c in report["categories"]]
    fields.append(("consent", str(report["consent"])))
    if report.get("contact_ok"):
        fields.append(("contact_ok", "1"))
    fields.append(("website", ""))  # the honeypot, left empty as a person leaves it
    return fields


# ---------------------------------------------------------------------------------------------
# Realistic SMS conversations, as Twilio's signed inbound-message webhooks
# ---------------------------------------------------------------------------------------------
SMS_PATH = "/twilio/sms"
TWILIO_NUMBER = "+14155550123"  # the node's number (555-01xx: fictional)
SMS_RETRY_RATE = 0.05  # share of messages Twilio delivers twice (same MessageSid, same signature)
RECEIPT_CODE = re.compile(rb"\d{4}-\d{4}-\d{4}-\d{4}")
SMS_GREETINGS_EN = ["Hello", "Hi", "hello, I need help", "Hi, is this the workers line?", "HELLO"]
SMS_GREETINGS_ZH = ["你好", "你好，我想反映问题", "请问这是工人热线吗", "您好"]


@dataclass(frozen=True)
class SmsMessage:
    step: str  # greeting, story, factory, done, categories, consent, contact
    body: bytes  # the urlencoded form Twilio posts
    headers: tuple[tuple[str, str], ...]  # Content-Type and X-Twilio-Signature among them
    duplicate: bool = False  # a retry of the message before it (same MessageSid and signature)
    final: bool = False  # the conversation's last message: the intake answers with the receipt code


@dataclass(frozen=True)
class SmsConversation:
    messages: tuple[SmsMessage, ...]


class SmsPlan:
    """Signed Twilio inbound-SMS webhooks from unique synthetic senders, walking conversations to the end.

    Every conversation comes from a new number (one conversation is 5-8 messages plus retries, far
    below the per-number flood limit of 30 in 10 minutes). Half English, half Chinese. Most start
    with a greeting, then the factory, one or two description messages, DONE, categories, consent,
    may-we-text-back; a fifth start with a long message (taken as the description at once). About
    5% of the messages are sent twice, as Twilio retries a webhook. Everything is built (and signed
    with twilio's own ``RequestValidator``) before any timing.
    """

    def __init__(self, auth_token: str, url: str, seed: int = 2025) -> None:
        from twilio.request_validator import RequestValidator

        self._validator = RequestValidator(auth_token)
        self.url = url
        self._rng = random.Random(seed)
        self._account_sid = f"AC{self._rng.getrandbits(128):032x}"
        self._senders = 0

    def conversations(self, messages: int) -> list[SmsConversation]:
        """Whole conversations, at least ``messages`` requests in all."""
        out: list[SmsConversation] = []
        total = 0
        while total < messages:
            out.append(self._conversation())
            total += len(out[-1].messages)
        return out

    def _story(self, chinese: bool, low: int, high: int) -> str:
        rng = self._rng
        pool = ZH_SENTENCES if chinese else EN_SENTENCES
        target = rng.randint(low, high)
        parts: list[str] = []
        while sum(len(p) + 1 for p in parts) < target:
            parts.append(rng.choice(pool))
        return ("" if chinese else " ").join(parts)[:target].strip()

    def _conversation(self) -> SmsConversation:
        rng = self._rng
        self._senders += 1
        chinese = self._senders % 2 == 0
        if chinese:
            sender, country = f"+86138{self._senders:08d}", "CN"
        else:
            sender, country = f"+6012{self._senders:07d}", "MY"
        story = (30, 200) if chinese else (60, 450)  # one SMS is 70 UCS-2 or 160 GSM-7 characters
        steps: list[tuple[str, str]] = []
        if rng.random() < 0.2:  # a long first message is the description; then only the questions
            steps.append(("story", self._story(chinese, 120, 400 if chinese else 600)))
            steps.append(("factory", rng.choice(FACTORIES_ZH if chinese else FACTORIES_EN)))
        else:
            steps.append(("greeting", rng.choice(SMS_GREETINGS_ZH if chinese else SMS_GREETINGS_EN)))
            steps.append(("factory", rng.choice(FACTORIES_ZH if chinese else FACTORIES_EN)))
            for _ in range(2 if rng.random() < 0.25 else 1):
                steps.append(("story", self._story(chinese, *story)))
            steps.append(("done", rng.choice(["完成", "完成。", "DONE"] if chinese else ["DONE", "done", "Done."])))
        numbers = sorted(rng.sample(range(1, 14), rng.randint(1, 3)))
        steps.append(("categories", ("，" if chinese and rng.random() < 0.5 else " ").join(map(str, numbers))))
        steps.append(("consent", rng.choice("0112")))
        steps.append(("contact", rng.choice(["是", "不", "否"] if chinese else ["yes", "no", "NO", "Yes"])))
        messages: list[SmsMessage] = []
        for n, (step, text) in enumerate(steps):
            msg = self._message(step, text, sender, country, final=n == len(steps) - 1)
            messages.append(msg)
            if rng.random() < SMS_RETRY_RATE:
                messages.append(SmsMessage(msg.step, msg.body, msg.headers, duplicate=True, final=msg.final))
        return SmsConversation(tuple(messages))

    def _message(self, step: str, text: str, sender: str, country: str, *, final: bool) -> SmsMessage:
        from i18n.segments import count_segments

        sid = f"SM{self._rng.getrandbits(128):032x}"
        params = {  # what Twilio posts for an inbound SMS, in its order
            "ToCountry": "US", "ToState": "CA", "SmsMessageSid": sid, "NumMedia": "0", "ToCity": "",
            "FromZip": "", "SmsSid": sid, "FromState": "", "SmsStatus": "received", "FromCity": "", "Body": text,
            "FromCountry": country, "To": TWILIO_NUMBER, "ToZip": "", "NumSegments": str(count_segments(text).segments),
            "MessageSid": sid, "AccountSid": self._account_sid, "From": sender, "ApiVersion": "2010-04-01",
        }  # fmt: skip
        headers = (
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("User-Agent", "TwilioProxy/1.1"),
            ("I-Twilio-Idempotency-Token", f"{self._rng.getrandbits(128):032x}"),
            ("X-Twilio-Signature", self._validator.compute_signature(self.url, params)),
        )
        return SmsMessage(step, urllib.parse.urlencode(params).encode(), headers, final=final)


# ---------------------------------------------------------------------------------------------
# HTTP clients: a lean asyncio HTTP/1.1 keep-alive client (default), or httpx.AsyncClient
# ---------------------------------------------------------------------------------------------
Headers = list[tuple[str, str]]


class RawClient:
    """One keep-alive connection; the least Python work per request the generator can do.

    The generator shares the machine's cores with the server under test, so every millisecond it
    spends is a millisecond the server does not get. Only what the benchmark needs: Content-Length
    and chunked bodies, reconnect on ``Connection: close``.
    """

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def request(
        self,
        method: str,
        path: str,
        body: bytes = b"",
        headers: Sequence[tuple[str, str]] = (),
    ) -> tuple[int, Headers, bytes]:
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        assert self._reader is not None
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{k}: {v}" for k, v in headers]
        if method != "GET":
            lines.append(f"Content-Length: {len(body)}")
        self._writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        head = await self._reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        out: Headers = []
        length, chunked, close = None, False, False
        for line in header_lines:
            if not line:
                continue
            name, _, value = line.partition(":")
            name, value = name.strip().lower(), value.strip()
            out.append((name, value))
            if name == "content-length":
                length = int(value)
            elif name == "transfer-encoding" and "chunked" in value.lower():
                chunked = True
            elif name == "connection" and value.lower() == "close":
                close = True
        if chunked:
            data = bytearray()
            while True:
                size = int((await self._reader.readuntil(b"\r\n")).split(b";")[0], 16)
                chunk = await self._reader.readexactly(size + 2)
                if size == 0:
                    break
                data += chunk[:-2]
            content = bytes(data)
        elif length is not None:
            content = await self._reader.readexactly(length)
        else:
            content, close = await self._reader.read(), True
        if close:
            await self.aclose()
        return status, out, content

    async def aclose(self) -> None:
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(OSError, ConnectionError):
                await self._writer.wait_closed()
        self._reader = self._writer = None


class HttpxClient:
    """httpx.AsyncClient with one keep-alive connection per simulated client."""

    def __init__(self, host: str, port: int) -> None:
        import httpx

        self._client = httpx.AsyncClient(
            base_url=f"http://{host}:{port}",
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
            timeout=60,
            trust_env=False,
        )

    async def request(
        self,
        method: str,
        path: str,
        body: bytes = b"",
        headers: Sequence[tuple[str, str]] = (),
    ) -> tuple[int, Headers, bytes]:
        resp = await self._client.request(method, path, content=body or None, headers=list(headers))
        self._client.cookies.clear()  # cookies are sent explicitly, like the raw client does
        return resp.status_code, [(k.lower(), v) for k, v in resp.headers.multi_items()], resp.content

    async def aclose(self) -> None:
        await self._client.aclose()


CLIENTS: dict[str, type[RawClient] | type[HttpxClient]] = {"raw": RawClient, "httpx": HttpxClient}


# ---------------------------------------------------------------------------------------------
# Processes
# ---------------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    name: str
    proc: subprocess.Popen[bytes]
    port: int
    log: Path

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text("utf-8", "replace").splitlines()[-lines:])
        except OSError:
            return ""


def start_server(name: str, argv: list[str], port: int, env: dict[str, str], log: Path) -> Server:
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    return Server(name, proc, port, log)


def wait_healthy(server: Server, timeout: float = 30.0) -> None:
    url = f"http://{LOOPBACK}:{server.port}/healthz"
    deadline = time.monotonic() + timeout
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never a proxy
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(f"{server.name} exited with {server.proc.returncode}:\n{server.log_tail()}")
        try:
            with opener.open(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{server.name} did not answer /healthz within {timeout:.0f}s:\n{server.log_tail()}")


def baseline_count(server: Server) -> int:
    """Rows in the baseline's table (its ``GET /count``), read before it stops."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never a proxy
    with opener.open(f"http://{LOOPBACK}:{server.port}/count", timeout=10) as resp:
        return int(json.load(resp)["count"])


def stop_server(server: Server) -> None:
    """SIGINT, then SIGKILL. uvicorn shuts down cleanly and then re-raises the signal it caught:
    SIGINT becomes KeyboardInterrupt, so a server run under cProfile still writes its stats."""
    if server.proc.poll() is None:
        server.proc.send_signal(signal.SIGINT)
        try:
            server.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.proc.kill()
            server.proc.wait(timeout=5)


def proc_status(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM (peak resident) of a process, in MiB."""
    out: dict[str, float] = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0]) / 1024
    return out


def proc_cpu(pid: int) -> float:
    """User + system CPU seconds of a process (all its threads)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime (fields 14 and 15)


def main_thread_cpu(pid: int) -> float:
    """User + system CPU seconds of a process's main thread (for uvicorn: the event loop)."""
    with open(f"/proc/{pid}/task/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def self_cpu() -> float:
    t = os.times()
    return t.user + t.system


# ---------------------------------------------------------------------------------------------
# Load
# ---------------------------------------------------------------------------------------------
@dataclass
class Phase:
    label: str
    server: str
    ok: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    wall: float = 0.0
    latencies: list[float] = field(default_factory=list)
    server_cpu: float = 0.0
    loop_cpu: float = 0.0  # of server_cpu: the server's main thread (uvicorn's event loop)
    gen_cpu: float = 0.0
    completed: int = 0  # SMS: conversations the intake finished with a receipt code
    notes: Counter[str] = field(default_factory=Counter)  # SMS: answers that were not as expected
    receipts: list[bytes] = field(default_factory=list)  # intake JSON/form: the code in each acknowledgement

    @property
    def throughput(self) -> float:
        return self.ok / self.wall if self.wall else 0.0

    def pct(self, p: float) -> float:
        """Nearest-rank percentile of the latencies, in ms."""
        if not self.latencies:
            return math.nan
        ordered = sorted(self.latencies)
        return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)] * 1000

    def merge(self, other: Phase) -> None:
        self.ok += other.ok
        self.errors.update(other.errors)
        self.wall += other.wall
        self.latencies += other.latencies
        self.server_cpu += other.server_cpu
        self.loop_cpu += other.loop_cpu
        self.gen_cpu += other.gen_cpu
        self.completed += other.completed
        self.notes.update(other.notes)
        self.receipts += other.receipts

    def per_request_ms(self, seconds: float) -> float:
        done = self.ok + sum(self.errors.values())
        return seconds / done * 1000 if done else math.nan


CSRF_INPUT = re.compile(r'name="csrf" value="([^"]+)"')
FORM_TOKENS_NOTE = (
    "web form: every POST /report carries its own fresh single-use form token (and its csrf cookie), "
    "fetched with one GET /report per post in a batch before each phase, outside the timing: the form "
    "figures are POST /report only, as the baseline's"
)


async def fetch_form_tokens(clients: Sequence[RawClient | HttpxClient], count: int) -> list[tuple[str, bytes]]:
    """``count`` fresh (csrf cookie, body prefix) pairs, one ``GET /report`` each, as ``count`` browsers.

    A form token is single-use (``intake.once.Once``): a second post with it is answered from
    the de-duplication (same body) or refused with 422 (another body), so every post needs its own.
    """
    tokens: list[tuple[str, bytes]] = []

    async def fetch(client: RawClient | HttpxClient) -> None:
        while len(tokens) < count:
            status, got, html = await client.request("GET", "/report")
            cookie = next((v.split(";")[0] for k, v in got if k == "set-cookie" and v.startswith("csrf=")), "")
            token = CSRF_INPUT.search(html.decode("utf-8"))
            if status != 200 or not cookie or token is None:
                raise RuntimeError(f"GET /report gave no CSRF cookie and token (status {status})")
            tokens.append((cookie, f"csrf={urllib.parse.quote(token.group(1))}&".encode()))

    await asyncio.gather(*(fetch(c) for c in clients))
    return tokens[:count]


@dataclass
class Target:
    server: Server
    kind: str  # "json", "form" or "sms"
    intake: bool  # the intake form needs a fresh CSRF cookie and token for every post

    @property
    def expected(self) -> int:
        return 200 if self.kind == "sms" or (self.kind == "form" and self.intake) else 201


async def run_phase(
    label: str,
    target: Target,
    reports: Sequence[dict[str, Any]],
    *,
    count: int,
    concurrency: int,
    max_seconds: float,
    client_kind: str,
    offset: int = 0,
    conversations: Sequence[SmsConversation] = (),
) -> Phase:
    """``count`` requests (or ``max_seconds``, whichever ends first) from ``concurrency`` clients.

    For ``sms`` the requests are ``conversations`` (``count`` is not used): each client takes the
    next whole conversation and sends its messages one after another, each after the previous
    answer, as a phone does.
    """
    phase = Phase(label, target.server.name)
    json_bodies = [json.dumps(r, ensure_ascii=False).encode() for r in reports]
    form_bodies = [urllib.parse.urlencode(form_fields(r)).encode() for r in reports]
    clients = [CLIENTS[client_kind](LOOPBACK, target.server.port) for _ in range(concurrency)]
    # Per client: extra headers and a body prefix. SMS messages carry their own (signed) headers.
    ctype = {"json": "application/json", "form": "application/x-www-form-urlencoded"}.get(target.kind)
    sessions: list[tuple[Headers, bytes]] = [([("Content-Type", ctype)] if ctype else [], b"") for _ in clients]
    # Per post (the intake's form only): its own csrf cookie and single-use token, fetched before the timing.
    per_post: list[tuple[Headers, bytes]] = []
    try:
        if target.kind == "form" and target.intake:
            per_post = [
                ([("Content-Type", "application/x-www-form-urlencoded"), ("Cookie", cookie)], prefix)
                for cookie, prefix in await fetch_form_tokens(clients, count)
            ]

        path = "/api/v1/reports" if target.kind == "json" else "/report"
        bodies = json_bodies if target.kind == "json" else form_bodies
        next_index = 0
        deadline = time.perf_counter() + max_seconds
        clock = time.perf_counter

        async def worker(client: RawClient | HttpxClient, headers: Headers, prefix: bytes) -> None:
            nonlocal next_index
            while next_index < count and clock() < deadline:
                i = next_index
                next_index += 1
                if per_post:
                    headers, prefix = per_post[i]
                body = prefix + bodies[(offset + i) % len(bodies)]
                start = clock()
                try:
                    status, _, content = await client.request("POST", path, body, headers)
                except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                    phase.errors[type(exc).__name__] += 1
                    await client.aclose()
                    continue
                phase.latencies.append(clock() - start)
                if status == target.expected:
                    phase.ok += 1
                    if target.intake:  # the JSON answer and the receipt page both show the code
                        found = RECEIPT_CODE.search(content)
                        phase.receipts.append(found.group(0) if found else b"")
                else:
                    phase.errors[f"HTTP {status}"] += 1

        next_conversation = 0

        async def sms_worker(client: RawClient | HttpxClient, _headers: Headers, _prefix: bytes) -> None:
            nonlocal next_conversation
            while next_conversation < len(conversations) and clock() < deadline:
                conversation = conversations[next_conversation]
                next_conversation += 1
                previous, receipt, finished = b"", False, True
                for msg in conversation.messages:
                    if clock() >= deadline:
                        finished = False
                        break
                    start = clock()
                    try:
                        status, _, content = await client.request("POST", SMS_PATH, msg.body, msg.headers)
                    except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                        phase.errors[type(exc).__name__] += 1
                        await client.aclose()
                        finished = False
                        break
                    phase.latencies.append(clock() - start)
                    if status != target.expected:
                        phase.errors[f"HTTP {status}"] += 1
                        finished = False
                        break
                    phase.ok += 1
                    if target.intake:
                        if msg.duplicate and content != previous:
                            phase.notes["a retried MessageSid answered differently"] += 1
                        if RECEIPT_CODE.search(content):
                            if msg.final:
                                receipt = True
                            else:
                                phase.notes["a receipt code before the last message"] += 1
                    previous = content
                if finished and target.intake:
                    if receipt:
                        phase.completed += 1
                    else:
                        phase.notes["a conversation ended without a receipt code"] += 1

        work = sms_worker if target.kind == "sms" else worker
        server_cpu0, gen_cpu0, start = proc_cpu(target.server.proc.pid), self_cpu(), clock()
        loop_cpu0 = main_thread_cpu(target.server.proc.pid)
        await asyncio.gather(*(work(c, h, p) for c, (h, p) in zip(clients, sessions, strict=True)))
        phase.wall = clock() - start
        phase.server_cpu = proc_cpu(target.server.proc.pid) - server_cpu0
        phase.loop_cpu = main_thread_cpu(target.server.proc.pid) - loop_cpu0
        phase.gen_cpu = self_cpu() - gen_cpu0
    finally:
        for client in clients:
            await client.aclose()
    return phase


# ---------------------------------------------------------------------------------------------
# In-process measurements
# ---------------------------------------------------------------------------------------------
def unlock_times(profiles: Sequence[tuple[str, int]], workdir: Path) -> dict[str, float]:
    """Median seconds of ``Keyring.unlock`` per KDF profile (Argon2id + unwrap + key checks)."""
    from crypto import Keyring

    out: dict[str, float] = {}
    for name, runs in profiles:
        path = workdir / f"keyring-{name}.json"
        ring, _ = Keyring.create(path, user="bench", passphrase=PASSPHRASE, profile=name)
        samples = []
        for _ in range(runs):
            start = time.perf_counter()
            ring.unlock("bench", PASSPHRASE)
            samples.append(time.perf_counter() - start)
        out[name] = statistics.median(samples)
        path.unlink()
    return out


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def service_breakdown(settings: Any, reports: Sequence[dict[str, Any]], workdir: Path, n: int) -> dict[str, float]:
    """Median ms of each step of the intake's per-report work, in-process, one thread, no HTTP.

    Steps as ``channels.web.api.post_report`` and ``intake.services.accept_report`` do them.
    """
    from baseline_app import Store

    from channels.web.api import ReportIn
    from channels.web.forms import build_report
    from crypto import seal_item
    from intake.domain import Channel
    from intake.receipts import new_receipt
    from intake.services import IntakeService, accept_report

    service = IntakeService.open(settings)
    store = Store(workdir / "breakdown-baseline.db", os.urandom(32))
    steps: dict[str, list[float]] = {k: [] for k in ("validate", "receipt", "seal", "put", "accept", "baseline")}
    clock = time.perf_counter
    try:
        for i in range(n):
            raw = json.dumps(reports[i % len(reports)], ensure_ascii=False).encode()
            t0 = clock()
            body = ReportIn.model_validate(json.loads(raw))
            report = build_report(Channel.API, body.locale or "en", body.model_dump(exclude={"locale"}))
            t1 = clock()
            receipt_hash = service.receipts.hash(new_receipt())
            t2 = clock()
            item_id = os.urandom(16).hex()
            doc = {"v": 1, "id": item_id, "kind": "report", "receipt_hash": receipt_hash.hex()}
            doc["report"] = report.model_dump(mode="json")
            blob = seal_item(json.dumps(doc, ensure_ascii=False).encode(), to=service.public_key)
            t3 = clock()
            service.inbox.put(item_id, blob, board=receipt_hash)
            t4 = clock()
            accept_report(service, report)
            t5 = clock()
            store.insert(json.dumps(json.loads(raw), ensure_ascii=False))
            t6 = clock()
            for key, a, b in (
                ("validate", t0, t1),
                ("receipt", t1, t2),
                ("seal", t2, t3),
                ("put", t3, t4),
                ("accept", t4, t5),
                ("baseline", t5, t6),
            ):
                steps[key].append(b - a)
    finally:
        service.close()
    return {k: _median_ms(v) for k, v in steps.items()}


def profile_accept(settings: Any, reports: Sequence[dict[str, Any]], n: int, top: int = 18) -> str:
    """cProfile of ``accept_report`` in-process (the work the intake does in its thread pool)."""
    from channels.web.forms import build_report
    from intake.domain import Channel
    from intake.services import IntakeService, accept_report

    service = IntakeService.open(settings)
    built = [build_report(Channel.API, r["locale"], {k: v for k, v in r.items() if k != "locale"}) for r in reports[:n]]
    prof = cProfile.Profile()
    try:
        prof.enable()
        for report in built:
            accept_report(service, report)
        prof.disable()
    finally:
        service.close()
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(top)
    return out.getvalue()


SMS_STEPS = ("greeting", "factory", "story", "done", "categories", "consent", "contact", "retry")


def sms_breakdown(
    settings: Any, plan: SmsPlan, auth_token: str, workdir: Path, n: int, *, profile: bool = False, top: int = 25
) -> tuple[dict[str, float], str]:
    """Median ms of each step of the webhook's work per message, in-process, one thread, no HTTP.

    The steps ``channels.sms.routes.twilio_sms`` does: parse the form, check the signature,
    ``handle_inbound`` (de-duplicate, flood limit, engine, seal, one durable commit), TwiML; and
    ``handle_inbound`` split by the message's place in the conversation (``contact`` is the last
    one: it seals the report with its Argon2id receipt hash; ``retry`` is a repeated MessageSid).
    With ``profile``, also a cProfile of ``handle_inbound`` over the same messages.
    """
    from urllib.parse import parse_qsl

    from baseline_app import TWIML_OK, Store
    from twilio.request_validator import RequestValidator
    from twilio.twiml.messaging_response import MessagingResponse

    from channels.sms.routes import MAX_SMS_BODY
    from channels.sms.service import SmsChannel, SmsInbound, handle_inbound
    from intake.services import IntakeService

    service = IntakeService.open(settings)
    desk = SmsChannel(service)
    store = Store(workdir / "sms-breakdown-baseline.db", os.urandom(32))
    steps: dict[str, list[float]] = {k: [] for k in ("parse", "signature", "handle", "twiml", "all", "baseline")}
    steps.update({f"handle {k}": [] for k in SMS_STEPS})
    prof = cProfile.Profile()
    clock = time.perf_counter
    try:
        for conversation in plan.conversations(n):
            for msg in conversation.messages:
                signature = dict(msg.headers)["X-Twilio-Signature"]
                t0 = clock()
                text = msg.body.decode("latin-1")
                params = dict(parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="replace"))
                t1 = clock()
                if not RequestValidator(auth_token).validate(plan.url, params, signature):
                    raise RuntimeError("in-process breakdown: signature rejected")
                t2 = clock()
                inbound = SmsInbound(
                    "twilio", params["MessageSid"][:64], params["From"][:40], params["Body"][:MAX_SMS_BODY]
                )
                if profile:
                    prof.enable()
                replies = handle_inbound(desk, inbound)
                if profile:
                    prof.disable()
                t3 = clock()
                twiml = MessagingResponse()
                for reply in replies:
                    twiml.message(reply)
                str(twiml)
                t4 = clock()
                fields = dict(parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="replace"))
                store.insert(json.dumps(fields, ensure_ascii=False))
                TWIML_OK.encode()
                t5 = clock()
                for key, a, b in (
                    ("parse", t0, t1),
                    ("signature", t1, t2),
                    ("handle", t2, t3),
                    ("handle " + ("retry" if msg.duplicate else msg.step), t2, t3),
                    ("twiml", t3, t4),
                    ("all", t0, t4),
                    ("baseline", t4, t5),
                ):
                    steps[key].append(b - a)
    finally:
        service.close()
    medians = {k: _median_ms(v) if v else math.nan for k, v in steps.items()}
    medians["all mean"] = statistics.mean(steps["all"]) * 1000
    medians["baseline mean"] = statistics.mean(steps["baseline"]) * 1000
    text = ""
    if profile:
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(top)
        text = out.getvalue()
    return medians, text


def server_profile_text(path: Path, top: int = 30) -> str:
    out = io.StringIO()
    stats = pstats.Stats(str(path), stream=out)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    return out.getvalue()


# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------
def fmt(value: float, digits: int = 1) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:,.{digits}f}"


def print_table(rows: list[tuple[str, str, str, str, str, str]]) -> None:
    head = ("figure", "intake", "baseline", "ratio", "aim", "met?")
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    line = "  ".join("-" * w for w in widths)
    print("  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)))
    print(line)
    for row in rows:
        cells = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:4], widths[1:4], strict=True)]
        cells += [row[4].ljust(widths[4]), row[5].ljust(widths[5])]
        print("  ".join(cells).rstrip())


def spread_row(title: str, ratios: list[float]) -> tuple[str, str, str, str, str, str]:
    text = f"{min(ratios):.2f}-{max(ratios):.2f}x" if len(ratios) > 1 else f"{ratios[0]:.2f}x"
    return (f"{title}: ratio per round, min-max", "", "", text, "", "")


def met(ok: bool) -> str:
    return "met" if ok else "NOT met"


def phase_rows(
    title: str, intake: Phase, base: Phase, *, aims: bool, aim_ratio: float = AIM_RATIO
) -> list[tuple[str, str, str, str, str, str]]:
    ratio = intake.throughput / base.throughput if base.throughput else math.nan
    base_cpu = base.per_request_ms(base.server_cpu)  # 0 for a tiny run: CPU time counts in 10 ms ticks
    cpu_ratio = intake.per_request_ms(intake.server_cpu) / base_cpu if base_cpu else math.nan
    p99 = intake.pct(99)
    return [
        (
            f"{title}: throughput (req/s)",
            fmt(intake.throughput),
            fmt(base.throughput),
            f"{ratio:.2f}x",
            f">= {aim_ratio}x baseline" if aims else "(info)",
            met(ratio >= aim_ratio) if aims else "",
        ),
        (f"{title}: p50 latency (ms)", fmt(intake.pct(50)), fmt(base.pct(50)), "", "", ""),
        (f"{title}: p95 latency (ms)", fmt(intake.pct(95)), fmt(base.pct(95)), "", "", ""),
        (
            f"{title}: p99 latency (ms)",
            fmt(p99),
            fmt(base.pct(99)),
            "",
            f"<= {AIM_P99_MS:.0f} ms (intake)" if aims else "(info)",
            met(p99 <= AIM_P99_MS) if aims else "",
        ),
        (
            f"{title}: server CPU per request (ms)",
            fmt(intake.per_request_ms(intake.server_cpu), 2),
            fmt(base.per_request_ms(base.server_cpu), 2),
            f"{cpu_ratio:.2f}x" if math.isfinite(cpu_ratio) else "-",
            "",
            "",
        ),
        (
            f"{title}:   of which the event loop thread (ms)",
            fmt(intake.per_request_ms(intake.loop_cpu), 2),
            fmt(base.per_request_ms(base.loop_cpu), 2),
            "",
            "",
            "",
        ),
        (
            f"{title}: generator CPU per request (ms)",
            fmt(intake.per_request_ms(intake.gen_cpu), 2),
            fmt(base.per_request_ms(base.gen_cpu), 2),
            "",
            "",
            "",
        ),
        (
            f"{title}: requests ok / errors",
            f"{intake.ok} / {sum(intake.errors.values())}",
            f"{base.ok} / {sum(base.errors.values())}",
            "",
            "",
            "",
        ),
    ]


# ---------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------
def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Intake vs bare-baseline benchmark (see bench/README.md).")
    p.add_argument("--requests", type=int, default=2000, help="measured JSON requests per server (default 2000)")
    p.add_argument(
        "--form-requests", type=int, default=None, help="measured form requests per server (default requests/2)"
    )
    p.add_argument(
        "--sms-requests", type=int, default=None, help="measured SMS webhook requests per server (default requests)"
    )
    p.add_argument("--warmup", type=int, default=None, help="warm-up requests per server and path (default 200)")
    p.add_argument(
        "--rounds", type=int, default=3, help="alternating intake/baseline rounds the requests are split into"
    )
    p.add_argument("--concurrency", type=int, default=16, help="concurrent keep-alive clients (default 16)")
    p.add_argument("--max-seconds", type=float, default=45.0, help="time bound of each measured phase (default 45)")
    p.add_argument(
        "--sustained",
        type=float,
        default=None,
        metavar="SECONDS",
        help="JSON API under sustained load: each server gets SECONDS of measured load (split over the rounds), "
        "bounded by time only, not by --requests",
    )
    p.add_argument("--client", choices=sorted(CLIENTS), default="raw", help="load generator HTTP client (default raw)")
    p.add_argument("--no-form", action="store_true", help="skip the web-form path")
    p.add_argument("--no-sms", action="store_true", help="skip the SMS webhook path (POST /twilio/sms)")
    p.add_argument("--no-unlock", action="store_true", help="skip the unlock timings")
    p.add_argument("--quick", action="store_true", help="fewer requests, no 'sensitive' unlock (~30 s)")
    p.add_argument(
        "--profile",
        action="store_true",
        help="also cProfile the intake server's event loop and accept_report in-process (slows the intake down)",
    )
    p.add_argument(
        "--intake-launcher",
        type=Path,
        default=None,
        help="a Python script run in place of 'python -m intake.cli' with the same arguments (to try a patched server)",
    )
    p.add_argument("--keep", action="store_true", help="keep the throwaway folder (logs, databases) for inspection")
    args = p.parse_args(argv)
    if args.quick:
        args.requests = min(args.requests, 400)
    if args.form_requests is None:
        args.form_requests = max(1, args.requests // 2)
    if args.sms_requests is None:
        args.sms_requests = args.requests
    if args.warmup is None:
        args.warmup = 50 if args.quick else 200
    if args.quick:
        args.rounds = min(args.rounds, 2)
    if args.sustained is not None and args.sustained <= 0:
        p.error("--sustained must be a positive number of seconds")
    if min(args.requests, args.form_requests, args.sms_requests, args.concurrency, args.rounds) < 1 or (
        args.requests < args.rounds
    ):
        p.error(
            "--requests, --form-requests, --sms-requests, --concurrency and --rounds must be at least 1 "
            "(and requests >= rounds)"
        )
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    from intake.node import init_node
    from intake.settings import Settings

    workdir = Path(tempfile.mkdtemp(prefix="intake-bench-"))
    servers: list[Server] = []
    try:
        load_before = os.getloadavg()[0]
        print(
            f"# intake benchmark  python {sys.version.split()[0]}  cores={os.cpu_count()}  "
            f"load average (1 min) {load_before:.2f}  work dir {workdir}"
        )
        if load_before > 0.5:
            print(
                "# note: the machine is busy with something else; figures will be lower and noisier than on an idle one"
            )
        home = workdir / "node"
        settings = Settings.load(home, env={}, rate_limit_per_minute=0)
        init_node(settings, user="bench", passphrase=PASSPHRASE, profile="interactive")

        env = {k: v for k, v in os.environ.items() if not k.startswith(("INTAKE_", "TWILIO_"))}
        env["INTAKE_RATE_LIMIT_PER_MINUTE"] = "0"  # the limiter would throttle a load test from one address
        env["PYTHONDONTWRITEBYTECODE"] = "1"

        intake_port, base_port = free_port(), free_port()
        # POST /twilio/sms is live only with a public URL and an auth token: the signature is checked
        # against INTAKE_PUBLIC_URL + path, as behind a real proxy. Only the intake gets them.
        auth_token = os.urandom(16).hex()
        intake_env = dict(env)
        intake_env["INTAKE_PUBLIC_URL"] = f"http://{LOOPBACK}:{intake_port}"
        intake_env["TWILIO_AUTH_TOKEN"] = auth_token
        prof_path = workdir / "intake-server.prof"
        intake_argv = [sys.executable]
        if args.profile:
            intake_argv += ["-m", "cProfile", "-o", str(prof_path)]
        intake_argv += [str(args.intake_launcher)] if args.intake_launcher else ["-m", "intake.cli"]
        intake_argv += ["--home", str(home), "serve", "--host", LOOPBACK, "--port", str(intake_port)]
        intake = start_server("intake", intake_argv, intake_port, intake_env, workdir / "intake.log")
        servers.append(intake)
        base_argv = [sys.executable, str(BENCH_DIR / "baseline_app.py"), "--db", str(workdir / "baseline.db")]
        baseline = start_server(
            "baseline", [*base_argv, "--port", str(base_port)], base_port, env, workdir / "baseline.log"
        )
        servers.append(baseline)
        wait_healthy(intake)
        wait_healthy(baseline)
        idle_mem = proc_status(intake.proc.pid)
        base_idle_mem = proc_status(baseline.proc.pid)

        reports = make_reports(256)
        sizes = [len(r["description"]) for r in reports]
        print(
            f"# {len(reports)} distinct reports (en/zh), descriptions {min(sizes)}-{max(sizes)} chars; "
            f"{args.concurrency} clients ({args.client} client, one asyncio loop); "
            + (f"JSON for {args.sustained:g} s (sustained)" if args.sustained else f"{args.requests} JSON")
            + f" + {0 if args.no_form else args.form_requests} form + "
            f"{0 if args.no_sms else args.sms_requests} SMS requests per server"
        )
        kinds = ["json"] + ([] if args.no_form else ["form"]) + ([] if args.no_sms else ["sms"])
        if "form" in kinds:
            print(f"# {FORM_TOKENS_NOTE}")
        plan = [(kind, t) for kind in kinds for t in (Target(intake, kind, True), Target(baseline, kind, False))]
        totals = {"json": args.requests, "form": args.form_requests, "sms": args.sms_requests}

        # SMS: every conversation of every phase from its own number, all signed now (not timed).
        # The intake and the baseline get the same requests, byte for byte, in each phase.
        sms_plan = SmsPlan(auth_token, f"http://{LOOPBACK}:{intake_port}{SMS_PATH}")
        sms_sets: dict[str, list[SmsConversation]] = {}
        if "sms" in kinds:
            sms_sets["warm-up"] = sms_plan.conversations(args.warmup)
            for rnd in range(args.rounds):
                total = args.sms_requests
                sms_sets[f"round {rnd}"] = sms_plan.conversations(
                    total // args.rounds + (1 if rnd < total % args.rounds else 0)
                )
            msgs = [m for convs in sms_sets.values() for c in convs for m in c.messages]
            print(
                f"# SMS: {sum(len(c) for c in sms_sets.values())} conversations from as many numbers (en/zh), "
                f"{len(msgs)} signed webhooks ({sum(m.duplicate for m in msgs)} retried MessageSids), "
                f"{max(len(c.messages) for convs in sms_sets.values() for c in convs)} messages per number at most"
            )

        async def load() -> dict[tuple[str, str], Phase]:
            results: dict[tuple[str, str], Phase] = {}
            common = {"concurrency": args.concurrency, "client_kind": args.client}
            for kind, target in plan:  # warm-up: imports, caches, thread pool, SQLite page cache
                warm = await run_phase(
                    "warm-up", target, reports, count=args.warmup, max_seconds=30,
                    conversations=sms_sets.get("warm-up", ()) if kind == "sms" else (), **common,
                )  # fmt: skip
                results[("warm-up " + kind, target.server.name)] = warm
            # Rounds alternate intake and baseline (and which goes first), so drift in the disk's fsync
            # time or in other load on the machine falls on both sides alike.
            for rnd in range(args.rounds):
                for kind in kinds:
                    total = totals[kind]
                    count = total // args.rounds + (1 if rnd < total % args.rounds else 0)
                    seconds = args.max_seconds / args.rounds
                    if kind == "json" and args.sustained:  # as many requests as fit in the time, for both alike
                        count, seconds = SUSTAINED_CAP, args.sustained / args.rounds
                    pair = [t for k, t in plan if k == kind]
                    throughputs = {}
                    for target in pair if rnd % 2 == 0 else pair[::-1]:
                        phase = await run_phase(
                            kind, target, reports, count=count, max_seconds=seconds,
                            offset=7 + rnd * count,
                            conversations=sms_sets.get(f"round {rnd}", ()) if kind == "sms" else (), **common,
                        )  # fmt: skip
                        results.setdefault((kind, target.server.name), Phase(kind, target.server.name)).merge(phase)
                        throughputs[target.server.name] = phase.throughput
                        errs = f", errors {dict(phase.errors)}" if phase.errors else ""
                        errs += f", {dict(phase.notes)}" if phase.notes else ""
                        print(
                            f"  round {rnd + 1} {kind:4} {target.server.name:8} {phase.ok:5} ok in {phase.wall:5.1f}s "
                            f"{phase.throughput:7.1f} req/s  p50 {phase.pct(50):6.1f} p95 {phase.pct(95):6.1f} "
                            f"p99 {phase.pct(99):6.1f} ms  "
                            f"server CPU {phase.server_cpu:5.1f}s  generator CPU {phase.gen_cpu:4.1f}s{errs}",
                            flush=True,
                        )
                    ratio = throughputs["intake"] / throughputs["baseline"] if throughputs["baseline"] else math.nan
                    round_ratios.setdefault(kind, []).append(ratio)
            return results

        round_ratios: dict[str, list[float]] = {}
        results = asyncio.run(load())
        mem = proc_status(intake.proc.pid)
        base_mem = proc_status(baseline.proc.pid)
        base_stored = baseline_count(baseline)
        for server in servers:
            stop_server(server)

        from intake.node import open_inbox

        inbox = open_inbox(settings)
        try:
            stored = inbox.count()
        finally:
            inbox.close()
        # Reports the intake acknowledged (warm-up included): each 201 of the API and 200 of the form is
        # one item; an SMS conversation is one item when it ends, when the answer carries the receipt.
        acked = sum(p.ok for (kind, name), p in results.items() if name == "intake" and not kind.endswith("sms"))
        completed = sum(p.completed for (kind, name), p in results.items() if name == "intake" and kind.endswith("sms"))
        sms_notes: Counter[str] = Counter()
        for (kind, name), p in results.items():
            if name == "intake" and kind.endswith("sms"):
                sms_notes.update(p.notes)

        print("# in-process breakdown of one JSON report (median of 200, one thread, no HTTP) ...", flush=True)
        breakdown = service_breakdown(settings, reports, workdir, 200)
        json_in, json_base = results[("json", "intake")], results[("json", "baseline")]
        print("# CPU per JSON report by component (in-process, CPU time) ...", flush=True)
        cost_rows = intake_costs.cost_rows(
            settings, reports, workdir,
            total_us=json_in.per_request_ms(json_in.server_cpu) * 1000,
            loop_us=json_in.per_request_ms(json_in.loop_cpu) * 1000,
        )  # fmt: skip
        sms_steps: dict[str, float] = {}
        sms_profile = ""
        if "sms" in kinds:
            print("# in-process breakdown of the SMS webhook (~300 messages, one thread, no HTTP) ...", flush=True)
            sms_steps, sms_profile = sms_breakdown(settings, sms_plan, auth_token, workdir, 300, profile=args.profile)

        unlock_plan = [("interactive", 3 if args.quick else 5), ("moderate", 3)]
        if not args.quick:
            unlock_plan.append(("sensitive", 3))
        if args.no_unlock:
            unlock_plan = []
        print(f"# unlock time per KDF profile ({', '.join(n for n, _ in unlock_plan) or 'skipped'}) ...", flush=True)
        unlocks = unlock_times(unlock_plan, workdir)

        # -- the table --------------------------------------------------------------------------
        print()
        rows = phase_rows("JSON API", results[("json", "intake")], results[("json", "baseline")], aims=True)
        rows.insert(1, spread_row("JSON API", round_ratios["json"]))
        if "form" in kinds:
            form_rows = phase_rows("web form", results[("form", "intake")], results[("form", "baseline")], aims=False)
            rows += [form_rows[0], spread_row("web form", round_ratios["form"]), *form_rows[1:]]
        if "sms" in kinds:
            sms_in, sms_base = results[("sms", "intake")], results[("sms", "baseline")]
            sms_rows = phase_rows("SMS webhook", sms_in, sms_base, aims=True, aim_ratio=AIM_SMS_RATIO)
            rows += [sms_rows[0], spread_row("SMS webhook", round_ratios["sms"]), *sms_rows[1:]]
            rows.append(("SMS webhook: conversations completed (receipt)", str(sms_in.completed), "", "", "", ""))
        hwm = mem.get("VmHWM", math.nan)
        rows += [
            ("resident memory after run (MiB)", fmt(mem.get("VmRSS", math.nan)), fmt(base_mem.get("VmRSS", math.nan)), "", "", ""),
            ("peak resident memory, VmHWM (MiB)", fmt(hwm), fmt(base_mem.get("VmHWM", math.nan)), "", f"< {AIM_RSS_MB:.0f} MiB (intake)", met(hwm < AIM_RSS_MB)),
            ("resident memory at start (MiB)", fmt(idle_mem.get("VmRSS", math.nan)), fmt(base_idle_mem.get("VmRSS", math.nan)), "", "", ""),
        ]  # fmt: skip
        for name, seconds in unlocks.items():
            rows.append((f"unlock, KDF profile {name} (s)", fmt(seconds, 3), "", "", "(info)", ""))
        print_table(rows)

        print()
        expected = acked + completed
        print(
            f"inbox items stored {stored}, expected {expected}: {acked} API/form reports acknowledged + "
            f"{completed} SMS conversations completed with a receipt code (warm-up included): "
            + ("match" if stored == expected else "MISMATCH")
        )
        receipts = [r for (kind, name), p in results.items() if name == "intake" for r in p.receipts]
        distinct = len(set(receipts) - {b""})
        print(
            f"receipt codes in the {acked} API/form acknowledgements: {distinct} distinct, "
            f"{receipts.count(b'')} missing: " + ("match" if distinct == acked else "MISMATCH")
        )
        base_acked = sum(p.ok for (kind, name), p in results.items() if name == "baseline")
        print(
            f"baseline rows stored {base_stored}, acknowledged {base_acked}: "
            + ("match" if base_stored == base_acked else "MISMATCH")
        )
        # A 422 (a reused form token) or any status but the expected one makes the figures meaningless.
        failures = [f"{name} {kind}: {dict(p.errors)}" for (kind, name), p in results.items() if p.errors]
        if stored != expected:
            failures.append(f"the intake stored {stored} items but acknowledged {expected}")
        if distinct != acked:
            failures.append(
                f"{acked} API/form acknowledgements carried {distinct} distinct receipt codes "
                "(a repeat was answered from the de-duplication and not stored, or a code was missing)"
            )
        if base_stored != base_acked:
            failures.append(f"the baseline stored {base_stored} rows but acknowledged {base_acked}")
        if "sms" in kinds:
            print(
                "SMS answers: "
                + (
                    "; ".join(f"{k}: {v}" for k, v in sms_notes.items())
                    if sms_notes
                    else "as expected (each retried MessageSid answered as the first time, "
                    "a receipt code only in the answer to a conversation's last message)"
                )
            )
        print(
            "per-report work in-process, median ms: "
            f"validate {breakdown['validate']:.2f} | receipt hash (Argon2id) {breakdown['receipt']:.2f} | "
            f"seal {breakdown['seal']:.2f} | inbox.put (SQLCipher + fsync) {breakdown['put']:.2f} | "
            f"accept_report total {breakdown['accept']:.2f}  ||  baseline insert {breakdown['baseline']:.2f}"
        )
        intake_costs.print_cost_table(
            cost_rows,
            json_in.per_request_ms(json_in.server_cpu) * 1000,
            json_base.per_request_ms(json_base.server_cpu) * 1000,
            json_base.per_request_ms(json_base.loop_cpu) * 1000,
        )
        if sms_steps:
            s = sms_steps
            print(
                "per-message SMS webhook work in-process, median ms: "
                f"parse form {s['parse']:.3f} | signature {s['signature']:.3f} | TwiML {s['twiml']:.3f} | "
                "handle_inbound (dedupe, engine, seal, commit + fsync): "
                + ", ".join(f"{k} {s['handle ' + k]:.2f}" for k in SMS_STEPS)
                + f" | whole webhook mean {s['all mean']:.2f}  ||  baseline parse + insert mean {s['baseline mean']:.2f}"
            )
        measured = [p for (kind, _), p in results.items() if kind in kinds]
        total_cpu = sum(p.server_cpu + p.gen_cpu for p in measured)
        gen_cpu = sum(p.gen_cpu for p in measured)
        print(
            f"note: the load generator runs on the same {os.cpu_count()} cores and used {gen_cpu:.1f}s of the "
            f"{total_cpu:.1f}s CPU spent in the measured phases ({gen_cpu / max(total_cpu, 1e-9):.0%}); throughput is a "
            "figure for this machine, the ratio and the CPU per request travel better."
        )
        print(f"load average (1 min) before {load_before:.2f}, after {os.getloadavg()[0]:.2f}")
        if args.profile:
            print("\n# cProfile: accept_report in-process (200 reports), by own time")
            print(profile_accept(settings, reports, 200))
            if sms_profile:
                print("# cProfile: handle_inbound in-process (~300 SMS messages), by own time")
                print(sms_profile)
            if prof_path.exists():
                print("# cProfile: intake server main thread (event loop; thread-pool work not included)")
                print(server_profile_text(prof_path))
        if failures:
            print("\nFAILED: these figures cannot be trusted:\n  " + "\n  ".join(failures), file=sys.stderr)
            return 1
        print("checks passed: every acknowledged request was stored once, no request failed")
        return 0
    finally:
        for server in servers:
            with contextlib.suppress(Exception):
                stop_server(server)
        for server in servers:
            if server.proc.poll() is None:
                server.proc.kill()
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
