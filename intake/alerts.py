"""Content-free alerts (issue 17 item 3): tell the group's coordinators that something waits.

When an urgent report arrives (triage of the clear report in memory, before it is sealed: nothing
about its urgency is stored beside the item) or a CAP step goes overdue (the desk's hourly check),
a count goes into the queue on inbox.db (intake/store/alerts.py). A background sender (``intake
serve``, and the desk while unlocked) composes at most one notice per ``alert_every_minutes`` and
sends it by SMS, e-mail or ntfy, retrying with back-off. A notice holds counts only, from the
templates below ("2 urgent reports are waiting."): never a case's words, a factory, a receipt, a
phone number, a channel or a time (docs/alerts.md; docs/threat-model.md#alerts). The transports
are in channels/alerts.py; this core knows them only as :data:`Send` functions.

A failing alert service never blocks intake: the report is stored and acknowledged first, the
count is one small local write, and sending happens on another thread with timeouts.
"""

from __future__ import annotations

import contextvars
import hashlib
import hmac
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date

from i18n import d_, dn_, set_desk_locale
from intake import clock
from intake.errors import IntakeError
from intake.node import SESSION_LABEL, IntakeKeys
from intake.settings import Settings
from intake.store import alerts as queue
from intake.store.inbox import Inbox

log = logging.getLogger("intake.alerts")

#: a transport: send(recipient, subject, body); raises on failure (any exception: retried later)
Send = Callable[[str, str, str], None]

BACKOFF_FIRST = 60  # seconds before the first retry, doubled each time
BACKOFF_MAX = 6 * 3600
LEASE = 300  # a claimed notice is not sent by another sender for this long
POLL = 30.0  # how often the sender looks at the queue
STUCK_ATTEMPTS = 5  # intake doctor: a notice tried more often than this is stuck
STUCK_AFTER = 24 * 3600  # or one due for longer than this


def backoff(attempts: int) -> int:
    """Seconds to wait after the ``attempts``-th failure: 1, 2, 4 ... minutes, at most 6 hours."""
    return int(min(BACKOFF_MAX, BACKOFF_FIRST * 2 ** max(0, attempts - 1)))


def compose(urgent: int, overdue: int, locale: str) -> tuple[str, str]:
    """The subject and text of a notice in ``locale`` (the node's default_locale): counts only."""
    subject, sentences = contextvars.copy_context().run(_sentences, urgent, overdue, locale)
    return subject, " ".join(sentences)


def _sentences(urgent: int, overdue: int, locale: str) -> tuple[str, list[str]]:
    set_desk_locale(locale)  # in a copied context: the caller's own desk locale is left as it was
    lines = []
    if urgent > 0:
        lines.append(dn_("{n} urgent report is waiting.", "{n} urgent reports are waiting.", urgent).format(n=urgent))
    if overdue > 0:
        lines.append(
            dn_("{n} corrective action step is overdue.", "{n} corrective action steps are overdue.", overdue).format(
                n=overdue
            )
        )
    lines.append(d_("Open the desk to see them."))
    return d_("Grievance intake: something is waiting"), lines


def templates(locale: str) -> tuple[str, list[str]]:
    """Every sentence a notice may hold in ``locale``, the count written ``{n}`` (the tests'
    allow-list): the subject, and each plural form of each sentence of :func:`compose`."""
    out: list[str] = []
    subject = ""
    for n in range(1, 200):  # every plural form of every shipped language shows up below 200
        subject, lines = contextvars.copy_context().run(_sentences, n, n, locale)
        for line in lines:
            template = line.replace(str(n), "{n}")
            if template not in out:
                out.append(template)
    return subject, out


# -- recipients ----------------------------------------------------------------------------------
def recipients(settings: Settings) -> list[tuple[str, str]]:
    """(transport, address) for every coordinator address in settings."""
    out = [("sms", n) for n in settings.alert_numbers()]
    out += [("email", a) for a in settings.alert_emails()]
    if settings.alert_ntfy_url.strip():
        out.append(("ntfy", settings.alert_ntfy_url.strip()))
    return out


def number_hashes(session_key: bytes, number: str) -> list[bytes]:
    """The keyed hashes an SMS or WhatsApp conversation from ``number`` is kept under
    (channels/sms/service.py ``SmsChannel.reporter``: same key, same address forms)."""
    return [hmac.new(session_key, a.encode(), hashlib.sha256).digest() for a in (number, "whatsapp:" + number)]


def entry_hashes(settings: Settings) -> list[tuple[int, list[bytes]]]:
    """Each ``alert_sms_to`` entry's position (1-based) and the keyed hashes its number would have
    as a reporting worker's (none without the node's intake key)."""
    numbers = settings.alert_numbers()
    if not numbers or not settings.intake_key_path.exists():
        return []
    key = IntakeKeys.load(settings.intake_key_path).key(SESSION_LABEL)
    return [(n, number_hashes(key, number)) for n, number in enumerate(numbers, start=1)]


