"""Chaos run: ``kill -9`` of a real ``intake serve`` in the middle of bursts on every channel.

Not a test CI runs (tests/intake/test_durability.py is that, for the JSON API); a bounded run to measure
what the promise "an acknowledged report is never lost, never doubled" is worth across the web
(JSON API and form), SMS (Twilio webhook and the SMSSync gateway) and the hotline.

Each cycle starts ``python -m intake.cli serve`` on 127.0.0.1 (a free port) on one throwaway node
made with the fast test KDF, lets client threads send submissions on every channel, sends SIGKILL
at a random moment, and starts again. Clients behave like the real senders: Twilio and the SMS
gateway retry a message until it is acknowledged (same MessageSid / message_id; a call's
recording webhook with the same CallSid and RecordingSid); half of the JSON clients retry with the
same Idempotency-Key and half of the browsers reload the form (same token); the other half give up.
At the end the node is drained and every submission looked for, by a unique marker in its text
(by its receipt for calls, which carry no text). Printed per channel and in total:

- acknowledged: the sender got the answer that means "kept" (201 with a receipt, the receipt page,
  the SMS conversation's last reply, SMSSync's success, the call's receipt read back);
- stored: found in the cases after the drain; lost: acknowledged but not stored (must be 0);
- doubled: stored twice, or answered with two receipts (must be 0);
- unacknowledged-but-kept: the sender never heard back, yet it was stored (allowed).

Traffic goes only to 127.0.0.1; the "Twilio API" the recording fetcher may call is a closed local
port. It stops by itself: bounded cycles, bursts and a time limit. Exit status 1 if anything
acknowledged was lost or anything doubled.

    .venv/bin/python bench/chaos.py                 # 100 cycles
    .venv/bin/python bench/chaos.py --quick         # 10 short cycles
    .venv/bin/python bench/chaos.py --cycles 30 --threads 12 --keep
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from twilio.request_validator import RequestValidator

from intake import clock
from intake.drain import drain
from intake.node import init_node, open_cases, open_inbox, unlock
from intake.receipts import parse_receipt
from intake.services import IntakeService
from intake.settings import Settings

PASSPHRASE = "synthetic chaos passphrase"  # noqa: S105 - a throwaway node's, synthetic
USER = "chaos"
TEST_PROFILE = "insecure-test-only"  # a KDF profile that protects nothing: throwaway node only
TOKEN = "synthetic-chaos-token-" + secrets.token_hex(8)
ACCOUNT = "AC" + "c4" * 16
GATEWAY_SECRET = "synthetic-chaos-gateway-" + secrets.token_hex(8)
KINDS = {"json": 3, "form": 2, "sms": 2, "smssync": 2, "voice": 2}  # weights
FLOW = ["hello", "Synthetic Chaos Electronics", None, "DONE", "1 2", "0", "NO"]  # None: the story
MAX_TRIES = 40  # per submission, across cycles: then it counts as given up
RECEIPT = re.compile(r"\d{4}-\d{4}-\d{4}-\d{4}")
SPOKEN = re.compile(r"(?:\d \d \d \d, ){3}\d \d \d \d")
MARKER = re.compile(r"mk[0-9a-f]{12}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- submissions ---------------------------------------------------------------------------------------
@dataclass
class Submission:
    """One report as a sender sends it: one request, or a conversation of several, retried as the
    real sender would."""

    kind: str
    marker: str
    retries: bool  # whether the sender tries again after no answer
    sent: bool = False
    acked: bool = False
    gave_up: bool = False
    tries: int = 0
    step: int = 0  # conversations: the next message to send
    receipts: set[str] = field(default_factory=set)
    sender: str = ""
    ids: list[str] = field(default_factory=list)  # MessageSids / message_ids / (CallSid, RecordingSid)
    token: tuple[str, str] | None = None  # the form: (cookie, csrf token) of the page it was sent from

    def story(self) -> str:
        return f"Synthetic chaos report {self.marker}: overtime unpaid on line seven, kept quiet."


def new_submission(rng: random.Random) -> Submission:
    kind = rng.choices(list(KINDS), weights=list(KINDS.values()))[0]
    sub = Submission(
        kind, f"mk{secrets.token_hex(6)}", retries=kind in ("sms", "smssync", "voice") or rng.random() < 0.5
    )
    sub.sender = f"+1555{rng.randrange(10**7):07d}"
    if kind == "sms":
        sub.ids = [f"SM{secrets.token_hex(16)}" for _ in FLOW]
    elif kind == "smssync":
        sub.ids = [f"{secrets.token_hex(16)}" for _ in FLOW]
    elif kind == "voice":
        sub.ids = [f"CA{secrets.token_hex(16)}", f"RE{secrets.token_hex(16)}"]
    elif kind == "json" and sub.retries:
        sub.ids = [f"chaos-{secrets.token_hex(12)}"]  # Idempotency-Key
    return sub


class Gone(Exception):
    """The server did not answer (killed, or not up): try again in a later cycle if the sender would."""


class Tally:
    """Answers seen, by channel and status; shared by the client threads."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def __setitem__(self, key: str, value: int) -> None:  # ``tally[key] += 1`` from any thread
        with self._lock:
            self.counts[key] = value

    def __getitem__(self, key: str) -> int:
        return self.counts[key]


