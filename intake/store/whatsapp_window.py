"""The ``whatsapp_window`` table of inbox.db: when each WhatsApp worker last wrote.

Plain SQL on a connection the caller holds (the inbox's, under its lock or in its write transaction;
see :mod:`intake.whatsapp`). A row is keyed by the SMS session's keyed hash of the number, never
the number itself; what the 24-hour rule means is :mod:`intake.whatsapp`'s, this module only stores it.
"""

from __future__ import annotations

from intake.store.db import Connection


def wrote(conn: Connection, reporter: bytes, at: int) -> None:
    """The worker wrote at ``at`` (unix seconds); an older time never moves the window back."""
    conn.execute(
        "INSERT INTO whatsapp_window (reporter, last_at) VALUES (?, ?) "
        "ON CONFLICT(reporter) DO UPDATE SET last_at = max(last_at, excluded.last_at)",
        (reporter, at),
    )


def last_wrote(conn: Connection, reporter: bytes) -> int | None:
    """When the worker last wrote (unix seconds), or None if no window is kept for them."""
    row = conn.execute("SELECT last_at FROM whatsapp_window WHERE reporter = ?", (reporter,)).fetchone()
    return int(row[0]) if row is not None else None


def forget_before(conn: Connection, before: int) -> None:
    """Delete the windows of workers who last wrote before ``before`` (unix seconds)."""
    conn.execute("DELETE FROM whatsapp_window WHERE last_at < ?", (before,))


def defer(conn: Connection, outbox_id: int, next_at: int) -> None:
    """Leave a queued reply for ``next_at`` without counting a failed try (it has not failed)."""
    conn.execute("UPDATE outbox SET next_at = ? WHERE id = ?", (next_at, outbox_id))