def refused_entries(settings: Settings, inbox: Inbox) -> list[int]:
    """Positions (1-based) of ``alert_sms_to`` entries that are a reporting worker's number here.

    An alert to a worker's phone would tell whoever holds it that reports wait at a labour group:
    refused, whatever else the setting says (issue 17, "bad input")."""
    return [n for n, hashes in entry_hashes(settings) if queue.known_reporter(inbox, hashes)]


def refusal(n: int) -> str:
    """The message for a refused entry: names the setting and the position, never the number."""
    return d_(
        "alert_sms_to: entry {n} is the number of a worker who reports to this node; "
        "no alert is sent to it. Remove it from alert_sms_to."
    ).format(n=n)


# -- what the intake and the desk note -------------------------------------------------------------
def note_urgent(settings: Settings, inbox: Inbox, n: int = 1) -> None:
    """Count ``n`` urgent reports for the next notice. Called after the report is stored; a store
    failure here loses a count, never the report, and is not the worker's error."""
    if not settings.alerts_on or n <= 0:
        return
    try:
        queue.add_counts(inbox, urgent=n)
    except IntakeError as exc:
        log.warning("alert count not stored: %s", exc.code)


def newly_overdue(conn_lock: threading.Lock | threading.RLock, conn: object, after: str | None, today: str) -> int:
    """CAP steps not done whose due day passed since ``after`` (None: ever), as of ``today``."""
    sql = (
        "SELECT count(*) FROM actions a JOIN cases c ON c.id = a.case_id WHERE a.done_at = '' AND a.due < ? "
        "AND c.status NOT IN ('resolved', 'closed_unresolved', 'withdrawn')"
    )
    args: tuple[str, ...] = (today,)
    if after is not None:
        sql += " AND a.due >= ?"
        args = (today, after)
    with conn_lock:
        row = conn.execute(sql, args).fetchone()  # type: ignore[attr-defined]
    return int(row[0])


def check_overdue(settings: Settings, inbox: Inbox, cases: object, today: date | None = None) -> int:
    """The desk's check (at unlock, then hourly): count the steps that went overdue since the last
    check, once across every desk sharing this inbox. Returns how many were counted."""
    if not settings.alerts_on:
        return 0
    day = (today or clock.now().date()).isoformat()
    watermark = inbox.get_meta(queue.OVERDUE_THROUGH)
    if watermark is not None and watermark >= day:
        return 0
    n = newly_overdue(cases._lock, cases._conn, watermark, day)  # type: ignore[attr-defined]
    return n if queue.add_overdue_since(inbox, watermark, day, n) else 0


# -- the sender ----------------------------------------------------------------------------------
@dataclass
class AlertSender:
    """Composes and sends the queued notices of one inbox through ``transports`` (name -> Send).

    :meth:`run_once` does one round (tests call it directly); :meth:`start` runs it every
    :data:`POLL` seconds on a daemon thread until :meth:`close`. Nothing here runs on a request's
    path: a transport that hangs holds this thread only, up to its own timeout.
    """

    settings: Settings
    inbox: Inbox
    transports: Mapping[str, Send]
    poll: float = POLL
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)
    _told: set[int] = field(default_factory=set, repr=False)

    def run_once(self, now: int | None = None) -> int:
        """Compose when due, then try every notice due; returns how many went out."""
        now = int(clock.time()) if now is None else now
        refused = set(refused_entries(self.settings, self.inbox))
        for n in sorted(refused - self._told):  # once each, not every round
            log.error("%s", refusal(n))
        self._told = refused
        numbers = self.settings.alert_numbers()
        blocked = {numbers[n - 1] for n in refused}
        wanted = [(t, a) for t, a in recipients(self.settings) if t in self.transports and a not in blocked]
        queue.compose(self.inbox, wanted, now, self.settings.alert_every_minutes * 60)
        done = 0
        for notice in queue.claim(self.inbox, now, LEASE):
            send = self.transports.get(notice.transport)
            if send is None or (notice.transport, notice.recipient) not in wanted:
                queue.drop(self.inbox, notice)  # refused since, or no longer in settings: never sent
                continue
            subject, body = compose(notice.urgent, notice.overdue, self.settings.default_locale)
            try:
                send(notice.recipient, subject, body)
            except Exception as exc:  # any failure of the service: retried later, never raised here
                wait = backoff(notice.attempts + 1)
                queue.failed(self.inbox, notice, now + wait)
                # the transport and the kind of error only: no address, no text
                log.warning(
                    "alert not sent transport=%s attempt=%d error=%s; next try in %d s",
                    notice.transport, notice.attempts + 1, type(exc).__name__, wait,
                )  # fmt: skip
                continue
            queue.sent(self.inbox, notice, now)
            done += 1
            log.info("alert sent transport=%s", notice.transport)
        return done

    def start(self) -> AlertSender:
        self._thread = threading.Thread(target=self._loop, name="alert-sender", daemon=True)
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception as exc:  # a background thread must never take the intake down
                log.warning("alert sender round failed: %s", type(exc).__name__)
            self._stop.wait(self.poll)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