class Sender:
    """Sends one submission's next request(s) to the server at ``base``."""

    def __init__(self, http: httpx.Client, base: str) -> None:
        self.http = http
        self.base = base

    def post(self, path: str, **kwargs: object) -> httpx.Response:
        try:
            return self.http.post(self.base + path, **kwargs)  # type: ignore[arg-type]
        except httpx.HTTPError as exc:
            raise Gone(type(exc).__name__) from None

    def signed(self, path: str, params: dict[str, str]) -> httpx.Response:
        signature = RequestValidator(TOKEN).compute_signature(self.base + path, params)
        return self.post(path, data=params, headers={"X-Twilio-Signature": signature})

    def run(self, sub: Submission, statuses: Tally) -> None:
        getattr(self, sub.kind)(sub, statuses)

    def json(self, sub: Submission, statuses: Tally) -> None:
        body = {"description": sub.story(), "factory": "Synthetic Chaos Electronics", "categories": ["wages"]}
        headers = {"Idempotency-Key": sub.ids[0]} if sub.ids else {}
        sub.sent = True
        r = self.post("/api/v1/reports", json=body, headers=headers)
        statuses[f"json {r.status_code}"] += 1
        if r.status_code == 201:
            sub.receipts.add(r.json()["receipt"])
            sub.acked = True

    def form(self, sub: Submission, statuses: Tally) -> None:
        if sub.token is None:
            try:
                page = self.http.get(self.base + "/report")
            except httpx.HTTPError as exc:
                raise Gone(type(exc).__name__) from None
            found = re.search(r'name="csrf" value="([^"]+)"', page.text)
            cookie = page.cookies.get("csrf")
            self.http.cookies.clear()  # each submission is its own browser: its cookie goes by hand
            if page.status_code != 200 or not found or not cookie:
                statuses[f"form page {page.status_code}"] += 1
                return
            sub.token = (cookie, found.group(1))
        cookie, token = sub.token
        data = {"csrf": token, "description": sub.story(), "factory": "Synthetic Chaos Electronics", "consent": "0"}
        sub.sent = True
        r = self.post("/report", data=data, headers={"Cookie": f"csrf={cookie}"})
        statuses[f"form {r.status_code}"] += 1
        found = re.search(r'id="receipt">([0-9-]+)<', r.text)
        if r.status_code == 200 and found:
            sub.receipts.add(found.group(1))
            sub.acked = True

    def sms(self, sub: Submission, statuses: Tally) -> None:
        while sub.step < len(FLOW):
            body = FLOW[sub.step] or sub.story()
            params = {"From": sub.sender, "To": "+15550001111", "Body": body, "MessageSid": sub.ids[sub.step],
                      "AccountSid": ACCOUNT}  # fmt: skip
            sub.sent = True
            r = self.signed("/twilio/sms", params)
            statuses[f"sms {r.status_code}"] += 1
            if r.status_code != 200:
                raise Gone(str(r.status_code))  # Twilio retries anything but a 2xx
            sub.step += 1
            if sub.step == len(FLOW):
                sub.receipts.update(RECEIPT.findall(r.text))
                sub.acked = bool(sub.receipts)

    def smssync(self, sub: Submission, statuses: Tally) -> None:
        while sub.step < len(FLOW):
            body = FLOW[sub.step] or sub.story()
            form = {"secret": GATEWAY_SECRET, "from": sub.sender, "message": body, "message_id": sub.ids[sub.step],
                    "sent_timestamp": str(int(clock.time() * 1000)), "sent_to": "+15550001111"}  # fmt: skip
            sub.sent = True
            r = self.post("/smssync", data=form)
            statuses[f"smssync {r.status_code}"] += 1
            ok = r.status_code == 200 and r.json().get("payload", {}).get("success") is True
            if not ok:
                raise Gone(str(r.status_code))  # the phone keeps the message and sends it again
            sub.step += 1
        sub.acked = True

    def voice(self, sub: Submission, statuses: Tally) -> None:
        call, recording = sub.ids
        params = {"AccountSid": ACCOUNT, "CallSid": call, "From": sub.sender, "To": "+15550001111",
                  "RecordingSid": recording, "RecordingDuration": "14"}  # fmt: skip
        sub.sent = True
        r = self.signed("/twilio/voice/recorded?lang=en&consent=0&contact=2", params)
        statuses[f"voice {r.status_code}"] += 1
        spoken = SPOKEN.findall(r.text)
        if r.status_code != 200 or not spoken:
            raise Gone(str(r.status_code))  # Twilio retries the webhook
        sub.receipts.update(s.replace(", ", "-").replace(" ", "") for s in spoken)
        sub.acked = True
        # The recording's status callback: the fetcher tries a closed local port and keeps a sealed
        # "recording missing" note. Not part of the acknowledgement.
        status = {**params, "RecordingStatus": "completed",
                  "RecordingUrl": f"{self.base}/2010-04-01/Accounts/{ACCOUNT}/Recordings/{recording}"}  # fmt: skip
        with contextlib.suppress(Gone):
            self.signed("/twilio/voice/recording", status)


