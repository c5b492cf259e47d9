"""The alert queue on inbox.db (issue 17 item 3; the logic is in intake/alerts.py).

Two tables (INBOX_MIGRATIONS 10). ``alert_counts``: how many urgent reports and newly overdue CAP
steps arrived since the last notice was composed; a count, never a row per report, so the queue
says nothing about which item, when, or from which channel. ``alert_outbox``: one composed notice
per recipient (transport + a coordinator's address from settings), counts summed while it waits.
A few meta keys hold the last compose time and the overdue watermark.
"""

from __future__ import annotations

from dataclasses import dataclass

from intake.store.db import Connection
from intake.store.inbox import Inbox

KINDS = ("urgent", "overdue")
COMPOSED_AT = "alerts_composed_at"  # meta: unix seconds of the last notice composed
OVERDUE_THROUGH = "alerts_overdue_through"  # meta: the day (ISO) up to which overdue steps were counted


@dataclass(frozen=True)
class Pending:
    id: int
    transport: str
    recipient: str
    urgent: int
    overdue: int
    attempts: int


def add_counts(inbox: Inbox, urgent: int = 0, overdue: int = 0) -> None:
    """Add to the counts of the next notice (one small durable transaction)."""
    if urgent <= 0 and overdue <= 0:
        return
    with inbox._write() as conn:
        _add(conn, urgent, overdue)


def _add(conn: Connection, urgent: int, overdue: int) -> None:
    for kind, n in (("urgent", urgent), ("overdue", overdue)):
        if n > 0:
            conn.execute(
                "INSERT INTO alert_counts (kind, n) VALUES (?, ?) ON CONFLICT(kind) DO UPDATE SET n = n + excluded.n",
                (kind, n),
            )


def counts(inbox: Inbox) -> dict[str, int]:
    with inbox._lock:
        rows = inbox._conn.execute("SELECT kind, n FROM alert_counts").fetchall()
    return {str(k): int(n) for k, n in rows}


def add_overdue_since(inbox: Inbox, watermark: str | None, today: str, n: int) -> bool:
    """Count ``n`` steps newly overdue since ``watermark`` and move it to ``today``, unless another
    desk moved it meanwhile (then nothing: that desk counted them). True when counted."""
    with inbox._write() as conn:
        row = conn.execute("SELECT value FROM meta WHERE key = ?", (OVERDUE_THROUGH,)).fetchone()
        if (str(row[0]) if row else None) != watermark:
            return False
        _set_meta(conn, OVERDUE_THROUGH, today)
        _add(conn, 0, n)
    return True


def _set_meta(conn: Connection, key: str, value: str) -> None:
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (key, value),
    )


def compose(inbox: Inbox, recipients: list[tuple[str, str]], now: int, every: int) -> bool:
    """Turn the counts into one notice per recipient, at most once per ``every`` seconds: summed into
    a notice still waiting for that recipient (a service down for a day sends one notice, not 96).
    True when a notice was composed. With no recipient the counts are dropped (nobody to tell)."""
    with inbox._write() as conn:
        row = conn.execute("SELECT value FROM meta WHERE key = ?", (COMPOSED_AT,)).fetchone()
        if row is not None and now - int(row[0]) < every:
            return False
        found = dict(conn.execute("SELECT kind, n FROM alert_counts").fetchall())
        urgent, overdue = int(found.get("urgent", 0)), int(found.get("overdue", 0))
        if urgent <= 0 and overdue <= 0:
            return False
        for transport, recipient in recipients:
            conn.execute(
                "INSERT INTO alert_outbox (transport, recipient, urgent, overdue, next_at) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT(transport, recipient) DO UPDATE SET urgent = urgent + excluded.urgent, "
                "overdue = overdue + excluded.overdue",
                (transport, recipient, urgent, overdue, now),
            )
        conn.execute("DELETE FROM alert_counts")
        _set_meta(conn, COMPOSED_AT, str(now))
    return True


def claim(inbox: Inbox, now: int, lease: int, limit: int = 20) -> list[Pending]:
    """The notices due now, each leased for ``lease`` seconds so that a second sender (the desk and
    ``intake serve`` on one machine) does not send it too."""
    with inbox._write() as conn:
        rows = conn.execute(
            "SELECT id, transport, recipient, urgent, overdue, attempts FROM alert_outbox "
            "WHERE next_at <= ? ORDER BY id LIMIT ?",
            (now, limit),
        ).fetchall()
        conn.executemany("UPDATE alert_outbox SET next_at = ? WHERE id = ?", [(now + lease, int(r[0])) for r in rows])
    return [Pending(int(r[0]), str(r[1]), str(r[2]), int(r[3]), int(r[4]), int(r[5])) for r in rows]


def sent(inbox: Inbox, notice: Pending, now: int) -> None:
    """``notice`` went out: take its counts off (more may have been summed in while it was sent)."""
    with inbox._write() as conn:
        conn.execute(
            "UPDATE alert_outbox SET urgent = urgent - ?, overdue = overdue - ?, attempts = 0, next_at = ? "
            "WHERE id = ?",
            (notice.urgent, notice.overdue, now, notice.id),
        )
        conn.execute("DELETE FROM alert_outbox WHERE id = ? AND urgent <= 0 AND overdue <= 0", (notice.id,))


def failed(inbox: Inbox, notice: Pending, next_at: int) -> None:
    with inbox._write() as conn:
        conn.execute("UPDATE alert_outbox SET attempts = attempts + 1, next_at = ? WHERE id = ?", (next_at, notice.id))


def drop(inbox: Inbox, notice: Pending) -> None:
    """A notice that must not be sent (its recipient was refused): gone."""
    with inbox._write() as conn:
        conn.execute("DELETE FROM alert_outbox WHERE id = ?", (notice.id,))


def known_reporter(inbox: Inbox, hashes: list[bytes]) -> bool:
    """Whether any of ``hashes`` (keyed hashes of a number, as SMS sessions are kept) is a worker's
    here: a conversation under way, a question texted that waits for its reply, a WhatsApp window."""
    with inbox._lock:
        conn = inbox._conn
        for h in hashes:
            for sql in (
                "SELECT 1 FROM sms_sessions WHERE reporter = ?",
                "SELECT 1 FROM board_questions WHERE reporter = ?",
                "SELECT 1 FROM whatsapp_window WHERE reporter = ?",
            ):
                if conn.execute(sql, (h,)).fetchone() is not None:
                    return True
    return False