# -- the server ----------------------------------------------------------------------------------------
class Server:
    def __init__(self, home: Path, log: Path, dead_api: str) -> None:
        self.home = home
        self.log = log
        self.dead_api = dead_api
        self.proc: subprocess.Popen[bytes] | None = None
        self.base = ""

    def start(self, timeout: float = 45.0) -> None:
        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("INTAKE_", "TWILIO_"))}
        env.update({
            "INTAKE_RATE_LIMIT_PER_MINUTE": "0", "INTAKE_LOG_LEVEL": "INFO", "PYTHONIOENCODING": "utf-8",
            "INTAKE_PUBLIC_URL": self.base, "TWILIO_AUTH_TOKEN": TOKEN, "TWILIO_ACCOUNT_SID": ACCOUNT,
            "INTAKE_TWILIO_API_BASE": self.dead_api, "INTAKE_SMSSYNC_SECRET": GATEWAY_SECRET,
        })  # fmt: skip
        argv = [sys.executable, "-m", "intake.cli", "--home", str(self.home), "serve", "--host", "127.0.0.1",
                "--port", str(port)]  # fmt: skip
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=env)
        deadline = clock.monotonic() + timeout
        while clock.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"intake serve exited with {self.proc.returncode}; see {self.log}")
            try:
                if httpx.get(self.base + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        self.kill()
        raise SystemExit(f"intake serve did not answer /healthz within {timeout:.0f} s")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait(timeout=30)


# -- one cycle -----------------------------------------------------------------------------------------
@dataclass
class Run:
    rng: random.Random
    subs: list[Submission] = field(default_factory=list)
    pending: deque[Submission] = field(default_factory=deque)
    statuses: Tally = field(default_factory=Tally)
    lock: threading.Lock = field(default_factory=threading.Lock)
    workers: list[threading.Thread] = field(default_factory=list)

    def next_job(self, fresh: bool) -> Submission | None:
        with self.lock:
            if self.pending:
                return self.pending.popleft()
            if not fresh:
                return None
            sub = new_submission(self.rng)
            self.subs.append(sub)
            return sub

    def after(self, sub: Submission, gone: bool) -> None:
        """A job whose server went away is retried later if its sender would; else it ends."""
        with self.lock:
            sub.tries += 1
            if gone and not sub.acked and sub.retries and sub.tries < MAX_TRIES:
                self.pending.append(sub)
            elif gone and not sub.acked:
                sub.gave_up = True

    def burst(self, base: str, threads: int, stop: threading.Event, fresh: bool) -> None:
        """Client threads send until ``stop`` (or, without fresh work, until the retries are done)."""

        def client() -> None:
            with httpx.Client(timeout=15) as http:
                sender = Sender(http, base)
                while not stop.is_set():
                    sub = self.next_job(fresh)
                    if sub is None:
                        return
                    try:
                        sender.run(sub, self.statuses)
                    except Gone:
                        self.statuses["no answer"] += 1  # killed (or not up yet) while it was sent
                        self.after(sub, gone=True)
                        if not fresh:
                            time.sleep(0.05)
                        continue
                    self.after(sub, gone=False)

        self.workers = [threading.Thread(target=client, daemon=True) for _ in range(threads)]
        for w in self.workers:
            w.start()

    def join(self, timeout: float = 60.0) -> None:
        deadline = clock.monotonic() + timeout
        for w in self.workers:
            w.join(max(0.1, deadline - clock.monotonic()))


# -- the end: drain and count ---------------------------------------------------------------------------
def count(home: Path, run: Run) -> tuple[dict[str, Counter[str]], dict[str, int]]:
    settings = Settings.load(home, env={})
    keys = unlock(settings, None, PASSPHRASE)
    inbox, cases = open_inbox(settings), open_cases(settings, keys)
    try:
        result = drain(inbox, cases, keys)
        rows = cases.list_cases()
        left = inbox.count()
        voice_hashes = Counter(bytes(cases.receipt_hash(c.id) or b"") for c in rows if c.channel.value == "voice")
    finally:
        inbox.close()
        cases.close()
    markers: Counter[str] = Counter()  # how many cases hold each marker
    inside: Counter[str] = Counter()  # how often a marker is in one case's text (a message kept twice)
    for case in rows:
        found = Counter(MARKER.findall(case.description))
        markers.update(found.keys())
        for m, n in found.items():
            inside[m] = max(inside[m], n)
    service = IntakeService.open(settings)
    try:

        def hashes(sub: Submission) -> list[bytes]:
            return [bytes(service.receipts.hash(code)) for r in sub.receipts if (code := parse_receipt(r))]

        table: dict[str, Counter[str]] = {}
        claimed: set[bytes] = set()
        for sub in run.subs:
            if not sub.sent:
                continue
            # Calls carry no text: found by their receipt. Everything else by the marker in its text.
            if sub.kind == "voice":
                claimed.update(hashes(sub))
            times = sum(voice_hashes[h] for h in hashes(sub)) if sub.kind == "voice" else markers[sub.marker]
            doubled = times > 1 or inside[sub.marker] > 1 or len(sub.receipts) > 1
            row = table.setdefault(sub.kind, Counter())
            row["sent"] += 1
            row["acknowledged"] += sub.acked
            row["stored"] += times > 0
            row["lost"] += sub.acked and times == 0
            row["doubled"] += doubled
            row["unacknowledged-but-kept"] += (not sub.acked) and times > 0
        # A call case whose receipt no caller heard: a retry stored the call again under another
        # receipt (every caller retries until it hears one), unless its caller gave up unanswered.
        orphans = sum(n for h, n in voice_hashes.items() if h not in claimed)
        unanswered = sum(1 for sub in run.subs if sub.kind == "voice" and sub.sent and not sub.acked)
        voice = table.setdefault("voice", Counter())
        voice["doubled"] += max(0, orphans - unanswered)
        voice["unacknowledged-but-kept"] += min(orphans, unanswered)
    finally:
        service.close()
    stray = sum(1 for c in rows if not MARKER.search(c.description) and c.channel.value != "voice")
    facts = {"cases": len(rows), "drained": result.cases, "followups": result.followups,
             "unreadable": result.unreadable, "left in inbox": left, "cases of no submission": stray + orphans}  # fmt: skip
    return table, facts


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cycles", type=int, default=None, help="kill -9 cycles (default 100; quick 10)")
    ap.add_argument("--quick", action="store_true", help="10 shorter cycles (unless --cycles is given)")
    ap.add_argument("--threads", type=int, default=16, help="client threads (default 16)")
    ap.add_argument(
        "--burst", type=float, default=None, help="longest time before the kill, s (default 3.0; quick 1.5)"
    )
    ap.add_argument("--max-seconds", type=float, default=1800, help="stop starting cycles after this (default 1800)")
    ap.add_argument("--seed", type=int, default=None, help="random seed (default: a new one, printed)")
    ap.add_argument("--keep", action="store_true", help="keep the throwaway node and server log")
    args = ap.parse_args(argv)
    cycles = args.cycles if args.cycles is not None else (10 if args.quick else 100)
    burst = args.burst if args.burst is not None else (1.5 if args.quick else 3.0)
    seed = args.seed if args.seed is not None else secrets.randbelow(2**31)
    rng = random.Random(seed)

    folder = Path(tempfile.mkdtemp(prefix="intake-chaos-"))
    home, log = folder / "node", folder / "server.log"
    settings = Settings.load(home, env={}, rate_limit_per_minute=0)
    init_node(settings, user=USER, passphrase=PASSPHRASE, profile=TEST_PROFILE)
    server = Server(home, log, dead_api=f"http://127.0.0.1:{free_port()}")
    run = Run(rng)
    started = clock.monotonic()
    print(f"chaos: {cycles} kill -9 cycles, {args.threads} client threads, seed {seed}, node {home}", flush=True)
    done = 0
    try:
        for cycle in range(cycles):
            if clock.monotonic() - started > args.max_seconds:
                print(f"time limit reached after {done} cycles", flush=True)
                break
            server.start()
            stop = threading.Event()
            run.burst(server.base, args.threads, stop, fresh=True)
            time.sleep(rng.uniform(0.05, burst))
            stop.set()  # no new requests; those in flight meet the kill
            server.kill()  # SIGKILL at a random moment of the burst
            run.join()
            done += 1
            if (cycle + 1) % 10 == 0 or cycle + 1 == cycles:
                acked = sum(s.acked for s in run.subs)
                print(f"  cycle {cycle + 1}: {len(run.subs)} submissions, {acked} acknowledged, "
                      f"{len(run.pending)} waiting to retry, {clock.monotonic() - started:.0f} s", flush=True)  # fmt: skip
        # Settle: one last start without a kill; every sender that retries gets its answer.
        server.start()
        stop = threading.Event()
        run.burst(server.base, args.threads, stop, fresh=False)
        run.join(timeout=120)
        stop.set()
        server.kill()
        table, facts = count(home, run)
        log_text = log.read_text(errors="replace") if log.exists() else ""
    finally:
        server.kill()
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)

    elapsed = clock.monotonic() - started
    cols = ["sent", "acknowledged", "stored", "lost", "doubled", "unacknowledged-but-kept"]
    total: Counter[str] = Counter()
    print(f"\n{done} kill -9 cycles in {elapsed:.0f} s (web: JSON API + form; SMS: Twilio webhook + SMSSync; voice)")
    print(f"{'channel':<10}" + "".join(f"{c:>25}" if c.startswith("unack") else f"{c:>14}" for c in cols))
    for kind in KINDS:
        row = table.get(kind, Counter())
        total.update(row)
        print(f"{kind:<10}" + "".join(f"{row[c]:>25}" if c.startswith("unack") else f"{row[c]:>14}" for c in cols))
    print(f"{'total':<10}" + "".join(f"{total[c]:>25}" if c.startswith("unack") else f"{total[c]:>14}" for c in cols))
    gave_up = sum(s.gave_up and s.retries for s in run.subs)
    fives = {k: v for k, v in sorted(run.statuses.counts.items()) if k.split()[-1].startswith("5")}
    print("drain: " + ", ".join(f"{k} {v}" for k, v in facts.items()))
    print(f"retrying senders that gave up: {gave_up}; 5xx answers: {fives or 0}; "
          f"server log lines at ERROR: {log_text.count(' ERROR ')}, 'status=500': {log_text.count('status=500')}")  # fmt: skip
    print(f"answers: {dict(sorted(run.statuses.counts.items()))}")
    print(f"acknowledged {total['acknowledged']}, stored {total['stored']}, lost {total['lost']}, "
          f"doubled {total['doubled']}, unacknowledged-but-kept {total['unacknowledged-but-kept']}")  # fmt: skip
    if args.keep:
        print(f"kept: {folder}")
    return 1 if total["lost"] or total["doubled"] else 0


if __name__ == "__main__":
    sys.exit(main())
